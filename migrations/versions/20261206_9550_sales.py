"""Sales pages: why a deal was lost, and the indexes of a rep's inbox and the rejections.

Revision ID: 9550
Revises: 9520
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9550"
down_revision: str | None = "9520"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("lost_reason", sa.String(length=200), nullable=True))
    op.create_index(
        "ix_handoffs_rep_id_created_at", "handoffs", ["rep_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_handoffs_status_decided_at", "handoffs", ["status", "decided_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_handoffs_status_decided_at", table_name="handoffs")
    op.drop_index("ix_handoffs_rep_id_created_at", table_name="handoffs")
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_column("lost_reason")
