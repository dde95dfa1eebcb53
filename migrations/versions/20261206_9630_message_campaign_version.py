"""The campaign version that sent each message (``messages.campaign_version_id``), for the
campaign results per version (docs/analytics.md, "Email and campaign results").

The engine sends every campaign email from the campaign's active version and now records
it. Messages sent before this revision are given the version that was the newest of their
campaign when they were sent (``campaign_versions.created_at``): exact unless an edit was
undone by restoring an older file (that brings an older version back without a new row).

Revision ID: 9630
Revises: 9620
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9630"
down_revision: str | None = "9620"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOREIGN_KEY = "fk_messages_campaign_version_id_campaign_versions"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its reference in place; a batch rebuild would drop and
        # re-create the table, and dropping it sets every event's message_id to null
        # (ON DELETE SET NULL) when foreign keys are enforced.
        op.execute(
            "ALTER TABLE messages ADD COLUMN campaign_version_id INTEGER"
            f" CONSTRAINT {FOREIGN_KEY} REFERENCES campaign_versions (id)"
        )
    else:
        op.add_column("messages", sa.Column("campaign_version_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            FOREIGN_KEY, "messages", "campaign_versions", ["campaign_version_id"], ["id"]
        )
    op.execute(
        """
        UPDATE messages SET campaign_version_id = (
            SELECT v.id FROM campaign_versions AS v
            WHERE v.campaign_id = messages.campaign_id
              AND v.created_at <= COALESCE(messages.sent_at, messages.queued_at)
            ORDER BY v.created_at DESC, v.number DESC
            LIMIT 1
        )
        WHERE campaign_id IS NOT NULL
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot drop a column a reference names: a batch rebuild, as the other
        # downgrades of the messages table do.
        with op.batch_alter_table("messages") as batch:
            batch.drop_constraint(FOREIGN_KEY, type_="foreignkey")
            batch.drop_column("campaign_version_id")
        return
    op.drop_constraint(FOREIGN_KEY, "messages", type_="foreignkey")
    op.drop_column("messages", "campaign_version_id")
