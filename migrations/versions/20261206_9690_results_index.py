"""The messages by send time carry everything the campaign results count and group by
(PostgreSQL): a year of emails is then read from the index alone (an index-only scan of
about a fifth of the table's size) instead of the whole table.

Rebuilding the index blocks writes to ``messages`` while it runs (seconds per million
messages): run it when the worker is stopped, as every migration.

Revision ID: 9690
Revises: 9680
"""

from collections.abc import Sequence

from alembic import op

revision: str = "9690"
down_revision: str | None = "9680"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENGAGEMENT = ("opened_at", "clicked_at", "unsubscribed_at", "bounce_reported_at", "complained_at")
INCLUDE = (
    "kind", "campaign_id", "campaign_version_id", "lead_id", "enrollment_id", "step_key",
    "template", "bounce_decision", *ENGAGEMENT,
    "machine_opened_at", "machine_clicked_at", "human_clicks",
)  # fmt: skip


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite has no covering indexes: the index stays as it is.
    op.drop_index("ix_messages_sent_at", table_name="messages")
    op.create_index(
        "ix_messages_sent_at", "messages", ["sent_at"], postgresql_include=list(INCLUDE)
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_messages_sent_at", table_name="messages")
    op.create_index(
        "ix_messages_sent_at", "messages", ["sent_at"], postgresql_include=["kind", *ENGAGEMENT]
    )
