"""What a person did with each email, on the message: the first human open or click, the
first human click, unsubscribe, bounce report and complaint (``nurture.tracking.engagement``),
filled from the event history; and the messages by send time, for the home page's figures.

Revision ID: 9610
Revises: 9600
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9610"
down_revision: str | None = "9600"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("opened_at", "clicked_at", "unsubscribed_at", "bounce_reported_at", "complained_at")


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.DateTime(), nullable=True))
    op.drop_index("ix_messages_campaign_id_sent_at", table_name="messages")
    if op.get_bind().dialect.name == "postgresql":
        # One hash aggregate over the email events, in memory rather than on disk.
        op.execute("SET LOCAL work_mem = '256MB'")
    # One pass over the email events (UPDATE … FROM: PostgreSQL, SQLite ≥ 3.33).
    op.execute(
        """
        UPDATE messages SET
            opened_at = e.opened_at,
            clicked_at = e.clicked_at,
            unsubscribed_at = e.unsubscribed_at,
            bounce_reported_at = e.bounce_reported_at,
            complained_at = e.complained_at
        FROM (
            SELECT message_id,
                min(CASE WHEN type IN ('email.opened', 'email.clicked')
                    THEN occurred_at END) AS opened_at,
                min(CASE WHEN type = 'email.clicked' THEN occurred_at END) AS clicked_at,
                min(CASE WHEN type = 'email.unsubscribed' THEN occurred_at END)
                    AS unsubscribed_at,
                min(CASE WHEN type = 'email.bounced' THEN occurred_at END)
                    AS bounce_reported_at,
                min(CASE WHEN type = 'email.complained' THEN occurred_at END) AS complained_at
            FROM events
            WHERE message_id IS NOT NULL
              AND is_machine = false
              AND type IN ('email.opened', 'email.clicked', 'email.unsubscribed',
                           'email.bounced', 'email.complained')
            GROUP BY message_id
        ) AS e
        WHERE messages.id = e.message_id
        """
    )
    # On PostgreSQL the period figures are read from these indexes alone (index-only
    # scans); built once the columns are filled.
    op.create_index(
        "ix_messages_campaign_id_sent_at",
        "messages",
        ["campaign_id", "sent_at"],
        postgresql_include=["step_key", *COLUMNS],
    )
    op.create_index("ix_messages_sent_at", "messages", ["sent_at"], postgresql_include=["kind", *COLUMNS])


def downgrade() -> None:
    op.drop_index("ix_messages_sent_at", table_name="messages")
    op.drop_index("ix_messages_campaign_id_sent_at", table_name="messages")
    op.create_index("ix_messages_campaign_id_sent_at", "messages", ["campaign_id", "sent_at"])
    with op.batch_alter_table("messages") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
