"""The brand settings row, and indexes for the settings pages: the audit log viewer, the
webhook delivery log by status and the suppression list searched by address.

Revision ID: 9560
Revises: 9540
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import nurture.platform.db

revision: str = "9560"
down_revision: str | None = "9540"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "brand_settings",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("company_name", sa.String(length=200), nullable=True),
        sa.Column("postal_address", sa.String(length=500), nullable=True),
        sa.Column("primary_colour", sa.String(length=7), nullable=True),
        sa.Column("logo", sa.LargeBinary(), nullable=True),
        sa.Column("logo_type", sa.String(length=20), nullable=True),
        sa.Column("logo_version", sa.String(length=16), nullable=True),
        sa.Column("updated_at", nurture.platform.db.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_brand_settings_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brand_settings")),
    )
    op.create_index("ix_audit_log_at_id", "audit_log", ["at", "id"])
    op.create_index("ix_audit_log_actor_at_id", "audit_log", ["actor", "at", "id"])
    op.create_index("ix_audit_log_action_at_id", "audit_log", ["action", "at", "id"])
    op.create_index("ix_webhook_deliveries_status_id", "webhook_deliveries", ["status", "id"])
    op.create_index(
        "ix_leads_suppressed_email",
        "leads",
        ["email"],
        postgresql_ops={"email": "text_pattern_ops"},
        postgresql_where=sa.text("suppressed_at IS NOT NULL"),
        sqlite_where=sa.text("suppressed_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_leads_suppressed_email", table_name="leads")
    op.drop_index("ix_webhook_deliveries_status_id", table_name="webhook_deliveries")
    op.drop_index("ix_audit_log_action_at_id", table_name="audit_log")
    op.drop_index("ix_audit_log_actor_at_id", table_name="audit_log")
    op.drop_index("ix_audit_log_at_id", table_name="audit_log")
    op.drop_table("brand_settings")
