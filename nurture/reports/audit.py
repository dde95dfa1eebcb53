"""The audit log as the admin's viewer shows it: newest first, filtered by who, by what
and by date, keyset-paged over ``(at, id)`` (indexes ``ix_audit_log_at_id``,
``ix_audit_log_actor_at_id``, ``ix_audit_log_action_at_id``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.models import AuditLog, User
from nurture.reports.keyset import after_row, moment_cursor

PAGE_SIZE = 50
USER_ACTOR = "user:"


@dataclass(frozen=True)
class AuditRow:
    """One change: when, who (a user's name where the actor is ``user:<id>``), what, and
    the object it names (the row's own detail: ids and reasons, never an address)."""

    id: int
    at: datetime
    actor: str
    actor_name: str | None
    action: str
    lead_id: int | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    # The key of the next page, "<iso at>,<id>"; None on the last page.
    next_after: str | None


def audit_page(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after: tuple[datetime, int] | None = None,
) -> AuditPage:
    """Audit rows newest first. ``action`` matches exactly, or as a prefix when it ends
    with ``.`` or ``*`` (``user.`` is every user change); ``since``/``until`` bound ``at``
    (``until`` exclusive)."""
    query = select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(PAGE_SIZE + 1)
    if actor:
        query = query.where(AuditLog.actor == actor)
    if action:
        if action.endswith(("*", ".")):
            # LIKE, not a range: a range in a non-C collation (which may ignore punctuation)
            # would not mean "starts with". The page still walks the (at, id) index.
            query = query.where(AuditLog.action.startswith(action.rstrip("*"), autoescape=True))
        else:
            query = query.where(AuditLog.action == action)
    if since is not None:
        query = query.where(AuditLog.at >= since)
    if until is not None:
        query = query.where(AuditLog.at < until)
    if after is not None:
        query = query.where(after_row((AuditLog.at, AuditLog.id), after, descending=True))
    found = list(session.scalars(query))
    page = found[:PAGE_SIZE]
    names = actor_names(session, [row.actor for row in page])
    rows = [
        AuditRow(
            row.id,
            row.at,
            row.actor,
            names.get(row.actor),
            row.action,
            row.lead_id,
            dict(row.detail or {}),
        )
        for row in page
    ]
    more = len(found) > PAGE_SIZE
    return AuditPage(rows, moment_cursor(page[-1].at, page[-1].id) if more else None)


def actor_names(session: Session, actors: list[str]) -> dict[str, str]:
    """The names of the users among ``actors`` (``user:<id>``), by actor (one query)."""
    ids = {
        int(actor[len(USER_ACTOR) :])
        for actor in actors
        if actor.startswith(USER_ACTOR) and actor[len(USER_ACTOR) :].isdigit()
    }
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.name).where(User.id.in_(ids)))
    return {f"{USER_ACTOR}{user_id}": name for user_id, name in rows}


def user_actors(session: Session) -> list[tuple[str, str]]:
    """(actor, name) of every user, for the viewer's "who" filter (people are few)."""
    rows = session.execute(select(User.id, User.name).order_by(User.name))
    return [(f"{USER_ACTOR}{user_id}", name) for user_id, name in rows]
