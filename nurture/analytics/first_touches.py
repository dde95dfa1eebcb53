"""Each lead's first human touch (``lead_first_touches``): the earliest ``occurred_at`` of
its events that a person made, which the sales cycle reads instead of the events.

A touch is what a person does, as opposed to what is done to them (sent emails, stage
changes, handoff notes, scores): an open, a click, a page view, a form, a server-side event
of the API (``demo.requested`` …) or any ``custom.*`` one, when no machine made it. The
sales cycle starts at ``durations.first_touch``: this time or the lead's creation,
whichever came first (a visitor's pages are merged into the lead when it gives its
address, so they can precede it).

The table is ``events`` summed up, and must always equal a recomputation from them:
triggers on ``events`` (migration 9850) keep it in the writer's transaction. An insert
can only move a first touch earlier; an update that moves an event to another lead, makes
it a machine's (a click re-flagged as a scanner's) or changes its type or time, and a
delete, recompute the old lead's first touch from its events when that event may have been
it. Erasure keeps the events' types and times, so it keeps this too: the first touch of an
erased lead is still defined, and still its events'. ``rebuild_touches`` recomputes it for
an operator (``nurture db rebuild-rollups``) or after a bulk load that bypassed the
triggers, and ``count_differences`` proves it (``--check``).

Concurrent writers to one lead's touches are not serialized on PostgreSQL: a recomputation
(a re-flag, a delete) reads the lead's events as its snapshot has them, so it can miss
what another uncommitted transaction does to the same lead's touches — an earlier touch
added, or another touch re-flagged or deleted at the same time — and both can commit a
first touch that is not the events'. Two hit processors would have to handle the same
lead's hits at once; ``--check`` would count it and a rebuild put it right. Closing it
would take a lock per lead of every batch.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from nurture.analytics.rollup import Rebuild, rebuilt, rows_differing, stored_rows
from nurture.analytics.scope import AnySelect
from nurture.models import Event, LeadFirstTouch
from nurture.tracking.event_intake import EVENT_TYPES

# What a person does: the events that make a touch when a human made them. Migration 9850's
# triggers name the same types: a change here needs a migration that replaces them.
TOUCH_TYPES: tuple[str, ...] = ("email.opened", "email.clicked", *EVENT_TYPES)
CUSTOM_TOUCH_PREFIX = "custom."
COLUMNS: tuple[str, ...] = ("lead_id", "touched_at")


def is_human_touch() -> Any:
    """The condition an event of a lead meets when it is a human touch (SQL)."""
    return and_(
        Event.lead_id.is_not(None),
        Event.is_machine.is_(False),
        or_(Event.type.in_(TOUCH_TYPES), Event.type.startswith(CUSTOM_TOUCH_PREFIX)),
    )


def recomputed_touches() -> AnySelect:
    """The table's rows computed from ``events`` alone (``COLUMNS``)."""
    return (
        select(Event.lead_id, func.min(Event.occurred_at).label("touched_at"))
        .where(is_human_touch())
        .group_by(Event.lead_id)
    )


def stored_touches() -> AnySelect:
    """The table's rows as stored (``COLUMNS``)."""
    return stored_rows(LeadFirstTouch, COLUMNS)


def count_differences(session: Session) -> int:
    """How many rows the table and the recomputation do not share (a row missing on
    either side, or the same lead with another time, counts on each side)."""
    return rows_differing(session, stored_touches(), recomputed_touches())


def rebuild_touches(session: Session) -> Rebuild:
    """Recompute the table from the events in the caller's transaction."""
    return rebuilt(session, LeadFirstTouch, COLUMNS, recomputed_touches())
