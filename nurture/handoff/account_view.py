"""The account view: one company's engagement score, its buying committee and its people's
combined timeline — what sales reads before calling anyone there.

The score aggregates its people's decayed scores (``NURTURE_ACCOUNT_SCORE``): ``sum`` (every
engaged person adds up), ``max`` (the most engaged person), or ``topN`` such as ``top3``
(the N most engaged: a real committee counts, a hundred readers of one newsletter do not
drown it). Roles come from job titles (``nurture.handoff.committee``), the same classifier
the handoff notification uses, so both show the same committee.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, or_, select
from sqlalchemy.orm import Session

from nurture.handoff.committee import ROLES, missing_roles, role_for_title
from nurture.models import Account, Event, Handoff, Lead, Message, SalesRep
from nurture.models.lead import decayed_score, full_name
from nurture.platform.ids import parse_id
from nurture.platform.policies import TOP_N_RE
from nurture.sending.kinds import INTERNAL_KINDS

# The temperatures that make a person "engaged", as the readiness file's account condition
# counts them by default (docs/qualification.md).
ENGAGED_TEMPERATURES = frozenset({"warm", "hot"})
ACTIVITY_DAYS = 90


# ---------------------------------------------------------------- pure


def aggregate(scores: Iterable[float], method: str) -> float:
    """The account's score from its people's decayed scores. Negative scores (job seekers,
    competitors) never lower the account below what its positive people give."""
    values = sorted((s for s in scores if s > 0), reverse=True)
    if not values:
        return 0.0
    if method == "max":
        return values[0]
    match = TOP_N_RE.fullmatch(method)
    if match:
        values = values[: int(match.group(1))]
    return sum(values)


def describe_method(method: str) -> str:
    """For people: ``sum of its people's scores``, ``the top 3 people's scores``."""
    if method == "sum":
        return "sum of its people's scores"
    if method == "max":
        return "its most engaged person's score"
    return f"sum of its {method[3:]} most engaged people's scores"


@dataclass(frozen=True)
class Person:
    """One person at the account."""

    lead_id: int
    email: str
    name: str
    title: str | None
    role: str
    stage: str
    temperature: str
    score: float
    fit_grade: str | None
    last_activity: datetime | None
    owner: str | None

    @property
    def engaged(self) -> bool:
        return self.temperature in ENGAGED_TEMPERATURES


def committee(people: Sequence[Person]) -> dict[str, list[str]]:
    """Role → the engaged people (names) covering it, for every role; empty lists are the
    roles sales should still find."""
    roles: dict[str, list[str]] = {role: [] for role in ROLES}
    for person in people:
        if person.engaged and person.role in roles:
            roles[person.role].append(person.name)
    return roles


# ---------------------------------------------------------------- the view


@dataclass
class AccountView:
    """Everything ``nurture accounts show`` and ``GET /api/v1/accounts/<domain>`` show."""

    account: Account
    method: str
    score: float
    people: list[Person]
    roles: dict[str, list[str]]
    missing: list[str]
    timeline: list[dict[str, Any]]
    handoffs: list[dict[str, Any]]
    owner: SalesRep | None
    now: datetime
    engaged: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The JSON representation."""
        account = self.account
        return {
            "account": {
                "id": account.id,
                "domain": account.domain,
                "name": account.name,
                "industry": account.industry,
                "employees": account.employees,
                "annual_revenue": account.annual_revenue,
                "branches": account.branches,
                "country": account.country,
                "owner": None
                if self.owner is None
                else {"id": self.owner.id, "name": self.owner.name, "email": self.owner.email},
            },
            "engagement": {
                "score": round(self.score, 1),
                "method": self.method,
                "explained": describe_method(self.method),
                "as_of": _iso(self.now),
                "people": len(self.people),
                "engaged_people": self.engaged,
            },
            "committee": {
                "roles": self.roles,
                "missing": self.missing,
            },
            "people": [
                {
                    "lead_id": p.lead_id,
                    "email": p.email,
                    "name": p.name,
                    "title": p.title,
                    "role": p.role,
                    "stage": p.stage,
                    "temperature": p.temperature,
                    "score": round(p.score, 1),
                    "fit_grade": p.fit_grade,
                    "engaged": p.engaged,
                    "last_activity": _iso(p.last_activity),
                    "owner": p.owner,
                }
                for p in self.people
            ],
            "handoffs": self.handoffs,
            "timeline": self.timeline,
        }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def find_account(session: Session, ref: str) -> Account | None:
    """An account by domain (case-insensitive, ``www.`` ignored) or id."""
    text = ref.strip().lower().removeprefix("www.")
    if text.isascii() and text.isdigit():
        account_id = parse_id(text)
        return None if account_id is None else session.get(Account, account_id)
    return session.scalar(select(Account).where(Account.domain == text))


def account_view(
    session: Session, ref: str, now: datetime, *, method: str = "top3", timeline: int = 50
) -> AccountView | None:
    """The account's view at ``now``; None when no account has that domain or id."""
    account = find_account(session, ref)
    if account is None:
        return None
    leads, last_seen, latest = _people(session, account.id, now)
    owners = {
        rep.id: rep
        for rep in session.scalars(
            select(SalesRep).where(
                SalesRep.id.in_(
                    {lead.owner_id for lead in leads if lead.owner_id}
                    | ({account.owner_id} if account.owner_id else set())
                )
            )
        )
    }
    people = sorted(
        (
            Person(
                lead_id=lead.id,
                email=lead.email,
                name=lead.name,
                title=lead.title,
                role=role_for_title(lead.title),
                stage=lead.stage,
                temperature=lead.temperature,
                score=lead.score,
                fit_grade=lead.fit_grade,
                last_activity=last_seen.get(lead.id),
                owner=owners[lead.owner_id].name if lead.owner_id in owners else None,
            )
            for lead in leads
        ),
        key=lambda p: (-p.score, p.lead_id),
    )
    roles = committee(people)
    engaged_roles = [role for role, names in roles.items() for _ in names]
    return AccountView(
        account=account,
        method=method,
        score=aggregate((p.score for p in people), method),
        people=people,
        roles=roles,
        missing=missing_roles(engaged_roles),
        timeline=_timeline(session, latest, {lead.id: lead for lead in leads}, timeline),
        handoffs=_handoffs(session, account.id, owners),
        owner=owners.get(account.owner_id) if account.owner_id else None,
        now=now,
        engaged=sum(1 for p in people if p.engaged),
    )


ACTIVITY_TYPES = (
    "email.opened",
    "email.clicked",
    "page.viewed",
    "form.submitted",
    "demo.requested",
    "trial.started",
    "webinar.attended",
    "content.downloaded",
)


@dataclass(frozen=True)
class _Lead:
    """What the view reads of a person (columns, not the ORM object: an account can have
    thousands)."""

    id: int
    email: str
    name: str
    title: str | None
    stage: str
    temperature: str
    score: float
    fit_grade: str | None
    owner_id: int | None


def _people(
    session: Session, account_id: int, now: datetime
) -> tuple[list[_Lead], dict[int, datetime], dict[int, datetime]]:
    """The account's people (by id), each one's latest human activity of the last
    ACTIVITY_DAYS and each one's latest event of any kind: one statement, whose per-person
    subqueries each read the newest end of that person's ``(lead_id, occurred_at)`` index
    rather than every event of the account's people."""
    human = (
        select(Event.occurred_at)
        .where(
            Event.lead_id == Lead.id,
            Event.is_machine.is_(False),
            Event.occurred_at >= now - timedelta(days=ACTIVITY_DAYS),
            Event.type.in_(ACTIVITY_TYPES),
        )
        .order_by(Event.occurred_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    newest = (
        select(Event.occurred_at)
        .where(Event.lead_id == Lead.id)
        .order_by(Event.occurred_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    leads: list[_Lead] = []
    last_seen: dict[int, datetime] = {}
    latest: dict[int, datetime] = {}
    for row in session.execute(
        select(
            Lead.id,
            Lead.email,
            Lead.first_name,
            Lead.last_name,
            Lead.title,
            Lead.stage,
            Lead.temperature,
            Lead.score_value,
            Lead.score_as_of,
            Lead.score_half_life,
            Lead.fit_grade,
            Lead.owner_id,
            human.label("seen"),
            newest.label("newest"),
        )
        .where(Lead.account_id == account_id, Lead.erased_at.is_(None))
        .order_by(Lead.id)
    ):
        leads.append(
            _Lead(
                id=row.id,
                email=row.email,
                name=full_name(row.first_name, row.last_name, row.email),
                title=row.title,
                stage=row.stage,
                temperature=row.temperature,
                score=decayed_score(row.score_value, row.score_as_of, row.score_half_life, now),
                fit_grade=row.fit_grade,
                owner_id=row.owner_id,
            )
        )
        if row.seen is not None:
            last_seen[row.id] = row.seen
        if row.newest is not None:
            latest[row.id] = row.newest
    return leads, last_seen, latest


def _timeline(
    session: Session, latest: dict[int, datetime], leads: dict[int, _Lead], limit: int
) -> list[dict[str, Any]]:
    """The account's people's events together, newest first; machine hits included and
    marked (reports show both numbers), email subjects joined.

    ``latest`` is each person's newest event (people without events are left out). The
    newest ``limit`` events all happened at or after the ``limit``-th newest of those
    moments, so only the people whose newest event is that recent are read, and only from
    that moment on. Events the timeline leaves out (emails to the team) can leave fewer
    than ``limit`` in that window: then a wider one is read, until everything is."""
    if not latest or limit <= 0:
        return []
    moments = sorted(latest.values(), reverse=True)
    rank = limit
    while True:
        if rank <= len(moments):
            since: datetime | None = moments[rank - 1]
            ids = [lead_id for lead_id, moment in latest.items() if moment >= moments[rank - 1]]
        else:
            since, ids = None, list(latest)
        rows = _events(session, sorted(ids), since, limit)
        if len(rows) == limit or since is None:
            break
        rank *= 4
    entries = []
    for event, subject in rows:
        props = event.properties or {}
        lead = leads.get(event.lead_id or 0)
        detail = subject or props.get("url") or props.get("form") or props.get("reason") or ""
        if event.type == "email.clicked" and props.get("url"):
            detail = str(props["url"])
        entries.append(
            {
                "at": _iso(event.occurred_at),
                "lead": lead.email if lead else None,
                "type": event.type,
                "detail": str(detail)[:200],
                "human": not event.is_machine,
                "machine_reasons": list(event.machine_reasons or []),
            }
        )
    return entries


def _events(
    session: Session, ids: list[int], since: datetime | None, limit: int
) -> Sequence[Row[Event, str | None]]:
    """The newest ``limit`` timeline events of these people (at or after ``since``)."""
    query = (
        select(Event, Message.subject)
        .outerjoin(Message, Message.id == Event.message_id)
        .where(
            Event.lead_id.in_(ids),
            # Emails to the team about a lead (notifications, SLA) are not the lead's story.
            or_(Message.kind.is_(None), Message.kind.not_in(INTERNAL_KINDS)),
        )
        .order_by(Event.occurred_at.desc(), Event.id.desc())
        .limit(limit)
    )
    if since is not None:
        query = query.where(Event.occurred_at >= since)
    return session.execute(query).all()


def _handoffs(
    session: Session, account_id: int, owners: dict[int, SalesRep]
) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Handoff, Lead.email, SalesRep.name)
        .join(Lead, Lead.id == Handoff.lead_id)
        .outerjoin(SalesRep, SalesRep.id == Handoff.rep_id)
        .where(Handoff.account_id == account_id)
        .order_by(Handoff.created_at.desc(), Handoff.id.desc())
        .limit(20)
    ).all()
    return [
        {
            "id": handoff.id,
            "lead": email,
            "status": handoff.status,
            "owner": owner,
            "created_at": _iso(handoff.created_at),
            "rule": handoff.qualification_rule,
            "reject_reason": handoff.reject_reason,
            "outcome": handoff.outcome,
        }
        for handoff, email, owner in rows
    ]
