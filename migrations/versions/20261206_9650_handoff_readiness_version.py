"""The readiness file's version a handoff's rule came from (the sales feedback report groups
by rule version); handoffs made before are reported under "unknown version".

Revision ID: 9650
Revises: 9670
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9650"
down_revision: str | None = "9670"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("readiness_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_column("readiness_version")
