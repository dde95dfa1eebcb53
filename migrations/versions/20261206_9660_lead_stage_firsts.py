"""Each lead's first time in each funnel stage (``lead_stage_firsts``), beside its creation:
the roll-up the cohort view and the sales cycle read instead of every stage change
(``nurture.analytics.rollup``), filled from the stage history.

Revision ID: 9660
Revises: 9630
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9660"
down_revision: str | None = "9630"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAGES = ("mql", "sal", "sql", "opportunity", "customer")


def _rank(column: str) -> str:
    whens = " ".join(f"WHEN '{stage}' THEN {rank}" for rank, stage in enumerate(STAGES, 1))
    return f"CASE {column} {whens} ELSE 0 END"


def _first(stage: str, rank: int) -> str:
    # A change enters a stage when it moves from below it to it or past it, or goes to it
    # (nurture.analytics.definitions.entered_stages).
    enters = (
        f"({_rank('c.to_stage')} >= {rank} AND {_rank('c.from_stage')} < {rank})"
        f" OR c.to_stage = '{stage}'"
    )
    return f"min(CASE WHEN {enters} THEN c.at END) AS {stage}_at"


def upgrade() -> None:
    op.create_table(
        "lead_stage_firsts",
        sa.Column("lead_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        *(sa.Column(f"{stage}_at", sa.DateTime(), nullable=True) for stage in STAGES),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_lead_stage_firsts_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("lead_id", name=op.f("pk_lead_stage_firsts")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # One hash aggregate over the stage changes, in memory rather than on disk.
        op.execute("SET LOCAL work_mem = '256MB'")
    columns = ", ".join(f"{stage}_at" for stage in STAGES)
    firsts = ",\n            ".join(_first(stage, rank) for rank, stage in enumerate(STAGES, 1))
    in_funnel = ", ".join(f"'{stage}'" for stage in STAGES)
    op.execute(
        f"""
        INSERT INTO lead_stage_firsts (lead_id, created_at, {columns})
        SELECT c.lead_id, min(l.created_at) AS created_at,
            {firsts}
        FROM stage_changes c JOIN leads l ON l.id = c.lead_id
        WHERE c.to_stage IN ({in_funnel})
        GROUP BY c.lead_id
        """
    )
    op.create_index(
        op.f("ix_lead_stage_firsts_created_at"), "lead_stage_firsts", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_lead_stage_firsts_created_at"), table_name="lead_stage_firsts")
    op.drop_table("lead_stage_firsts")
