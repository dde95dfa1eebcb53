"""Revenue entries: renewals, upsells and other revenue booked per account after the first
won deal (the customer lifetime value and attribution reports).

Revision ID: 9640
Revises: 9650
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9640"
down_revision: str | None = "9650"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "revenue_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("who", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_revenue_entries_account_id_booked_on",
        "revenue_entries",
        ["account_id", "booked_on"],
    )
    op.create_index("ix_revenue_entries_booked_on", "revenue_entries", ["booked_on"])
    op.create_index("ix_revenue_entries_lead_id", "revenue_entries", ["lead_id"])


def downgrade() -> None:
    op.drop_index("ix_revenue_entries_lead_id", table_name="revenue_entries")
    op.drop_index("ix_revenue_entries_booked_on", table_name="revenue_entries")
    op.drop_index("ix_revenue_entries_account_id_booked_on", table_name="revenue_entries")
    op.drop_table("revenue_entries")
