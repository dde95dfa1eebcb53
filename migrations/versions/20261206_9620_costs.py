"""Marketing costs: the costs file's versions and every cost entry, from the file or the
app (docs/costs.md).

Revision ID: 9620
Revises: 9640
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import nurture.platform.db

revision: str = "9620"
down_revision: str | None = "9640"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cost_file_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source_path", sa.String(length=500), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", nurture.platform.db.UTCDateTime(), nullable=False),
        sa.Column("activated_at", nurture.platform.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cost_file_versions")),
        sa.UniqueConstraint("checksum", name=op.f("uq_cost_file_versions_checksum")),
        sa.UniqueConstraint("number", name=op.f("uq_cost_file_versions_number")),
    )
    op.create_table(
        "costs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("campaign", sa.String(length=100), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("origin", sa.String(length=10), nullable=False),
        sa.Column("file_line", sa.Integer(), nullable=True),
        sa.Column("entered_by", sa.String(length=320), nullable=False),
        sa.Column("entered_at", nurture.platform.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", nurture.platform.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_costs")),
        sa.UniqueConstraint(
            "month", "source", "campaign", name=op.f("uq_costs_month_source_campaign")
        ),
    )


def downgrade() -> None:
    op.drop_table("costs")
    op.drop_table("cost_file_versions")
