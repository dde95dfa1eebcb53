"""The sales reps as assignment sees them: their open handoffs, finding one by id or
email, and choosing the owner of a new handoff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.handoff.assignment import Assignment, LeadFacts, RepState, assign
from nurture.handoff.model import OPEN_STATUSES, HandoffError
from nurture.handoff.team import Team
from nurture.models import Handoff, Lead, SalesRep
from nurture.platform.db import is_sqlite
from nurture.platform.ids import parse_id


def rep_states(
    session: Session, *, lock: bool, include: set[int] | None = None
) -> dict[str, RepState]:
    """Every rep in the team (and ``include`` ids) with open handoff counts; locked on
    PostgreSQL when ``lock`` so concurrent assignments see each other's rotation."""
    query = select(SalesRep).order_by(SalesRep.id)
    if include:
        query = query.where(SalesRep.in_team.is_(True) | SalesRep.id.in_(include))
    else:
        query = query.where(SalesRep.in_team.is_(True))
    if lock and not is_sqlite(session.get_bind().engine):
        query = query.with_for_update()
    reps = list(session.scalars(query))
    counts = dict(
        session.execute(
            select(Handoff.rep_id, func.count())
            .where(Handoff.status.in_(OPEN_STATUSES), Handoff.rep_id.is_not(None))
            .group_by(Handoff.rep_id)
        ).all()
    )
    return {
        rep.email: RepState(
            id=rep.id,
            email=rep.email,
            name=rep.name,
            active=rep.active,
            in_team=rep.in_team,
            timezone=rep.timezone,
            capacity=rep.capacity,
            out_of_office_until=rep.out_of_office_until,
            open_handoffs=counts.get(rep.id, 0),
            last_assigned_seq=rep.last_assigned_seq,
        )
        for rep in reps
    }


def find_rep(session: Session, ref: str | int | None) -> SalesRep | None:
    """A rep by id or email; None for None; ``HandoffError('unknown_rep')`` when unknown."""
    if ref is None or ref == "":
        return None
    text = str(ref).strip()
    if text.isascii() and text.isdigit():
        # An id; out of the database's range it names no rep (rather than overflowing).
        rep_id = parse_id(text)
        rep = None if rep_id is None else session.get(SalesRep, rep_id)
    else:
        rep = session.scalar(select(SalesRep).where(SalesRep.email == text.lower()))
    if rep is None:
        raise HandoffError(
            "unknown_rep", f"no sales rep {text!r} (see nurture team list)", status=422
        )
    return rep


def choose_owner(
    session: Session, team: Team | None, lead: Lead, now: datetime
) -> tuple[Assignment, SalesRep | None]:
    """Who gets ``lead`` by the team's assignment rules (None: nobody available), and why;
    moves the rotation on for a rotated lead."""
    if team is None:
        return Assignment(None, "unassigned", "no sales team is synced (nurture team sync)"), None
    account = lead.account
    owner_id = account.owner_id if account is not None else None
    states = rep_states(session, lock=True, include={owner_id} if owner_id else None)
    country = (account.country if account else None) or _lead_country(lead)
    facts = LeadFacts(
        country=country.upper() if country else None,
        employees=account.employees if account else None,
        account_name=(account.name or account.domain) if account else None,
        account_owner_id=owner_id,
    )
    decision = assign(team, facts, states, now)
    if decision.rep_id is None:
        return decision, None
    rep = session.get(SalesRep, decision.rep_id)
    assert rep is not None
    if decision.method in ("rule", "round_robin"):
        # The rotation moves on only for rotated leads: an account owner's extra lead does
        # not cost them their turn.
        top = max((state.last_assigned_seq for state in states.values()), default=0)
        rep.last_assigned_seq = top + 1
        rep.last_assigned_at = now
    return decision, rep


def _lead_country(lead: Lead) -> str | None:
    value = (lead.attributes or {}).get("country")
    return value if isinstance(value, str) and len(value) == 2 else None
