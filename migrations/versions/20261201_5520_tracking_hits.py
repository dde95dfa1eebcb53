"""Tracking: raw hits and web visitors.

Revision ID: 5520
Revises: 4410
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import nurture.platform.db

revision: str = "5520"
down_revision: str | None = "4410"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tracking_hits",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=True),
        sa.Column("visitor_id", sa.String(length=64), nullable=True),
        sa.Column("link_index", sa.Integer(), nullable=True),
        sa.Column("link_count", sa.Integer(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("occurred_at", nurture.platform.db.UTCDateTime(), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("user_agent", sa.String(length=500), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("network", sa.String(length=30), nullable=True),
        sa.Column("prefetch", sa.Boolean(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("processed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_hits")),
    )
    op.create_index(
        "ix_tracking_hits_processed_id", "tracking_hits", ["processed", "id"], unique=False
    )
    op.create_index(
        "ix_tracking_hits_token_occurred_at",
        "tracking_hits",
        ["token", "occurred_at"],
        unique=False,
    )
    op.create_table(
        "tracking_visitors",
        sa.Column("visitor_id", sa.String(length=64), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("first_seen_at", nurture.platform.db.UTCDateTime(), nullable=False),
        sa.Column("identified_at", nurture.platform.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_tracking_visitors_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("visitor_id", name=op.f("pk_tracking_visitors")),
    )
    op.create_index(
        op.f("ix_tracking_visitors_email"), "tracking_visitors", ["email"], unique=False
    )
    op.create_index(
        op.f("ix_tracking_visitors_lead_id"), "tracking_visitors", ["lead_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_tracking_visitors_lead_id"), table_name="tracking_visitors")
    op.drop_index(op.f("ix_tracking_visitors_email"), table_name="tracking_visitors")
    op.drop_table("tracking_visitors")
    op.drop_index("ix_tracking_hits_token_occurred_at", table_name="tracking_hits")
    op.drop_index("ix_tracking_hits_processed_id", table_name="tracking_hits")
    op.drop_table("tracking_hits")
