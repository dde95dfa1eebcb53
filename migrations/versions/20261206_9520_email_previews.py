"""Email previews of the web app's editor.

Revision ID: 9520
Revises: 9510
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import nurture.platform.db

revision: str = "9520"
down_revision: str | None = "9510"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "email_previews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=43), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("template", sa.String(length=200), nullable=False),
        sa.Column("campaign_key", sa.String(length=200), nullable=True),
        sa.Column("step_id", sa.String(length=200), nullable=True),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("edited", sa.Boolean(), nullable=False),
        sa.Column("sender", sa.String(length=400), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", nurture.platform.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_email_previews_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_email_previews_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_previews")),
        sa.UniqueConstraint("token", name=op.f("uq_email_previews_token")),
    )
    op.create_index(op.f("ix_email_previews_created_at"), "email_previews", ["created_at"])
    op.create_index(op.f("ix_email_previews_lead_id"), "email_previews", ["lead_id"])
    op.create_index(op.f("ix_email_previews_user_id"), "email_previews", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_email_previews_user_id"), table_name="email_previews")
    op.drop_index(op.f("ix_email_previews_lead_id"), table_name="email_previews")
    op.drop_index(op.f("ix_email_previews_created_at"), table_name="email_previews")
    op.drop_table("email_previews")
