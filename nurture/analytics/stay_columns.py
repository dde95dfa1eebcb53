"""The stay each stage change ends (``stage_changes.stay_began_at`` and ``stay_stage``),
which the velocity report reads as one row per stay instead of pairing every change of a
lead's history with the next.

A change's stay began at the lead's change just before it in (``at``, ``id``) order, the
order of ``durations.stays``, and is in that change's ``to_stage`` (not the change's own
``from_stage``: an import with an override can record a history that does not chain).
A lead's first change ends no stay (NULL). A stay of no length (``at`` equal to
``stay_began_at``) is stored like any other and left out by the report.

The columns must always equal a recomputation from the changes: triggers on
``stage_changes`` (migration 9840) keep them in the transaction of every change written,
by a use case, a bulk insert or a fixture alike, and fix the successor of a change
recorded out of order; a change's deletion fixes its successor, and a change moved (its
time, stage or lead, which the product never does) has both leads recomputed.
``rebuild_stays`` recomputes them for an operator (``nurture db rebuild-rollups``) and
``count_differences`` proves them (``--check``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from nurture.analytics.rollup import Rebuild
from nurture.analytics.scope import AnySelect
from nurture.models import StageChange
from nurture.platform.db import rows_affected, table_of

COLUMNS: tuple[str, ...] = ("id", "stay_began_at", "stay_stage")


def recomputed_stays() -> AnySelect:
    """Each change's stay computed from the changes alone (``COLUMNS``)."""
    lead_order: dict[str, Any] = {
        "partition_by": StageChange.lead_id,
        "order_by": (StageChange.at, StageChange.id),
    }
    return select(
        StageChange.id,
        func.lag(StageChange.at).over(**lead_order).label("stay_began_at"),
        func.lag(StageChange.to_stage).over(**lead_order).label("stay_stage"),
    )


def stored_stays() -> AnySelect:
    """Each change's stay as stored (``COLUMNS``)."""
    return select(*(table_of(StageChange).c[name] for name in COLUMNS))


def _differing() -> tuple[Any, Any]:
    """The recomputation as a derived table, and the condition of a change whose stored
    stay differs from it."""
    history = recomputed_stays().subquery("history")
    table = table_of(StageChange)
    differs = or_(
        table.c.stay_began_at.is_distinct_from(history.c.stay_began_at),
        table.c.stay_stage.is_distinct_from(history.c.stay_stage),
    )
    return history, (table.c.id == history.c.id) & differs


def count_differences(session: Session) -> int:
    """How many changes have another stay stored than the recomputation's."""
    history, differs = _differing()
    statement = select(func.count()).select_from(table_of(StageChange)).join(history, differs)
    return session.scalar(statement) or 0


def rebuild_stays(session: Session) -> Rebuild:
    """Put every change's stay right in the caller's transaction, writing only the changes
    whose stay differs (idempotent: a second rebuild writes nothing): ``rows`` counts the
    changes, ``differed`` those put right."""
    history, differs = _differing()
    statement = (
        update(table_of(StageChange))
        .where(differs)
        .values(stay_began_at=history.c.stay_began_at, stay_stage=history.c.stay_stage)
    )
    differed = rows_affected(session.execute(statement))
    rows = session.scalar(select(func.count()).select_from(table_of(StageChange))) or 0
    return Rebuild(rows=rows, differed=differed)
