"""The weekly report digest: who asked for it, and which weeks each person was sent.

Revision ID: 9670
Revises: 9610
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import nurture.platform.db

revision: str = "9670"
down_revision: str | None = "9610"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", nurture.platform.db.UTCDateTime(), nullable=False),
        sa.Column("sent_at", nurture.platform.db.UTCDateTime(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_report_digests_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_digests")),
        sa.UniqueConstraint(
            "user_id", "week_start", name=op.f("uq_report_digests_user_id_week_start")
        ),
    )
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(
            sa.Column("weekly_digest", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("weekly_digest")
    op.drop_table("report_digests")
