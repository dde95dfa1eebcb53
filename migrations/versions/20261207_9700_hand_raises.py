"""Hand-raises answered one by one: the auto-reply each got, and the marketing review
queue of hand-raisers outside the ICP (docs/handoff.md#hand-raisers-outside-the-icp).

Every hand-raise already on a timeline is recorded as answered ``earlier``, so the upgrade
sends nobody a late auto-reply for a request made before it.

Revision ID: 9700
Revises: 9750
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import nurture.platform.db

revision: str = "9700"
down_revision: str | None = "9750"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hand_raises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=60), nullable=True),
        sa.Column("raised_at", nurture.platform.db.UTCDateTime(), nullable=False),
        sa.Column("created_at", nurture.platform.db.UTCDateTime(), nullable=False),
        sa.Column("route", sa.String(length=20), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=True),
        sa.Column("rule", sa.String(length=100), nullable=True),
        sa.Column("fit_grade", sa.String(length=2), nullable=True),
        sa.Column("fit_score", sa.Float(), nullable=True),
        sa.Column("auto_reply_message_id", sa.Integer(), nullable=True),
        sa.Column("reply", sa.JSON(), nullable=True),
        sa.Column("handoff_id", sa.Integer(), nullable=True),
        sa.Column("review_status", sa.String(length=10), nullable=True),
        sa.Column("reviewers", sa.JSON(), nullable=True),
        sa.Column("resolved_at", nurture.platform.db.UTCDateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(length=320), nullable=True),
        sa.Column("resolution_note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["auto_reply_message_id"],
            ["messages.id"],
            name=op.f("fk_hand_raises_auto_reply_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["handoff_id"],
            ["handoffs.id"],
            name=op.f("fk_hand_raises_handoff_id_handoffs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_hand_raises_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hand_raises")),
        sa.UniqueConstraint("event_id", name=op.f("uq_hand_raises_event_id")),
    )
    op.create_index(
        op.f("ix_hand_raises_auto_reply_message_id"),
        "hand_raises",
        ["auto_reply_message_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_hand_raises_handoff_id"), "hand_raises", ["handoff_id"], unique=False
    )
    op.create_index(op.f("ix_hand_raises_lead_id"), "hand_raises", ["lead_id"], unique=False)
    op.create_index(
        "ix_hand_raises_review_status_created_at",
        "hand_raises",
        ["review_status", "created_at"],
        unique=False,
    )
    op.execute(
        "INSERT INTO hand_raises (lead_id, event_id, raised_at, created_at, route) "
        "SELECT lead_id, id, occurred_at, occurred_at, 'earlier' FROM events "
        "WHERE type = 'lead.hand_raised' AND lead_id IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index("ix_hand_raises_review_status_created_at", table_name="hand_raises")
    op.drop_index(op.f("ix_hand_raises_lead_id"), table_name="hand_raises")
    op.drop_index(op.f("ix_hand_raises_handoff_id"), table_name="hand_raises")
    op.drop_index(op.f("ix_hand_raises_auto_reply_message_id"), table_name="hand_raises")
    op.drop_table("hand_raises")
