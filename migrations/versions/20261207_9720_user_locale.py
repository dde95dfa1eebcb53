"""A user's language: the emails the product writes to them (handoff notifications, SLA
reminders and escalations, the weekly digest) are in it; empty, in the instance's default
(``NURTURE_LOCALE``).

Revision ID: 9720
Revises: 9700
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9720"
down_revision: str | None = "9700"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("locale", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("locale")
