"""Import jobs keep who of the imported leads campaigns may mail, and why not the others
(the web import page's "cannot be mailed" summary, resumed with the job), and the consent
status the batch records (the web page's equivalent of ``nurture leads import --consent``).

Revision ID: 9710
Revises: 9740
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9710"
down_revision: str | None = "9740"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("import_jobs") as batch_op:
        batch_op.add_column(sa.Column("mailable", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("not_mailable", sa.JSON(), server_default="{}", nullable=False)
        )
        batch_op.add_column(sa.Column("consent_status", sa.String(20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("import_jobs") as batch_op:
        batch_op.drop_column("consent_status")
        batch_op.drop_column("not_mailable")
        batch_op.drop_column("mailable")
