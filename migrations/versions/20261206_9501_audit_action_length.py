"""Audit actions long enough for the web app's page names (app.<blueprint>.<view>).

Revision ID: 9501
Revises: 9500
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9501"
down_revision: str | None = "9500"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column(
            "action", existing_type=sa.String(length=40), type_=sa.String(length=80)
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column(
            "action", existing_type=sa.String(length=80), type_=sa.String(length=40)
        )
