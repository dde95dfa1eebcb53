"""Handoff: sales team versions and reps, handoffs and their action log, lead and account
owners.

Revision ID: 9260
Revises: 9140
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import nurture.platform.db

revision: str = "9260"
down_revision: str | None = "9140"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sales_team_versions",
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_team_versions")),
        sa.UniqueConstraint("checksum", name=op.f("uq_sales_team_versions_checksum")),
        sa.UniqueConstraint("number", name=op.f("uq_sales_team_versions_number")),
    )
    op.create_table(
        "sales_reps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("working_hours", sa.String(length=100), nullable=False),
        sa.Column("territories", sa.JSON(), nullable=False),
        sa.Column("segments", sa.JSON(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("out_of_office_until", sa.Date(), nullable=True),
        sa.Column("manager_email", sa.String(length=320), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("in_team", sa.Boolean(), nullable=False),
        sa.Column("last_assigned_seq", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_assigned_at", nurture.platform.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", nurture.platform.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", nurture.platform.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_reps")),
        sa.UniqueConstraint("email", name=op.f("uq_sales_reps_email")),
    )
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("open_lead_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("rep_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("assignment_method", sa.String(length=20), nullable=False),
        sa.Column("assignment_rule", sa.String(length=100), nullable=True),
        sa.Column("assignment_reason", sa.String(length=1000), nullable=False),
        sa.Column("needs_owner", sa.Boolean(), nullable=False),
        sa.Column("qualification_rule", sa.String(length=100), nullable=False),
        sa.Column("qualification_reasons", sa.JSON(), nullable=False),
        sa.Column("hand_raiser", sa.Boolean(), nullable=False),
        sa.Column("fit_grade", sa.String(length=2), nullable=True),
        sa.Column("fit_score", sa.Float(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("temperature", sa.String(length=10), nullable=True),
        sa.Column("campaign", sa.String(length=100), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("notification_message_id", sa.Integer(), nullable=True),
        sa.Column("auto_reply_message_id", sa.Integer(), nullable=True),
        sa.Column("previous_id", sa.Integer(), nullable=True),
        sa.Column("created_at", nurture.platform.db.UTCDateTime(), nullable=False),
        sa.Column("decided_at", nurture.platform.db.UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=320), nullable=True),
        sa.Column("reject_reason", sa.String(length=50), nullable=True),
        sa.Column("reject_note", sa.String(length=2000), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("outcome_at", nurture.platform.db.UTCDateTime(), nullable=True),
        sa.Column("deal_value", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("deal_currency", sa.String(length=3), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"],
            name=op.f("fk_handoffs_account_id_accounts"), ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["auto_reply_message_id"], ["messages.id"],
            name=op.f("fk_handoffs_auto_reply_message_id_messages"), ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_handoffs_lead_id_leads"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["notification_message_id"], ["messages.id"],
            name=op.f("fk_handoffs_notification_message_id_messages"), ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["previous_id"], ["handoffs.id"],
            name=op.f("fk_handoffs_previous_id_handoffs"), ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["rep_id"], ["sales_reps.id"],
            name=op.f("fk_handoffs_rep_id_sales_reps"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoffs")),
        sa.UniqueConstraint("open_lead_id", name=op.f("uq_handoffs_open_lead_id")),
        sa.UniqueConstraint("token", name=op.f("uq_handoffs_token")),
    )
    op.create_index("ix_handoffs_auto_reply_message_id", "handoffs", ["auto_reply_message_id"])
    op.create_index("ix_handoffs_lead_id", "handoffs", ["lead_id"])
    op.create_index(
        "ix_handoffs_notification_message_id", "handoffs", ["notification_message_id"]
    )
    op.create_index("ix_handoffs_reject_reason", "handoffs", ["reject_reason"])
    op.create_index("ix_handoffs_rep_id_status", "handoffs", ["rep_id", "status"])
    op.create_index("ix_handoffs_status_created_at", "handoffs", ["status", "created_at"])
    op.create_table(
        "handoff_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=False),
        sa.Column("at", nurture.platform.db.UTCDateTime(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["handoff_id"], ["handoffs.id"],
            name=op.f("fk_handoff_actions_handoff_id_handoffs"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_actions")),
    )
    op.create_index(
        "ix_handoff_actions_handoff_id_at", "handoff_actions", ["handoff_id", "at"]
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_accounts_owner_id"), ["owner_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_accounts_owner_id_sales_reps"), "sales_reps", ["owner_id"], ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_leads_owner_id"), ["owner_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_leads_owner_id_sales_reps"), "sales_reps", ["owner_id"], ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_leads_owner_id_sales_reps"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_leads_owner_id"))
        batch_op.drop_column("owner_id")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_accounts_owner_id_sales_reps"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_accounts_owner_id"))
        batch_op.drop_column("owner_id")
    op.drop_index("ix_handoff_actions_handoff_id_at", table_name="handoff_actions")
    op.drop_table("handoff_actions")
    for name in (
        "ix_handoffs_status_created_at",
        "ix_handoffs_rep_id_status",
        "ix_handoffs_reject_reason",
        "ix_handoffs_notification_message_id",
        "ix_handoffs_lead_id",
        "ix_handoffs_auto_reply_message_id",
    ):
        op.drop_index(name, table_name="handoffs")
    op.drop_table("handoffs")
    op.drop_table("sales_reps")
    op.drop_table("sales_team_versions")
