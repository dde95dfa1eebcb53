"""Qualification: lifecycle stage changes, ICP/readiness file versions, fit grades on leads.

Revision ID: 9140
Revises: 6630
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import nurture.platform.db

revision: str = "9140"
down_revision: str | None = "6630"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stage_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("from_stage", sa.String(length=20), nullable=True),
        sa.Column("to_stage", sa.String(length=20), nullable=False),
        sa.Column("at", nurture.platform.db.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("rule", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_stage_changes_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_changes")),
    )
    op.create_index("ix_stage_changes_lead_id_at", "stage_changes", ["lead_id", "at"])
    op.create_table(
        "qualification_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source_path", sa.String(length=500), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", nurture.platform.db.UTCDateTime(), nullable=False),
        sa.Column("activated_at", nurture.platform.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qualification_versions")),
        sa.UniqueConstraint(
            "kind", "checksum", name=op.f("uq_qualification_versions_kind_checksum")
        ),
        sa.UniqueConstraint("kind", "number", name=op.f("uq_qualification_versions_kind_number")),
    )
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fit_score", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("fit_grade", sa.String(length=1), nullable=True))
        batch_op.add_column(sa.Column("fit_reasons", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("fit_missing", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("fit_graded_at", nurture.platform.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("fit_version_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_leads_fit_grade"), ["fit_grade"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_leads_fit_version_id_qualification_versions"),
            "qualification_versions",
            ["fit_version_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_leads_fit_version_id_qualification_versions"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_leads_fit_grade"))
        for column in (
            "fit_version_id",
            "fit_graded_at",
            "fit_missing",
            "fit_reasons",
            "fit_grade",
            "fit_score",
        ):
            batch_op.drop_column(column)
    op.drop_table("qualification_versions")
    op.drop_index("ix_stage_changes_lead_id_at", table_name="stage_changes")
    op.drop_table("stage_changes")
