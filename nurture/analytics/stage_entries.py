"""Each entry of a lead into a funnel stage (``stage_entries``): one row per stage change and
funnel stage it enters (``nurture.analytics.definitions.entered_stages``), with ``prev_at``,
the time of the lead's entry into the same stage just before it in (``at``, ``change_id``)
order. The funnel's period view counts the entries of a period whose previous entry is
before it (or none), one per lead and stage, instead of summing each lead's changes.

The table must always equal a recomputation from ``stage_changes``: triggers on it
(migration 9880) keep the entries in the transaction of every change written, by a use
case, a bulk insert or a fixture alike, and fix the next entry of a change recorded out of
order; a change's deletion or move (its time, stages or lead, which the product never does)
has its lead's entries (both leads') recomputed whole. ``rebuild_stage_entries`` recomputes
them for an operator (``nurture db rebuild-rollups``), ``count_differences`` proves them
(``--check``).
"""

from __future__ import annotations

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.orm import Session

from nurture.analytics.definitions import FUNNEL_STAGES
from nurture.analytics.rollup import Rebuild, rebuilt, rows_differing, stored_rows
from nurture.analytics.scope import AnySelect, enters
from nurture.models import StageChange, StageEntry

COLUMNS: tuple[str, ...] = ("change_id", "stage", "lead_id", "at", "prev_at")


def recomputed_entries() -> AnySelect:
    """The table's rows computed from ``stage_changes`` alone (``COLUMNS``)."""
    entries = union_all(
        *(
            select(
                StageChange.id.label("change_id"),
                literal(stage).label("stage"),
                StageChange.lead_id,
                StageChange.at,
            ).where(
                # Every change into a funnel stage enters at least that stage; no other
                # change enters any (entered_stages).
                StageChange.to_stage.in_(FUNNEL_STAGES),
                enters(stage, StageChange.from_stage, StageChange.to_stage),
            )
            for stage in FUNNEL_STAGES
        )
    ).subquery("entries")
    previous = func.lag(entries.c.at).over(
        partition_by=(entries.c.lead_id, entries.c.stage),
        order_by=(entries.c.at, entries.c.change_id),
    )
    return select(
        entries.c.change_id,
        entries.c.stage,
        entries.c.lead_id,
        entries.c.at,
        previous.label("prev_at"),
    )


def stored_entries() -> AnySelect:
    """The table's rows as stored (``COLUMNS``)."""
    return stored_rows(StageEntry, COLUMNS)


def count_differences(session: Session) -> int:
    """How many rows the table and the recomputation do not share (a row missing on
    either side, or the same entry with another time, counts on each side)."""
    return rows_differing(session, stored_entries(), recomputed_entries())


def rebuild_stage_entries(session: Session) -> Rebuild:
    """Recompute the table from history in the caller's transaction."""
    return rebuilt(session, StageEntry, COLUMNS, recomputed_entries())
