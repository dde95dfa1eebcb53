"""Users of the web app.

Revision ID: 9500
Revises: 9380
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import nurture.platform.db

revision: str = "9500"
down_revision: str | None = "9380"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("created_at", nurture.platform.db.UTCDateTime(), nullable=False),
        sa.Column("password_changed_at", nurture.platform.db.UTCDateTime(), nullable=True),
        sa.Column("last_login_at", nurture.platform.db.UTCDateTime(), nullable=True),
        sa.Column("disabled_at", nurture.platform.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )


def downgrade() -> None:
    op.drop_table("users")
