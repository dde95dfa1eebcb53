"""Indexes for the home page's figures: events of a type in a period, leads reaching a
stage in a period (leads created in a period use the lead list's ix_leads_created_at_id).

Revision ID: 9590
Revises: 9560
"""

from collections.abc import Sequence

from alembic import op

revision: str = "9590"
down_revision: str | None = "9560"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_events_type_occurred_at", "events", ["type", "occurred_at"], unique=False)
    op.create_index(
        "ix_stage_changes_to_stage_at", "stage_changes", ["to_stage", "at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_stage_changes_to_stage_at", table_name="stage_changes")
    op.drop_index("ix_events_type_occurred_at", table_name="events")
