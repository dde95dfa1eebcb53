"""The roll-up of each lead's first time in each funnel stage (``lead_stage_firsts``), which
the cohort view and the sales cycle read instead of every stage change.

The table is ``stage_changes`` summed up, and must always equal a full recomputation from
it: ``follow_stage_change`` keeps it in the transaction of every recorded change (through
the ``stage_recorded`` event), and ``rebuild_firsts`` recomputes it from history for an
operator (``nurture db rebuild-rollups``) or after a bulk load that bypassed the use cases.
A lead has a row once a change has entered a funnel stage
(``nurture.analytics.definitions.entered_stages``); a lead that never reached ``mql`` has
none, so the table is no larger than the funnel and a lead created by any path (an
import, a fixture, a bulk load) still counts as created from ``leads``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, delete, func, insert, select
from sqlalchemy.orm import Session

from nurture.analytics.definitions import FUNNEL_STAGES, entered_stages
from nurture.analytics.scope import AnySelect, enters
from nurture.models import Lead, LeadStageFirst, StageChange

# Each funnel stage's column of first times.
FIRST_COLUMNS: Mapping[str, str] = {stage: f"{stage}_at" for stage in FUNNEL_STAGES}
COLUMNS: tuple[str, ...] = ("lead_id", "created_at", *FIRST_COLUMNS.values())


@dataclass(frozen=True)
class Rebuild:
    """What a roll-up's rebuild found: the rows it wrote (or, for the stays, the changes it
    read), and how many differed from history before (missing, extra or with other values;
    0 when the roll-up was already right)."""

    rows: int
    differed: int


def follow_stage_change(session: Session, change: StageChange) -> None:
    """Move the first times of ``change``'s lead earlier where ``change`` enters a funnel
    stage sooner than any change before it (or first), in the caller's transaction.

    The change was recorded with the lead's new stage in the same transaction, so the
    lead's row is locked on PostgreSQL: two changes of one lead never insert its row twice.
    """
    entered = entered_stages(change.from_stage, change.to_stage)
    if not entered:
        return
    row = session.get(LeadStageFirst, change.lead_id)
    if row is None:
        lead = session.get(Lead, change.lead_id)
        if lead is None:
            raise LookupError(f"stage change {change.id} names no lead {change.lead_id}")
        row = LeadStageFirst(lead_id=lead.id, created_at=lead.created_at)
        session.add(row)
    for stage in entered:
        name = FIRST_COLUMNS[stage]
        known = getattr(row, name)
        # Changes arrive in time order from the use cases; a clock set back must not make
        # the roll-up disagree with the recomputation, which takes the earliest.
        if known is None or change.at < known:
            setattr(row, name, change.at)


def recomputed_firsts() -> AnySelect:
    """The table's rows computed from ``stage_changes`` and ``leads`` alone (``COLUMNS``)."""
    firsts = [
        func.min(
            case((enters(stage, StageChange.from_stage, StageChange.to_stage), StageChange.at))
        ).label(FIRST_COLUMNS[stage])
        for stage in FUNNEL_STAGES
    ]
    return (
        select(StageChange.lead_id, func.min(Lead.created_at).label("created_at"), *firsts)
        .join(Lead, Lead.id == StageChange.lead_id)
        # Every change into a funnel stage enters at least that stage; no other change
        # enters any (entered_stages).
        .where(StageChange.to_stage.in_(FUNNEL_STAGES))
        .group_by(StageChange.lead_id)
    )


def stored_firsts() -> AnySelect:
    """The table's rows as stored (``COLUMNS``)."""
    return stored_rows(LeadStageFirst, COLUMNS)


def stored_rows(model: Any, columns: Sequence[str]) -> AnySelect:
    """A roll-up table's rows as stored, ``columns`` in that order."""
    return select(*(model.__table__.c[name] for name in columns))


def rows_differing(session: Session, stored: AnySelect, recomputed: AnySelect) -> int:
    """How many rows a roll-up table (``stored``) and its recomputation do not share: a
    row missing on either side, or the same key with other values, counts on each side."""
    counted = 0
    for left, right in ((stored, recomputed), (recomputed, stored)):
        rows = left.except_(right).subquery()
        counted += session.scalar(select(func.count()).select_from(rows)) or 0
    return counted


def refill(session: Session, model: Any, columns: Sequence[str], recomputed: AnySelect) -> int:
    """Replace every row of a roll-up table (``model``) with its recomputation, in the
    caller's transaction; the number of rows written."""
    session.execute(delete(model))
    session.execute(insert(model.__table__).from_select(list(columns), recomputed))
    return session.scalar(select(func.count()).select_from(model)) or 0


def rebuilt(session: Session, model: Any, columns: Sequence[str], recomputed: AnySelect) -> Rebuild:
    """Recompute a roll-up table (``model``) in the caller's transaction, counting first
    how many of its rows differed (idempotent: a second rebuild writes the same rows and
    finds no difference)."""
    differed = rows_differing(session, stored_rows(model, columns), recomputed)
    return Rebuild(rows=refill(session, model, columns, recomputed), differed=differed)


def count_differences(session: Session) -> int:
    """How many rows the table and the recomputation do not share (a row missing on
    either side, or the same lead with another time, counts on each side)."""
    return rows_differing(session, stored_firsts(), recomputed_firsts())


def rebuild_firsts(session: Session) -> Rebuild:
    """Recompute the table from history in the caller's transaction."""
    return rebuilt(session, LeadStageFirst, COLUMNS, recomputed_firsts())
