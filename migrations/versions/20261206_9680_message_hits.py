"""The rest of the campaign results on the message: the first open and the first click
flagged as a machine's, and the number of human clicks (``nurture.tracking.engagement``),
filled from the event history, so the results of a year of email read messages, not events.

Revision ID: 9680
Revises: 9660
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9680"
down_revision: str | None = "9660"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE on both backends (SQLite ≥ 3.35 drops columns too): a batch
    # rebuild of messages on SQLite would unlink the events that point at it.
    op.add_column("messages", sa.Column("machine_opened_at", sa.DateTime(), nullable=True))
    op.add_column("messages", sa.Column("machine_clicked_at", sa.DateTime(), nullable=True))
    op.add_column(
        "messages", sa.Column("human_clicks", sa.Integer(), nullable=False, server_default="0")
    )
    if op.get_bind().dialect.name == "postgresql":
        # One hash aggregate over the email hits, in memory rather than on disk.
        op.execute("SET LOCAL work_mem = '256MB'")
    # One pass over the email hits (UPDATE … FROM: PostgreSQL, SQLite ≥ 3.33).
    op.execute(
        """
        UPDATE messages SET
            machine_opened_at = e.machine_opened_at,
            machine_clicked_at = e.machine_clicked_at,
            human_clicks = e.human_clicks
        FROM (
            SELECT message_id,
                min(CASE WHEN type = 'email.opened' AND is_machine = true
                    THEN occurred_at END) AS machine_opened_at,
                min(CASE WHEN type = 'email.clicked' AND is_machine = true
                    THEN occurred_at END) AS machine_clicked_at,
                sum(CASE WHEN type = 'email.clicked' AND is_machine = false
                    THEN 1 ELSE 0 END) AS human_clicks
            FROM events
            WHERE message_id IS NOT NULL
              AND type IN ('email.opened', 'email.clicked')
            GROUP BY message_id
        ) AS e
        WHERE messages.id = e.message_id
        """
    )


def downgrade() -> None:
    for name in ("human_clicks", "machine_clicked_at", "machine_opened_at"):
        op.drop_column("messages", name)
