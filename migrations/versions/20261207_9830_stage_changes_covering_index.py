"""The index of stage changes by stage and time carries the lead too
(``stage_changes (to_stage, at, lead_id)``, replacing ``(to_stage, at)``): the reports that
ask which leads entered a stage in a period (the feedback loop's recycled leads and their
returns to ``mql``, the home page's new MQLs) read them from the index alone instead of
fetching each change's row from the table. One index replaces another, so a stage change
writes no more than before.

Revision ID: 9830
Revises: 9800
"""

from collections.abc import Sequence

from alembic import op

revision: str = "9830"
down_revision: str | None = "9800"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_stage_changes_to_stage_at_lead_id", "stage_changes", ["to_stage", "at", "lead_id"]
    )
    op.drop_index("ix_stage_changes_to_stage_at", table_name="stage_changes")


def downgrade() -> None:
    op.create_index("ix_stage_changes_to_stage_at", "stage_changes", ["to_stage", "at"])
    op.drop_index("ix_stage_changes_to_stage_at_lead_id", table_name="stage_changes")
