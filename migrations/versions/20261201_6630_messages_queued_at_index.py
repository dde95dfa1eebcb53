"""Index messages by queue time, for the warm-up and domain-throttle counts.

Revision ID: 6630
Revises: 5520
"""

from collections.abc import Sequence

from alembic import op

revision: str = "6630"
down_revision: str | None = "5520"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_messages_queued_at", "messages", ["queued_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_messages_queued_at", table_name="messages")
