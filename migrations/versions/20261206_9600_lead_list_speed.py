"""Indexes for the lead list's filters at scale: the leads that are not erased in creation
order (the default order, read from the index alone when the filter is on another table),
and a campaign's enrolments by status with their leads (the campaign filter, from the
index alone).

Revision ID: 9600
Revises: 9590
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9600"
down_revision: str | None = "9590"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_leads_live_created_at_id",
        "leads",
        ["created_at", "id"],
        postgresql_where=sa.text("erased_at IS NULL"),
        sqlite_where=sa.text("erased_at IS NULL"),
    )
    op.create_index(
        "ix_enrollments_campaign_status_lead",
        "enrollments",
        ["campaign_id", "status", "lead_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_enrollments_campaign_status_lead", table_name="enrollments")
    op.drop_index("ix_leads_live_created_at_id", table_name="leads")
