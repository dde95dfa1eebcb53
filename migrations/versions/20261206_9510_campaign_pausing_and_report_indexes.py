"""Pausing a campaign (who and when), and the indexes of the campaign pages' figures.

Revision ID: 9510
Revises: 9530
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import nurture.platform.db

revision: str = "9510"
down_revision: str | None = "9530"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(
            sa.Column("paused_at", nurture.platform.db.UTCDateTime(), nullable=True)
        )
        batch.add_column(sa.Column("paused_by", sa.String(length=100), nullable=True))
    op.create_index(
        "ix_enrollments_campaign_status_position",
        "enrollments",
        ["campaign_id", "status", "track", "step"],
        unique=False,
    )
    op.create_index(
        "ix_enrollments_campaign_enrolled_at",
        "enrollments",
        ["campaign_id", "enrolled_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_enrollments_campaign_finished_at",
        "enrollments",
        ["campaign_id", "finished_at"],
        unique=False,
    )
    op.create_index("ix_enrollment_history_at", "enrollment_history", ["at"], unique=False)
    op.create_index(
        "ix_messages_campaign_id_sent_at", "messages", ["campaign_id", "sent_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_messages_campaign_id_sent_at", table_name="messages")
    op.drop_index("ix_enrollment_history_at", table_name="enrollment_history")
    op.drop_index("ix_enrollments_campaign_finished_at", table_name="enrollments")
    op.drop_index("ix_enrollments_campaign_enrolled_at", table_name="enrollments")
    op.drop_index("ix_enrollments_campaign_status_position", table_name="enrollments")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("paused_by")
        batch.drop_column("paused_at")
