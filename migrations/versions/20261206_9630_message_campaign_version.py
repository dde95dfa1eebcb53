"""The campaign version that sent each message (``messages.campaign_version_id``), for the
campaign results per version (docs/analytics.md, "Email and campaign results").

The engine sends every campaign email from the campaign's active version and now records
it. Messages sent before this revision are given the version that was the newest of their
campaign when they were sent (``campaign_versions.created_at``): exact unless an edit was
undone by restoring an older file (that brings an older version back without a new row).

Revision ID: 9630
Revises: 9610
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9630"
down_revision: str | None = "9610"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("campaign_version_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_messages_campaign_version_id_campaign_versions"),
            "campaign_versions",
            ["campaign_version_id"],
            ["id"],
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
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint(
            batch.f("fk_messages_campaign_version_id_campaign_versions"), type_="foreignkey"
        )
        batch.drop_column("campaign_version_id")
