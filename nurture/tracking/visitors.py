"""Web visitors: who a first-party visitor id turns out to be, and merging its history.

A visitor browses anonymously (events carry ``anonymous_id``). When it is identified (it
arrived through a tracked email link, submitted a form with an address, or an API event
named both), its anonymous events move onto the lead's timeline. An address that matches
no lead yet is remembered, and the history moves when that lead appears.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from nurture.models import Event, Lead
from nurture.models.tracking import Visitor
from nurture.platform.db import rows_affected


def email_visitor_id(email: str) -> str:
    """A stable anonymous id for events that name an address matching no lead yet."""
    return "e:" + hashlib.sha256(email.encode()).hexdigest()[:40]


def visitor(session: Session, visitor_id: str, now: datetime) -> Visitor:
    """The visitor row, created on first sight."""
    found = session.get(Visitor, visitor_id)
    if found is None:
        found = Visitor(visitor_id=visitor_id, first_seen_at=now)
        session.add(found)
        session.flush()
    return found


def identify(session: Session, visitor_id: str, lead_id: int, now: datetime) -> bool:
    """Tie ``visitor_id`` to a lead and move its anonymous events onto the lead.

    Returns True when anything changed. A visitor already tied to another lead (a shared
    computer, a forwarded email) keeps its first identity: history is never moved twice.
    """
    row = visitor(session, visitor_id, now)
    if row.lead_id is not None and row.lead_id != lead_id:
        return False
    changed = row.lead_id is None
    row.lead_id = lead_id
    row.identified_at = row.identified_at or now
    moved = rows_affected(
        session.execute(
            update(Event)
            .where(Event.anonymous_id == visitor_id, Event.lead_id.is_(None))
            .values(lead_id=lead_id)
        )
    )
    return changed or bool(moved)


def identify_by_email(session: Session, visitor_id: str, email: str, now: datetime) -> int | None:
    """Identify a visitor by an address it gave: the lead id when the lead exists, else
    the address is remembered for a later merge and None is returned."""
    lead_id = session.scalar(select(Lead.id).where(Lead.email == email))
    if lead_id is not None:
        identify(session, visitor_id, lead_id, now)
        return lead_id
    row = visitor(session, visitor_id, now)
    if row.lead_id is None:
        row.email = email
    return row.lead_id


def leads_of(session: Session, visitor_ids: Iterable[str]) -> dict[str, int]:
    """visitor id -> lead id, for the identified ones."""
    ids = set(visitor_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Visitor.visitor_id, Visitor.lead_id).where(
            Visitor.visitor_id.in_(ids), Visitor.lead_id.is_not(None)
        )
    )
    return {vid: lead_id for vid, lead_id in rows if lead_id is not None}


# Visitors who gave an address that now belongs to a lead, with that lead.
WAITING_VISITORS = (
    select(Visitor.visitor_id, Lead.id)
    .join(Lead, Lead.email == Visitor.email)
    .where(Visitor.lead_id.is_(None), Visitor.email.is_not(None))
)


def merge_waiting_visitors(session: Session, now: datetime) -> set[int]:
    """Identify visitors whose remembered address now belongs to a lead; the leads touched."""
    rows = session.execute(WAITING_VISITORS).all()
    touched: set[int] = set()
    for visitor_id, lead_id in rows:
        if identify(session, visitor_id, lead_id, now):
            touched.add(lead_id)
    return touched
