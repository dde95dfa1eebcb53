"""The lead list: search, filters, sorting and keyset pages; the filtered set's ids (bulk
enrolment) and rows (CSV export).

Every order is a (key, id) pair with an index of its own (``nurture.models.lead``), so a
page is one index range scan whatever the table's size, and "next page" is exact even when
many leads share a key. Search is by prefix (email, first or last name, company name or
domain), each an index range scan on lower-cased keys (PostgreSQL: ``text_pattern_ops``);
there is no leading-wildcard scan. A page takes the first rows of each way of matching in
the list's order, then the first of those: a common prefix (thousands of matches) costs a
short walk of the order's index, a rare one a range of its key's index. Nothing here
counts the whole table: the filtered set is counted up to a bound (``count_matching``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, CompoundSelect, Select, func, or_, select, union
from sqlalchemy.orm import Session, aliased

from nurture.leads.fields import CONSENT_STATUSES
from nurture.leads.stages import LIFECYCLE_STAGES
from nurture.models import Account, Campaign, Enrollment, Lead, SalesRep
from nurture.reports.keyset import after_row

PAGE_SIZE = 50
GRADES = ("A", "B", "C", "D")
TEMPERATURES = ("cold", "warm", "hot")
# sort name → (column, descending)
SORTS: dict[str, tuple[Any, bool]] = {
    "newest": (Lead.created_at, True),
    "oldest": (Lead.created_at, False),
    "activity": (Lead.last_activity_at, True),
    "score": (Lead.score_rank, True),
    "name": (Lead.name_key, False),
}
DEFAULT_SORT = "newest"
_MAX_ID = 2**63 - 1
_Q = TypeVar("_Q", bound=Select)  # a select of any row shape
_MAX_TEXT = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class LeadFilter:
    """What the list shows: a search, filters and an order. Empty means "any"."""

    q: str = ""
    stage: str = ""
    grade: str = ""
    temperature: str = ""
    campaign: str = ""  # a campaign key: leads with an active enrolment in it
    account: int | None = None
    source: str = ""
    consent: str = ""
    owner: int | None = None
    sort: str = DEFAULT_SORT

    def query_args(self) -> dict[str, Any]:
        """The filter as URL query parameters (empty ones left out)."""
        args = {
            "q": self.q,
            "stage": self.stage,
            "grade": self.grade,
            "temperature": self.temperature,
            "campaign": self.campaign,
            "account": "" if self.account is None else str(self.account),
            "source": self.source,
            "consent": self.consent,
            "owner": "" if self.owner is None else str(self.owner),
            "sort": "" if self.sort == DEFAULT_SORT else self.sort,
        }
        return {key: value for key, value in args.items() if value}

    @property
    def is_empty(self) -> bool:
        """True when no search or filter narrows the list (the order does not count)."""
        return not (set(self.query_args()) - {"sort"})


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: after the lead (``key``, ``id``) in the list's order."""

    key: Any
    id: int

    def text(self) -> str:
        """The cursor as the ``after`` query parameter."""
        key = self.key.isoformat() if isinstance(self.key, datetime) else self.key
        return f"{key!r},{self.id}" if isinstance(key, float) else f"{key},{self.id}"


def parse_filter(args: Mapping[str, str]) -> tuple[LeadFilter, dict[str, str]]:
    """A filter from query parameters, and a reason per parameter that makes no sense
    (that one is then ignored, so the page still shows something)."""
    errors: dict[str, str] = {}

    def text(name: str, limit: int = _MAX_TEXT) -> str:
        value = (args.get(name) or "").strip()
        if _CONTROL.search(value):
            errors[name] = "contains control characters"
            return ""
        if len(value) > limit:
            errors[name] = f"at most {limit} characters"
            return ""
        return value

    def choice(name: str, options: Sequence[str]) -> str:
        value = text(name)
        if value and value not in options:
            errors[name] = "unknown value; use one of: " + ", ".join(options)
            return ""
        return value

    def number(name: str) -> int | None:
        value = text(name)
        if not value:
            return None
        if not value.isdigit() or int(value) > _MAX_ID:
            errors[name] = "not an id"
            return None
        return int(value)

    sort = choice("sort", tuple(SORTS)) or DEFAULT_SORT
    flt = LeadFilter(
        q=text("q"),
        stage=choice("stage", LIFECYCLE_STAGES),
        grade=choice("grade", GRADES),
        temperature=choice("temperature", TEMPERATURES),
        campaign=text("campaign", 100),
        account=number("account"),
        source=text("source", 100),
        consent=choice("consent", CONSENT_STATUSES),
        owner=number("owner"),
        sort=sort,
    )
    return flt, errors


def parse_cursor(text: str | None, sort: str) -> Cursor | None:
    """The ``after`` parameter for ``sort``, or None when absent or not one of ours."""
    if not text:
        return None
    key_text, _, id_text = text.rpartition(",")
    if not id_text.isdigit() or int(id_text) > _MAX_ID or _CONTROL.search(key_text):
        return None
    column, _desc = SORTS[sort]
    key: Any
    try:
        if column is Lead.score_rank:
            key = float(key_text)
            if key != key or key in (float("inf"), float("-inf")):
                return None
        elif column is Lead.name_key:
            key = key_text
        else:
            key = datetime.fromisoformat(key_text)
            if key.tzinfo is None:
                return None
    except ValueError:
        return None
    return Cursor(key, int(id_text))


# ---------------------------------------------------------------- queries


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _prefix(column: Any, term: str) -> ColumnElement[bool]:
    return column.like(_escape(term) + "%", escape="\\")


def _search(term: str) -> list[ColumnElement[bool]]:
    """The ways a lead matches ``term``: its email, first or last name ("last first" and
    "first last" keys), or its company's name or domain starts with it. Each is an index
    range scan of its own (PostgreSQL: ``text_pattern_ops``); a lead matches when any does.
    """
    term = term.lower()
    if "@" in term:
        return [_prefix(Lead.email, term)]
    return [
        _prefix(Lead.email, term),
        _prefix(Lead.name_key, term),
        _prefix(Lead.full_name_key, term),
        Lead.account_id.in_(
            select(Account.id).where(
                or_(_prefix(Account.name_key, term), _prefix(Account.domain, term))
            )
        ),
    ]


def _conditions(flt: LeadFilter) -> list[ColumnElement[bool]]:
    """The filter's conditions but its search (``_branches`` adds that)."""
    conditions: list[ColumnElement[bool]] = [Lead.erased_at.is_(None)]
    if flt.stage:
        conditions.append(Lead.stage == flt.stage)
    if flt.grade:
        conditions.append(Lead.fit_grade == flt.grade)
    if flt.temperature:
        conditions.append(Lead.temperature == flt.temperature)
    if flt.account is not None:
        conditions.append(Lead.account_id == flt.account)
    if flt.source:
        conditions.append(Lead.source == flt.source)
    if flt.consent:
        conditions.append(Lead.consent_status == flt.consent)
    if flt.owner is not None:
        conditions.append(Lead.owner_id == flt.owner)
    if flt.campaign:
        # The campaign's active enrolments, from ix_enrollments_campaign_status_lead alone.
        campaign_id = select(Campaign.id).where(Campaign.key == flt.campaign).scalar_subquery()
        conditions.append(
            Lead.id.in_(
                select(Enrollment.lead_id).where(
                    Enrollment.campaign_id == campaign_id, Enrollment.status == "active"
                )
            )
        )
    return conditions


def _branches(flt: LeadFilter) -> list[list[ColumnElement[bool]]]:
    """The filter as lists of conditions: a lead matches when it meets every condition of
    one list. One list without a search; with one, a list per way of matching it, so that
    each is planned on its own (``_first_ids``)."""
    conditions = _conditions(flt)
    if not flt.q:
        return [conditions]
    return [[*conditions, match] for match in _search(flt.q)]


def _first_ids(
    flt: LeadFilter, limit: int, arrange: Callable[[Select[int]], Select[int]]
) -> Select[int] | CompoundSelect[int]:
    """The ids of the first ``limit`` leads of each branch of ``flt`` in the order (and
    after the cursor) ``arrange`` gives: every lead among the first ``limit`` the whole
    filter matches is among them. Each branch is its own small plan (a walk of the order's
    index while matches are common, the search key's index and a sort while they are rare),
    so a page never reads all the matches of a common prefix."""
    picks = [
        arrange(select(Lead.id).where(*conditions)).limit(limit).subquery()
        for conditions in _branches(flt)
    ]
    if len(picks) == 1:
        return select(picks[0].c.id)
    return union(*(select(pick.c.id) for pick in picks))


def _ordered(query: _Q, flt: LeadFilter, after: Cursor | None) -> _Q:
    column, desc = SORTS[flt.sort]
    if after is not None:
        query = query.where(after_row((column, Lead.id), (after.key, after.id), descending=desc))
    if desc:
        return query.order_by(column.desc(), Lead.id.desc())
    return query.order_by(column, Lead.id)


@dataclass(frozen=True)
class LeadRow:
    """One lead as the list shows it."""

    id: int
    email: str
    first_name: str | None
    last_name: str | None
    title: str | None
    stage: str
    fit_grade: str | None
    temperature: str
    score: float  # decayed to ``now``
    account_id: int | None
    company: str | None
    source: str | None
    consent_status: str
    owner: str | None
    created_at: datetime
    last_activity_at: datetime
    cursor: Cursor

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


@dataclass(frozen=True)
class LeadPage:
    """One page of the list, and where the next one starts (None on the last page)."""

    rows: list[LeadRow]
    next_cursor: Cursor | None


def _row(lead: Lead, company: str | None, owner: str | None, now: datetime, sort: str) -> LeadRow:
    column, _desc = SORTS[sort]
    key = getattr(lead, column.key)
    return LeadRow(
        id=lead.id,
        email=lead.email,
        first_name=lead.first_name,
        last_name=lead.last_name,
        title=lead.title,
        stage=lead.stage,
        fit_grade=lead.fit_grade,
        temperature=lead.temperature,
        score=lead.decayed_score(now),
        account_id=lead.account_id,
        company=company,
        source=lead.source,
        consent_status=lead.consent_status,
        owner=owner,
        created_at=lead.created_at,
        last_activity_at=lead.last_activity_at,
        cursor=Cursor(key, lead.id),
    )


def _rows_query(ids: Select[int] | CompoundSelect[int]) -> Select[Lead, str, str]:
    owner = aliased(SalesRep)
    return (
        select(Lead, func.coalesce(Account.name, Account.domain), owner.name)
        .outerjoin(Account, Account.id == Lead.account_id)
        .outerjoin(owner, owner.id == Lead.owner_id)
        .where(Lead.id.in_(ids))
    )


def list_page(
    session: Session,
    flt: LeadFilter,
    now: datetime,
    *,
    after: Cursor | None = None,
    size: int = PAGE_SIZE,
) -> LeadPage:
    """The page of ``size`` leads after ``after`` in the filter's order.

    The page's ids first (from the order's index alone where the filter allows, e.g. a
    campaign's leads), then those rows with their company and owner."""
    ids = _first_ids(flt, size + 1, lambda query: _ordered(query, flt, after))
    query = _ordered(_rows_query(ids), flt, None).limit(size + 1)
    found = [
        _row(lead, company, owner, now, flt.sort) for lead, company, owner in session.execute(query)
    ]
    more = len(found) > size
    rows = found[:size]
    return LeadPage(rows, rows[-1].cursor if more and rows else None)


def count_matching(session: Session, flt: LeadFilter, *, bound: int) -> int:
    """How many leads the filter matches, counted up to ``bound + 1`` (a number above
    ``bound`` means "more than ``bound``"), so the count never reads the whole table: the
    first ``bound + 1`` by id (the primary key's order) of each branch of the filter."""
    ids = _first_ids(flt, bound + 1, lambda query: query.order_by(Lead.id)).subquery()
    found = int(session.scalar(select(func.count()).select_from(ids)) or 0)
    return min(found, bound + 1)


def matching_ids(session: Session, flt: LeadFilter, *, limit: int) -> list[int]:
    """The ids of the first ``limit`` leads the filter matches, in the filter's order."""
    ids = _first_ids(flt, limit, lambda query: _ordered(query, flt, None))
    query = _ordered(select(Lead.id).where(Lead.id.in_(ids)), flt, None).limit(limit)
    return list(session.scalars(query))


def iter_rows(
    session: Session, flt: LeadFilter, now: datetime, *, batch: int = 1000
) -> Iterator[LeadRow]:
    """Every lead the filter matches, in its order, read a keyset page at a time (the CSV
    export streams these)."""
    after: Cursor | None = None
    while True:
        page = list_page(session, flt, now, after=after, size=batch)
        yield from page.rows
        if page.next_cursor is None:
            return
        after = page.next_cursor


# ---------------------------------------------------------------- the filter's choices


@dataclass(frozen=True)
class Choice:
    """An option of a filter: its value and what people read."""

    value: str
    label: str


def filter_choices(session: Session, flt: LeadFilter) -> dict[str, list[Choice]]:
    """The options of the filters whose values live in other tables: campaigns (active
    ones), sales reps, and the chosen account (accounts are too many to list)."""
    campaigns = [
        Choice(key, name)
        for key, name in session.execute(
            select(Campaign.key, Campaign.name)
            .where(Campaign.active_version_id.is_not(None))
            .order_by(Campaign.name, Campaign.key)
        )
    ]
    owners = [
        Choice(str(rep_id), name)
        for rep_id, name in session.execute(
            select(SalesRep.id, SalesRep.name).order_by(SalesRep.name, SalesRep.id)
        )
    ]
    account: list[Choice] = []
    if flt.account is not None:
        found = session.execute(
            select(Account.id, func.coalesce(Account.name, Account.domain)).where(
                Account.id == flt.account
            )
        ).first()
        if found is not None:
            account = [Choice(str(found[0]), found[1] or str(found[0]))]
    return {"campaigns": campaigns, "owners": owners, "account": account}


def without(flt: LeadFilter, **changes: Any) -> LeadFilter:
    """``flt`` with some fields changed (e.g. a filter removed)."""
    return replace(flt, **changes)
