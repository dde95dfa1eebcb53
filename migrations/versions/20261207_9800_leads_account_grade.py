"""An account's people with their temperatures and grades, in one index: readiness's
account condition reads each account's best grade (``min(fit_grade)`` of the people not
erased) and its engaged people (warm, hot) for every account a batch of an import touches;
from ``ix_leads_account_id`` that was one table row per person, a cost that grew with the
accounts. ``(account_id, erased_at, temperature, fit_grade)`` answers the first from the
index alone and finds the engaged people without reading the others; it serves every
lookup by account, so the index on ``account_id`` alone goes (one index less to write per
new lead).

Revision ID: 9800
Revises: 9790
"""

from collections.abc import Sequence

from alembic import op

revision: str = "9800"
down_revision: str | None = "9790"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_leads_account_id_erased_at_temperature_fit_grade"),
        "leads",
        ["account_id", "erased_at", "temperature", "fit_grade"],
        unique=False,
    )
    op.drop_index(op.f("ix_leads_account_id"), table_name="leads")


def downgrade() -> None:
    op.create_index(op.f("ix_leads_account_id"), "leads", ["account_id"], unique=False)
    op.drop_index(op.f("ix_leads_account_id_erased_at_temperature_fit_grade"), table_name="leads")
