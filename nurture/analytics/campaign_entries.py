"""Each lead's first enrolment in each campaign with the lead's creation (its time and
its day as a number, ``scope.day_number``) (``campaign_entries``): what the reports
grouped by campaign read instead of the enrolments.

The table is ``enrollments`` (entry 1) beside ``leads.created_at``, and must always equal
a recomputation from them: triggers on ``enrollments`` (migration 9820) keep it in the
transaction of every enrolment written, by a use case or a bulk insert alike;
``rebuild_entries`` recomputes it for an operator (``nurture db rebuild-rollups``), and
``count_differences`` proves it (``--check``).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.analytics.rollup import Rebuild, rebuilt, rows_differing, stored_rows
from nurture.analytics.scope import AnySelect, day_number
from nurture.models import CampaignEntry, Enrollment, Lead

COLUMNS: tuple[str, ...] = ("lead_id", "campaign_id", "created_at", "created_day")


def recomputed_entries() -> AnySelect:
    """The table's rows computed from ``enrollments`` and ``leads`` alone (``COLUMNS``)."""
    return (
        select(
            Enrollment.lead_id,
            Enrollment.campaign_id,
            Lead.created_at,
            day_number(Lead.created_at).label("created_day"),
        )
        .join(Lead, Lead.id == Enrollment.lead_id)
        .where(Enrollment.entry_number == 1)
    )


def stored_entries() -> AnySelect:
    """The table's rows as stored (``COLUMNS``)."""
    return stored_rows(CampaignEntry, COLUMNS)


def count_differences(session: Session) -> int:
    """How many rows the table and the recomputation do not share (a row missing on
    either side, or the same pair with another creation, counts on each side)."""
    return rows_differing(session, stored_entries(), recomputed_entries())


def rebuild_entries(session: Session) -> Rebuild:
    """Recompute the table in the caller's transaction."""
    return rebuilt(session, CampaignEntry, COLUMNS, recomputed_entries())
