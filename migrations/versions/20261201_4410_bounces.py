"""Bounces and complaints: receipts, lead soft-bounce counter, bounce marks on messages.

Revision ID: 4410
Revises: 8120
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import nurture.platform.db

revision: str = "4410"
down_revision: str | None = "8120"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bounce_receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("received_at", nurture.platform.db.UTCDateTime(), nullable=False),
        sa.Column("outcomes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bounce_receipts")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_bounce_receipts_fingerprint")),
    )
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("soft_bounce_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("bounced_at", nurture.platform.db.UTCDateTime(), nullable=True))
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bounced_at", nurture.platform.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("bounce_status", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("bounce_decision", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("bounce_decision")
        batch_op.drop_column("bounce_status")
        batch_op.drop_column("bounced_at")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_column("bounced_at")
        batch_op.drop_column("soft_bounce_count")
    op.drop_table("bounce_receipts")
