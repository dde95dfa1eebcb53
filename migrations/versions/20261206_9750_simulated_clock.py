"""The simulated clock of demo and test instances (NURTURE_SIMULATED_TIME): one row with
the time of the last ``nurture tick --now`` and the wall-clock time it was set at.

Revision ID: 9750
Revises: 9690
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import nurture.platform.db

revision: str = "9750"
down_revision: str | None = "9690"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "simulated_clock",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("simulated_at", nurture.platform.db.UTCDateTime(), nullable=False),
        sa.Column("set_at", nurture.platform.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_simulated_clock_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_simulated_clock")),
    )


def downgrade() -> None:
    op.drop_table("simulated_clock")
