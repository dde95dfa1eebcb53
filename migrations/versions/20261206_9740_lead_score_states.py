"""Incremental scoring: each lead's score state (running score, cap counters, the newest
event folded in) and an index of leads' human events by type and id, so a new event is
added to a score without reading the lead's history (docs/scoring.md, "How the score is
kept").

Building the index reads the whole ``events`` table and blocks writes to it while it
runs: run it when the worker is stopped, as every migration. Leads get a state at their
next rescore (or all at once with ``nurture scoring rescore``).

Revision ID: 9740
Revises: 9720
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import nurture.platform.db

revision: str = "9740"
down_revision: str | None = "9720"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lead_score_states",
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("value_at", nurture.platform.db.UTCDateTime(), nullable=True),
        sa.Column("last_at", nurture.platform.db.UTCDateTime(), nullable=True),
        sa.Column("last_id", sa.Integer(), nullable=True),
        sa.Column("max_id", sa.Integer(), nullable=True),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("id_sum", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=True),
        sa.Column("day_used", sa.JSON(), nullable=False),
        sa.Column("total_used", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_lead_score_states_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["scoring_versions.id"],
            name=op.f("fk_lead_score_states_version_id_scoring_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("lead_id", name=op.f("pk_lead_score_states")),
    )
    op.create_index("ix_events_lead_id_scored", "events", ["lead_id", "is_machine", "type", "id"])


def downgrade() -> None:
    op.drop_index("ix_events_lead_id_scored", table_name="events")
    op.drop_table("lead_score_states")
