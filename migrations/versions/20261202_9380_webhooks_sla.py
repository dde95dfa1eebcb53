"""Webhook deliveries and handoff SLAs.

Revision ID: 9380
Revises: 9260
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import nurture.platform.db

revision: str = "9380"
down_revision: str | None = "9260"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", nurture.platform.db.UTCDateTime(), nullable=True),
        sa.Column("last_attempt_at", nurture.platform.db.UTCDateTime(), nullable=True),
        sa.Column("delivered_at", nurture.platform.db.UTCDateTime(), nullable=True),
        sa.Column("response_code", sa.Integer(), nullable=True),
        sa.Column("response_excerpt", sa.String(length=500), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("created_at", nurture.platform.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["handoff_id"],
            ["handoffs.id"],
            name=op.f("fk_webhook_deliveries_handoff_id_handoffs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    op.create_index(op.f("ix_webhook_deliveries_handoff_id"), "webhook_deliveries", ["handoff_id"])
    op.create_index(
        "ix_webhook_deliveries_status_next", "webhook_deliveries", ["status", "next_attempt_at"]
    )
    op.create_table(
        "handoff_slas",
        sa.Column("handoff_id", sa.Integer(), nullable=False),
        sa.Column("policy", sa.String(length=100), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("working_hours", sa.String(length=100), nullable=False),
        sa.Column("started_at", nurture.platform.db.UTCDateTime(), nullable=False),
        sa.Column("due_at", nurture.platform.db.UTCDateTime(), nullable=False),
        sa.Column("remind_at", nurture.platform.db.UTCDateTime(), nullable=True),
        sa.Column("reminded_at", nurture.platform.db.UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("breached_at", nurture.platform.db.UTCDateTime(), nullable=True),
        sa.Column("escalated_at", nurture.platform.db.UTCDateTime(), nullable=True),
        sa.Column("escalation", sa.JSON(), nullable=False),
        sa.Column("responded_at", nurture.platform.db.UTCDateTime(), nullable=True),
        sa.Column("response", sa.String(length=20), nullable=True),
        sa.Column("response_seconds", sa.Float(), nullable=True),
        sa.Column("response_business_seconds", sa.Float(), nullable=True),
        sa.Column("reminder_message_id", sa.Integer(), nullable=True),
        sa.Column("escalation_message_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["handoff_id"],
            ["handoffs.id"],
            name=op.f("fk_handoff_slas_handoff_id_handoffs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reminder_message_id"],
            ["messages.id"],
            name=op.f("fk_handoff_slas_reminder_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["escalation_message_id"],
            ["messages.id"],
            name=op.f("fk_handoff_slas_escalation_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("handoff_id", name=op.f("pk_handoff_slas")),
    )
    op.create_index("ix_handoff_slas_status_due_at", "handoff_slas", ["status", "due_at"])
    op.create_index("ix_handoff_slas_status_remind_at", "handoff_slas", ["status", "remind_at"])


def downgrade() -> None:
    op.drop_index("ix_handoff_slas_status_remind_at", table_name="handoff_slas")
    op.drop_index("ix_handoff_slas_status_due_at", table_name="handoff_slas")
    op.drop_table("handoff_slas")
    op.drop_index("ix_webhook_deliveries_status_next", table_name="webhook_deliveries")
    op.drop_index(op.f("ix_webhook_deliveries_handoff_id"), table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
