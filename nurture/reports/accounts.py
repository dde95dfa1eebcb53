"""The account list and an account's page: search, filters, sort orders and keyset pages
over the accounts table's indexes, and the per-page figures (people, engaged people, open
handoffs) counted only for the accounts on the page.

The score shown and sorted by is the rolled-up engagement score kept on each account
(``nurture.handoff.account_scores``), decayed to now; an account's page computes it afresh
from its people (``nurture.handoff.account_view``), with how it is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from nurture.handoff.account_scores import account_score
from nurture.handoff.account_view import ENGAGED_TEMPERATURES, AccountView
from nurture.models import Account, Handoff, Lead
from nurture.platform.policies import TOP_N_RE

PAGE_SIZE = 50
SORTS = ("score", "name", "activity")
# Company size bands by employees, as CRMs and LinkedIn group them: key -> (min, max).
SIZE_BANDS: dict[str, tuple[int, int | None]] = {
    "1-10": (1, 10),
    "11-50": (11, 50),
    "51-200": (51, 200),
    "201-1000": (201, 1000),
    "1001-5000": (1001, 5000),
    "5001+": (5001, None),
}
_CHOICES_LIMIT = 300


@dataclass(frozen=True)
class AccountFilter:
    """What the list is narrowed to. ``query`` matches the name or domain (anywhere, case
    ignored); ``size`` is a key of ``SIZE_BANDS``."""

    query: str = ""
    industry: str = ""
    country: str = ""
    size: str = ""
    open_handoff: bool = False


@dataclass(frozen=True)
class AccountRow:
    """One account in the list."""

    id: int
    name: str | None
    domain: str | None
    industry: str | None
    country: str | None
    employees: int | None
    score: float
    last_activity_at: datetime | None
    people: int
    engaged: int
    open_handoffs: int

    @property
    def label(self) -> str:
        """The name, else the domain, else the id."""
        return self.name or self.domain or f"#{self.id}"


@dataclass(frozen=True)
class AccountPage:
    """A page of accounts; ``next_after`` is the cursor of the next page (None: last)."""

    rows: list[AccountRow]
    next_after: str | None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _text(value: str) -> str:
    # PostgreSQL text cannot hold NUL: a value with one matches nothing stored anyway.
    return value.replace("\x00", "")


def _conditions(filters: AccountFilter) -> list[ColumnElement[bool]]:
    filters = AccountFilter(
        query=_text(filters.query),
        industry=_text(filters.industry),
        country=_text(filters.country),
        size=filters.size,
        open_handoff=filters.open_handoff,
    )
    where: list[ColumnElement[bool]] = []
    if filters.query.strip():
        pattern = f"%{_escape_like(filters.query.strip().lower())}%"
        where.append(
            or_(
                func.lower(Account.name).like(pattern, escape="\\"),
                Account.domain.like(pattern, escape="\\"),
            )
        )
    if filters.industry:
        where.append(Account.industry == filters.industry)
    if filters.country:
        where.append(Account.country == filters.country.upper())
    if filters.size in SIZE_BANDS:
        low, high = SIZE_BANDS[filters.size]
        where.append(Account.employees >= low)
        if high is not None:
            where.append(Account.employees <= high)
    if filters.open_handoff:
        where.append(
            exists().where(Handoff.account_id == Account.id, Handoff.open_lead_id.is_not(None))
        )
    return where


def parse_cursor(sort: str, after: str) -> tuple[object, int] | None:
    """``<sort key>,<id>`` back into its values; None when it is not one."""
    key, _, ident = _text(after).rpartition(",")
    if not ident.isdigit() or len(ident) > 10 or int(ident) > 2**31 - 1:
        return None
    if sort == "score":
        try:
            return float(key), int(ident)
        except ValueError:
            return None
    if sort == "activity":
        if not key:
            return None, int(ident)
        try:
            return datetime.fromisoformat(key), int(ident)
        except ValueError:
            return None
    return (key or None), int(ident)


def _cursor(sort: str, row: Account) -> str:
    if sort == "score":
        return f"{row.score_rank!r},{row.id}"
    if sort == "activity":
        moment = row.last_activity_at
        return f"{moment.isoformat() if moment else ''},{row.id}"
    return f"{row.name or ''},{row.id}"


def _keyset(sort: str, cursor: tuple[object, int]) -> ColumnElement[bool]:
    value, ident = cursor
    if sort == "score":
        return or_(
            Account.score_rank < value,
            and_(Account.score_rank == value, Account.id < ident),
        )
    if sort == "activity":
        if value is None:
            return and_(Account.last_activity_at.is_(None), Account.id < ident)
        return or_(
            Account.last_activity_at < value,
            and_(Account.last_activity_at == value, Account.id < ident),
            Account.last_activity_at.is_(None),
        )
    if value is None:
        return and_(Account.name.is_(None), Account.id > ident)
    return or_(
        Account.name > value,
        and_(Account.name == value, Account.id > ident),
        Account.name.is_(None),
    )


def _order(sort: str) -> tuple[ColumnElement[Any], ...]:
    if sort == "score":
        return (Account.score_rank.desc(), Account.id.desc())
    if sort == "activity":
        return (Account.last_activity_at.desc().nulls_last(), Account.id.desc())
    return (Account.name.asc().nulls_last(), Account.id.asc())


def list_accounts(
    session: Session,
    *,
    now: datetime,
    filters: AccountFilter = AccountFilter(),
    sort: str = "score",
    after: str | None = None,
    limit: int = PAGE_SIZE,
) -> AccountPage:
    """A page of accounts matching ``filters`` in ``sort`` order (most engaged first, by
    name, or latest activity first), after the cursor ``after``."""
    sort = sort if sort in SORTS else "score"
    query = select(Account).where(*_conditions(filters)).order_by(*_order(sort)).limit(limit + 1)
    cursor = parse_cursor(sort, after) if after else None
    if cursor is not None:
        query = query.where(_keyset(sort, cursor))
    accounts = list(session.scalars(query))
    more = len(accounts) > limit
    accounts = accounts[:limit]
    ids = [account.id for account in accounts]
    people: dict[int, tuple[int, int]] = {}
    handoffs: dict[int, int] = {}
    if ids:
        engaged = func.count().filter(Lead.temperature.in_(ENGAGED_TEMPERATURES))
        for account_id, total, warm in session.execute(
            select(Lead.account_id, func.count(), engaged)
            .where(Lead.account_id.in_(ids), Lead.erased_at.is_(None))
            .group_by(Lead.account_id)
        ):
            if account_id is not None:
                people[account_id] = (int(total), int(warm))
        handoffs = {
            account_id: int(count)
            for account_id, count in session.execute(
                select(Handoff.account_id, func.count())
                .where(Handoff.account_id.in_(ids), Handoff.open_lead_id.is_not(None))
                .group_by(Handoff.account_id)
            )
            if account_id is not None
        }
    rows = [
        AccountRow(
            id=account.id,
            name=account.name,
            domain=account.domain,
            industry=account.industry,
            country=account.country,
            employees=account.employees,
            score=account_score(account.score_value, account.score_as_of, now),
            last_activity_at=account.last_activity_at,
            people=people.get(account.id, (0, 0))[0],
            engaged=people.get(account.id, (0, 0))[1],
            open_handoffs=handoffs.get(account.id, 0),
        )
        for account in accounts
    ]
    return AccountPage(rows, _cursor(sort, accounts[-1]) if more and accounts else None)


def filter_choices(session: Session) -> tuple[list[str], list[str]]:
    """The industries and countries accounts have, for the filter selects."""
    industries = list(
        session.scalars(
            select(Account.industry)
            .distinct()
            .where(Account.industry.is_not(None))
            .order_by(Account.industry)
            .limit(_CHOICES_LIMIT)
        )
    )
    countries = list(
        session.scalars(
            select(Account.country)
            .distinct()
            .where(Account.country.is_not(None))
            .order_by(Account.country)
            .limit(_CHOICES_LIMIT)
        )
    )
    return [i for i in industries if i], [c for c in countries if c]


def counted_people(view: AccountView) -> set[int]:
    """The people whose scores make up the account's score (the top N, the single most
    engaged, or everyone with a positive score), by lead id."""
    positive = [p for p in view.people if p.score > 0]  # already most engaged first
    if view.method == "max":
        positive = positive[:1]
    elif match := TOP_N_RE.fullmatch(view.method):
        positive = positive[: int(match.group(1))]
    return {p.lead_id for p in positive}


def open_handoffs(view: AccountView) -> list[dict[str, object]]:
    """The account's handoffs that sales still works (offered or accepted)."""
    return [h for h in view.handoffs if h["status"] in ("offered", "accepted")]
