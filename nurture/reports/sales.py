"""What the sales pages read: a rep's inbox (waiting, open deals, closed), one handoff in
full, and the rows, keys and reps every sales list shares (the manager's views are in
``nurture.reports.sales_team``).

Lists are keyset-paged (``after``: the sort key and id of the last row shown) over the
handoffs' indexes: ``(rep_id, created_at)`` for an inbox, ``(status, created_at)`` for the
open handoffs and ``(status, decided_at)`` for the rejections; every other table is joined
by primary key. Changes never happen here: they go through ``nurture.handoff.verdicts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from nurture.handoff.model import FINAL_OUTCOMES, HandoffError
from nurture.handoff.reports import handoff_actions
from nurture.handoff.reps import find_rep
from nurture.handoff.team import RejectReason
from nurture.handoff.team_parser import DEFAULT_REASONS
from nurture.handoff.team_sync import active_team
from nurture.models import Account, Handoff, HandoffSla, Lead, SalesRep
from nurture.reports.keyset import after_row

PAGE_SIZE = 50
# The inbox's tabs: waiting for the rep's verdict, accepted deals without a final outcome,
# and everything finished (rejected, reassigned away, won, lost).
TABS = ("waiting", "open", "closed")
# The manager's filter on the SLA of open handoffs.
SLA_FILTERS = ("overdue", "running", "met", "breached", "none")
_KEY_FORMAT = "%Y%m%dT%H%M%S%f"
_PROGRESS = ("sql", "opportunity")


# ---------------------------------------------------------------- keys and values


def encode_after(moment: datetime, row_id: int) -> str:
    """The ``after`` parameter naming one row of a list: ``20261201T150000000000,12``."""
    return f"{moment.astimezone(UTC):{_KEY_FORMAT}},{row_id}"


def decode_after(text: str | None) -> tuple[datetime, int] | None:
    """The sort key and id an ``after`` parameter names; None for none or a bad one (the
    list then starts at its first page)."""
    if not text or len(text) > 60:
        return None
    stamp, _, row_id = text.partition(",")
    if not row_id.isdigit() or len(row_id) > 18:
        return None
    try:
        moment = datetime.strptime(stamp, _KEY_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None
    return moment, int(row_id)


@dataclass(frozen=True)
class RepInfo:
    """A sales rep as the pages show them."""

    id: int
    name: str
    email: str
    timezone: str
    working_hours: str
    active: bool
    in_team: bool

    @property
    def available(self) -> bool:
        """Active and in the team file: may be given leads."""
        return self.active and self.in_team


def rep_info(rep: SalesRep) -> RepInfo:
    return RepInfo(
        rep.id, rep.name, rep.email, rep.timezone, rep.working_hours, rep.active, rep.in_team
    )


def rep_for_user(session: Session, email: str) -> RepInfo | None:
    """The sales rep a signed-in user is, matched by email address (None: not a rep)."""
    try:
        rep = find_rep(session, email.strip().lower()) if "@" in email else None
    except HandoffError:
        return None
    return rep_info(rep) if rep is not None else None


def team_reps(session: Session) -> list[RepInfo]:
    """Every rep in the team file, by name (inactive ones too: the pages mark them)."""
    reps = session.scalars(
        select(SalesRep).where(SalesRep.in_team.is_(True)).order_by(SalesRep.name, SalesRep.id)
    )
    return [rep_info(rep) for rep in reps]


def reject_reasons(session: Session) -> tuple[RejectReason, ...]:
    """The reasons the active team file allows (the defaults when no team is synced)."""
    team = active_team(session)
    return team.reject_reasons if team else DEFAULT_REASONS


def team_currency(session: Session) -> str:
    """The currency deal values default to (the team file's)."""
    team = active_team(session)
    return team.currency if team else "USD"


# ---------------------------------------------------------------- rows


@dataclass(frozen=True)
class SlaState:
    """A handoff's SLA clock: ``pending`` until the owner responds, then ``met`` or
    ``breached``; ``void`` when reassigned by hand in time."""

    status: str
    due_at: datetime
    timezone: str
    policy: str
    responded_at: datetime | None
    response_business_seconds: float | None

    def overdue(self, now: datetime) -> bool:
        """Not answered and past the deadline (``past_deadline``)."""
        return (
            self.status in ("pending", "breached")
            and self.responded_at is None
            and self.due_at <= now
        )


def past_deadline(now: datetime) -> ColumnElement[bool]:
    """A clock whose deadline passed without an answer: still pending (the worker has not
    escalated it yet) or breached. With escalation to the manager only, a breached handoff
    stays with its owner, waiting, and is no less late for having been escalated."""
    return and_(
        HandoffSla.status.in_(("pending", "breached")),
        HandoffSla.responded_at.is_(None),
        HandoffSla.due_at <= now,
    )


@dataclass(frozen=True)
class HandoffRow:
    """One handoff in a list."""

    id: int
    status: str
    created_at: datetime
    decided_at: datetime | None
    lead_id: int
    lead_name: str
    lead_email: str
    lead_title: str | None
    lead_stage: str
    company: str | None
    owner: RepInfo | None
    needs_owner: bool
    qualification_rule: str
    hand_raiser: bool
    campaign: str | None
    source: str | None
    fit_grade: str | None
    score: float
    temperature: str | None
    outcome: str | None
    deal_value: Decimal | None
    deal_currency: str | None
    reject_reason: str | None
    reject_note: str | None
    lost_reason: str | None
    sla: SlaState | None
    # The person was erased: the pages say so instead of showing the placeholder address.
    lead_erased: bool = False

    @property
    def is_open_deal(self) -> bool:
        """Accepted, or converted without a final outcome: an outcome can still be set."""
        return self.status == "accepted" or (
            self.status == "converted" and self.outcome not in FINAL_OUTCOMES
        )


@dataclass(frozen=True)
class ListPage:
    """One page of a list and the ``after`` of the next page (None: the last page)."""

    rows: list[HandoffRow]
    next_after: str | None


def base_query() -> Select[Handoff, Lead, Account, SalesRep, HandoffSla]:
    return (
        select(Handoff, Lead, Account, SalesRep, HandoffSla)
        .join(Lead, Lead.id == Handoff.lead_id)
        .outerjoin(Account, Account.id == Lead.account_id)
        .outerjoin(SalesRep, SalesRep.id == Handoff.rep_id)
        .outerjoin(HandoffSla, HandoffSla.handoff_id == Handoff.id)
    )


def _row(
    handoff: Handoff,
    lead: Lead,
    account: Account | None,
    rep: SalesRep | None,
    clock: HandoffSla | None,
) -> HandoffRow:
    sla = (
        None
        if clock is None
        else SlaState(
            clock.status,
            clock.due_at,
            clock.timezone,
            clock.policy,
            clock.responded_at,
            clock.response_business_seconds,
        )
    )
    return HandoffRow(
        id=handoff.id,
        status=handoff.status,
        created_at=handoff.created_at,
        decided_at=handoff.decided_at,
        lead_id=lead.id,
        lead_name=lead.full_name,
        lead_erased=lead.erased_at is not None,
        lead_email=lead.email,
        lead_title=lead.title,
        lead_stage=lead.stage,
        company=(account.name or account.domain) if account is not None else None,
        owner=rep_info(rep) if rep is not None else None,
        needs_owner=handoff.needs_owner,
        qualification_rule=handoff.qualification_rule,
        hand_raiser=handoff.hand_raiser,
        campaign=handoff.campaign,
        source=handoff.source,
        fit_grade=handoff.fit_grade,
        score=handoff.score,
        temperature=handoff.temperature,
        outcome=handoff.outcome,
        deal_value=handoff.deal_value,
        deal_currency=handoff.deal_currency,
        reject_reason=handoff.reject_reason,
        reject_note=handoff.reject_note,
        lost_reason=handoff.lost_reason,
        sla=sla,
    )


def page_of(
    session: Session,
    query: Select[Handoff, Lead, Account, SalesRep, HandoffSla],
    key: Any,
    limit: int,
    *,
    key_of: str = "created_at",
) -> ListPage:
    rows = [_row(*found) for found in session.execute(query.limit(limit + 1)).all()]
    more = len(rows) > limit
    rows = rows[:limit]
    next_after = None
    if more and rows:
        last = rows[-1]
        moment = getattr(last, key_of)
        assert moment is not None
        next_after = encode_after(moment, last.id)
    return ListPage(rows, next_after)


def keyset_after(column: Any, after: tuple[datetime, int] | None, *, ascending: bool) -> Any:
    if after is None:
        return None
    return after_row((column, Handoff.id), after, descending=not ascending)


# ---------------------------------------------------------------- the rep's inbox


def _tab_condition(tab: str) -> Any:
    if tab == "waiting":
        return Handoff.status == "offered"
    if tab == "open":
        return or_(
            Handoff.status == "accepted",
            and_(Handoff.status == "converted", Handoff.outcome.in_(_PROGRESS)),
        )
    return or_(
        Handoff.status.in_(("rejected", "reassigned")),
        and_(Handoff.status == "converted", Handoff.outcome.in_(tuple(FINAL_OUTCOMES))),
    )


def inbox(
    session: Session,
    rep_id: int,
    tab: str,
    *,
    after: tuple[datetime, int] | None = None,
    limit: int = PAGE_SIZE,
) -> ListPage:
    """The rep's handoffs in ``tab``: waiting ones oldest first (the most urgent on top),
    open deals and closed ones newest first."""
    if tab not in TABS:
        raise ValueError(f"unknown tab {tab!r}")
    ascending = tab == "waiting"
    query = base_query().where(Handoff.rep_id == rep_id, _tab_condition(tab))
    keyset = keyset_after(Handoff.created_at, after, ascending=ascending)
    if keyset is not None:
        query = query.where(keyset)
    if ascending:
        query = query.order_by(Handoff.created_at, Handoff.id)
    else:
        query = query.order_by(Handoff.created_at.desc(), Handoff.id.desc())
    return page_of(session, query, after, limit)


@dataclass(frozen=True)
class InboxCounts:
    """How many of the rep's handoffs are in each tab, and how many waiting are overdue."""

    waiting: int
    open: int
    closed: int
    overdue: int


def inbox_counts(session: Session, rep_id: int, now: datetime) -> InboxCounts:
    """The counts of the inbox's tabs (the rep's own handoffs: an index range)."""
    counts = dict.fromkeys(TABS, 0)
    rows = session.execute(
        select(Handoff.status, Handoff.outcome, func.count())
        .where(Handoff.rep_id == rep_id)
        .group_by(Handoff.status, Handoff.outcome)
    ).all()
    for status, outcome, count in rows:
        if status == "offered":
            counts["waiting"] += count
        elif status == "accepted" or (status == "converted" and outcome in _PROGRESS):
            counts["open"] += count
        else:
            counts["closed"] += count
    overdue = session.scalar(
        select(func.count())
        .select_from(Handoff)
        .join(HandoffSla, HandoffSla.handoff_id == Handoff.id)
        .where(Handoff.rep_id == rep_id, Handoff.status == "offered", past_deadline(now))
    )
    return InboxCounts(counts["waiting"], counts["open"], counts["closed"], overdue or 0)


# ---------------------------------------------------------------- one handoff


@dataclass(frozen=True)
class LogEntry:
    """One line of the handoff's own log."""

    at: datetime
    action: str
    actor: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class HandoffDetail:
    """A handoff in full: its row, what the owner was told (the notification's stored
    content, ``Handoff.snapshot``), how it was assigned, its log and its neighbours in a
    reassignment chain."""

    row: HandoffRow
    snapshot: dict[str, Any]
    assignment_method: str
    assignment_reason: str
    log: list[LogEntry]
    previous_id: int | None
    next_id: int | None
    account_id: int | None = None


def handoff_detail(session: Session, handoff_id: int) -> HandoffDetail | None:
    """The handoff with ``handoff_id``, or None."""
    found = session.execute(base_query().where(Handoff.id == handoff_id)).first()
    if found is None:
        return None
    handoff = found[0]
    next_id = session.scalar(select(Handoff.id).where(Handoff.previous_id == handoff.id))
    log = [
        LogEntry(entry.at, entry.action, entry.actor, dict(entry.detail or {}))
        for entry in handoff_actions(session, handoff.id)
    ]
    return HandoffDetail(
        row=_row(*found),
        snapshot=dict(handoff.snapshot or {}),
        assignment_method=handoff.assignment_method,
        assignment_reason=handoff.assignment_reason,
        log=log,
        previous_id=handoff.previous_id,
        next_id=next_id,
        account_id=handoff.account_id,
    )
