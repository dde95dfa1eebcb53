"""A report's filters and grouping as SQL over the leads, and the check that each filter
names something that exists.

``scoped`` adds the filters' conditions to a report query and returns the expression its
rows are grouped by; the query has ``leads`` in its FROM, or names the lead's id
(``lead_id``) when nothing of the lead's row is read (``reads_lead_row``). What each dimension means
(docs/analytics.md, "Filters and groups"):

- ``source``: the lead's ``source`` (first touch; where the lead came from, as captured);
- ``campaign``: a campaign the lead was ever enrolled in (a lead in two campaigns counts in
  both groups, so the groups can add up to more than the whole);
- ``owner``: the rep of the lead's latest handoff;
- ``grade``: the lead's fit grade now (no history of grades is kept);
- ``segment``: the active sales team file's segment of the lead's account (by its employees
  now, the first segment that fits, as assignment does);
- ``month``: the month (UTC) of what is counted (``when``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple, TypeAlias

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    cast,
    exists,
    extract,
    false,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from nurture.analytics.definitions import RANK
from nurture.analytics.filters import FilterError, ReportFilter, add_months, midnight, months
from nurture.handoff.team import Team
from nurture.handoff.team_sync import active_team
from nurture.models import (
    Account,
    Campaign,
    CampaignEntry,
    Enrollment,
    Handoff,
    Lead,
    SalesRep,
)
from nurture.platform.db import UTCDateTime

# A query whatever its columns (SQLAlchemy's Select is generic over them).
AnySelect: TypeAlias = "Select[*tuple[Any, ...]]"


# How a report's transaction runs on PostgreSQL. A report reads a year of rows once, and
# the JIT compiler spends more on compiling such a query than it saves (EXPLAIN ANALYZE on
# the benchmark's database: 0.1-4 s of compilation for reports of about a second). More
# work_mem was measured too (64 MB: no steady gain, velocity slower), so it stays the
# server's. Set for the report's own transaction only.
REPORT_SETTINGS = {"jit": "off"}


def report_settings(session: Session) -> None:
    """Set ``REPORT_SETTINGS`` for the rest of the session's transaction (PostgreSQL)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for name, value in REPORT_SETTINGS.items():
        session.execute(select(func.set_config(name, value, True)))


def check_filter(session: Session, report: ReportFilter) -> Team | None:
    """The active sales team (for segments), after checking that the source, campaign,
    owner and segment the filter names exist; ``FilterError`` names those that do not.
    Every report starts here, so its transaction gets ``report_settings`` too."""
    report_settings(session)
    errors: dict[str, str] = {}
    if report.source is not None and not session.scalar(
        select(exists().where(Lead.source == report.source))
    ):
        errors["source"] = f"no lead has the source {report.source!r}"
    if report.campaign is not None and not session.scalar(
        select(exists().where(Campaign.key == report.campaign))
    ):
        errors["campaign"] = f"no campaign has the key {report.campaign!r}"
    if report.owner is not None and not session.scalar(
        select(exists().where(SalesRep.email == report.owner))
    ):
        errors["owner"] = f"no sales rep has the email {report.owner!r}"
    team = active_team(session)
    if report.segment is not None:
        known = [segment.id for segment in team.segments] if team else []
        if report.segment not in known:
            errors["segment"] = (
                f"unknown segment {report.segment!r}: the sales team file defines "
                + (", ".join(known) if known else "none")
            )
    if errors:
        raise FilterError(errors)
    return team


def uses_leads(report: ReportFilter) -> bool:
    """Whether the filter or the grouping reads anything of the lead (a query that starts
    elsewhere can then leave ``leads`` out)."""
    filters = (report.source, report.campaign, report.owner, report.grade, report.segment)
    return any(value is not None for value in filters) or report.group_by not in (None, "month")


def reads_lead_row(report: ReportFilter) -> bool:
    """Whether the filter or the grouping reads a column of the lead's row or of its
    account (its source, grade, segment): its owner and its campaigns are found by its id."""
    fields = (report.source, report.grade, report.segment)
    return any(value is not None for value in fields) or report.group_by in (
        "source",
        "grade",
        "segment",
    )


def reads_lead_fields(report: ReportFilter) -> bool:
    """Whether the filter or the grouping reads a field of the lead besides its creation and
    its campaigns (what ``campaign_entries`` holds)."""
    return uses_leads(replace(report, campaign=None, group_by=None)) or report.group_by not in (
        None,
        "month",
        "campaign",
    )


class Creation(NamedTuple):
    """The creation of ``created_leads``' rows as numbers: its ``month`` (202601) and its
    ``day`` (20260105), UTC; and its instant, ``leads.created_at``, when the rows are the
    leads' (None when they are the stored days of ``campaign_entries``)."""

    month: ColumnElement[int]
    day: ColumnElement[int]
    at: Any = None


def created_leads(
    report: ReportFilter, team: Team | None, start: datetime, end: datetime
) -> tuple[AnySelect, ColumnElement[Any] | None, Creation]:
    """The leads created in ``[start, end)`` (midnights, UTC, as a report's period is)
    narrowed to the filter (a ``lead_id`` column), the expression of the filter's
    grouping, and their creation's month and day, as ``scoped`` gives them; grouped by
    campaign, the group is the campaign's id (``created_group_names`` names it). Grouped
    by campaign with no other field of the lead read, the rows are the period's (lead,
    campaign) pairs of ``campaign_entries`` alone: the same rows, without joining the
    year's leads to their enrolments, with their stored day, and counted per campaign id
    before any campaign's key is read."""
    if report.group_by == "campaign" and not reads_lead_fields(report):
        day = CampaignEntry.__table__.c["created_day"]
        campaign = CampaignEntry.__table__.c["campaign_id"]
        pairs: AnySelect = select(CampaignEntry.lead_id).where(
            day >= midnight_day(start), day < midnight_day(end)
        )
        if report.campaign is not None:
            named = select(Campaign.id).where(Campaign.key == report.campaign)
            pairs = pairs.where(campaign == named.scalar_subquery())
        return pairs, campaign, Creation(month=day // 100, day=day)
    leads = select(Lead.id.label("lead_id")).where(Lead.created_at >= start, Lead.created_at < end)
    statement, group = scoped(leads, report, team, when=Lead.created_at, campaign_ids=True)
    creation = Creation(month_number(Lead.created_at), day_number(Lead.created_at), Lead.created_at)
    return statement, group, creation


def created_group_names(session: Session, report: ReportFilter) -> Callable[[Any], Any]:
    """How ``created_leads``' groups are named as every other query of the report names
    them: a campaign's id by its key; any other group as it is."""
    if report.group_by != "campaign":
        return lambda group: group
    keys = campaign_keys(session)
    return lambda group: keys.get(group) if group is not None else None


def midnight_day(when: datetime) -> int:
    """The day number of a midnight: the instants of ``[start, end)`` are those of the
    days ``[day(start), day(end))``. Any other time has no such day."""
    if when.time() != time(0) or when.utcoffset() not in (None, timedelta(0)):
        raise ValueError(f"a report's period starts and ends at midnight UTC, not {when}")
    return when.year * 10000 + when.month * 100 + when.day


def in_campaigns(rows: Any, report: ReportFilter) -> Any:
    """``rows`` (a derived table with one row per lead, ``lead_id``) once for each campaign
    the lead entered (the ``campaign`` grouping, as ``report_group``; only the filter's
    campaign when it names one). Joined after the rows are summed per lead, so the pairs
    multiply the leads' sums, not the history they were summed from."""
    statement = (
        select(*rows.c, Campaign.key.label("report_group"))
        .join(CampaignEntry, CampaignEntry.lead_id == rows.c.lead_id)
        .join(Campaign, Campaign.id == CampaignEntry.campaign_id)
    )
    if report.campaign is not None:
        statement = statement.where(Campaign.key == report.campaign)
    return statement.subquery("in_campaigns")


def enters(stage: str, from_stage: Any, to_stage: Any) -> ColumnElement[bool]:
    """SQL for ``stage in entered_stages(from_stage, to_stage)``
    (``nurture.analytics.definitions``)."""
    position = RANK[stage]
    return or_(
        and_(_rank(to_stage) >= position, _rank(from_stage) < position),
        to_stage == stage,
    )


def _rank(column: Any) -> ColumnElement[int]:
    return case(RANK, value=column, else_=0)


def month_number(when: Any) -> ColumnElement[int]:
    """``when``'s month as a number, 202601 for January 2026 (the same on every backend)."""
    return _MonthNumber(when)


class _MonthNumber(FunctionElement[int]):
    """``month_number``: one construct, written per backend (``_month_number_sql``)."""

    type = Integer()
    name = "month_number"
    inherit_cache = True


@compiles(_MonthNumber)
def _month_number_sql(element: _MonthNumber, compiler: SQLCompiler, **kw: Any) -> str:
    (when,) = element.clauses
    return compiler.process(
        cast(extract("year", when) * 100 + extract("month", when), Integer), **kw
    )


@compiles(_MonthNumber, "postgresql")
def _month_number_postgresql(element: _MonthNumber, compiler: SQLCompiler, **kw: Any) -> str:
    # PostgreSQL's EXTRACT returns numeric, whose arithmetic made the month of each of the
    # 733k leads of a year (bench/analytics_reports.py) cost about twice date_part's
    # double precision; a year and a month are exact in a double, so the number is the same.
    (when,) = element.clauses
    year, month = func.date_part("year", when), func.date_part("month", when)
    return compiler.process(cast(year * 100 + month, Integer), **kw)


def day_number(when: Any) -> ColumnElement[int]:
    """``when``'s day as a number, 20260105 for 5 January 2026 (the same on every backend)."""
    return _DayNumber(when)


class _DayNumber(FunctionElement[int]):
    """``day_number``: one construct, written per backend."""

    type = Integer()
    name = "day_number"
    inherit_cache = True


@compiles(_DayNumber)
def _day_number_sql(element: _DayNumber, compiler: SQLCompiler, **kw: Any) -> str:
    (when,) = element.clauses
    number = extract("year", when) * 10000 + extract("month", when) * 100 + extract("day", when)
    return compiler.process(cast(number, Integer), **kw)


@compiles(_DayNumber, "postgresql")
def _day_number_postgresql(element: _DayNumber, compiler: SQLCompiler, **kw: Any) -> str:
    # date_part's double precision, as month_number does.
    (when,) = element.clauses
    parts = [func.date_part(part, when) for part in ("year", "month", "day")]
    return compiler.process(cast(parts[0] * 10000 + parts[1] * 100 + parts[2], Integer), **kw)


def period_months(start: date, end: date) -> Any:
    """The months with a day in ``[start, end)`` as a derived table: ``number`` (202601),
    ``first`` and ``after`` (the month's first instant and the next month's, UTC)."""
    # A UNION ALL of one-row SELECTs rather than VALUES: SQLite cannot name a VALUES
    # list's columns in FROM.
    rows = [
        select(
            literal(month.year * 100 + month.month, Integer).label("number"),
            literal(midnight(month), UTCDateTime()).label("first"),
            literal(midnight(add_months(month, 1)), UTCDateTime()).label("after"),
        )
        for month in months(start, end)
    ]
    if not rows:
        # An empty period has no month: a table of none, as the months it would list.
        none = select(
            literal(0, Integer).label("number"),
            literal(None, UTCDateTime()).label("first"),
            literal(None, UTCDateTime()).label("after"),
        ).where(false())
        return none.subquery("report_months")
    return union_all(*rows).subquery("report_months")


def by_month_of(
    statement: AnySelect, at: Any, start: date, end: date
) -> tuple[AnySelect, ColumnElement[int]]:
    """``statement`` joined to the months of ``[start, end)`` (``period_months``) on the
    instant ``at``, and the month's number of each row. Each month's rows come from one
    range of the index on ``at``, where working out the month of every row cost more (the
    cohort view's 735 k leads of a year on the benchmark's database: 390 → 250 ms for
    their count by month and grade). The caller keeps ``at`` within the period: a
    month's table row spans the whole month."""
    month = period_months(start, end)
    joined = statement.join(month, and_(at >= month.c.first, at < month.c.after))
    return joined, month.c.number


def month_name(number: int) -> str:
    """202601 → ``2026-01``."""
    return f"{number // 100:04d}-{number % 100:02d}"


def scoped(
    statement: AnySelect,
    report: ReportFilter,
    team: Team | None,
    *,
    when: Any,
    campaign_ids: bool = False,
    lead_id: Any = None,
) -> tuple[AnySelect, ColumnElement[Any] | None]:
    """``statement`` (with ``leads`` in its FROM) narrowed to the filter's leads, and the
    expression of the filter's grouping (None when there is none). With ``campaign_ids``
    the ``campaign`` grouping is the campaign's id rather than its key (the caller names
    the groups: ``campaign_keys``), which spares the query a join of every row.
    ``lead_id`` is the lead's id in ``statement`` (``leads.id`` by default): a statement
    filtered or grouped by nothing of the lead's row but its owner or its campaigns
    (``reads_lead_row``) needs no ``leads`` in its FROM when it names its own.

    The caller selects the grouping expression in an inner query and groups the outer one
    by that column: PostgreSQL compares a GROUP BY to the selected expression before the
    parameters are bound, so an expression with parameters cannot be repeated there."""
    if lead_id is None:
        lead_id = Lead.id
    needs_account = report.segment is not None or report.group_by == "segment"
    if needs_account:
        statement = statement.outerjoin(Account, Account.id == Lead.account_id)
    segment = _segment(team)
    owner: Any = None
    if report.owner is not None or report.group_by == "owner":
        owners = _latest_owners()
        statement = statement.outerjoin(owners, owners.c.lead_id == lead_id)
        owner = owners.c.email
    if report.source is not None:
        statement = statement.where(Lead.source == report.source)
    if report.grade is not None:
        statement = statement.where(Lead.fit_grade == report.grade)
    if report.owner is not None:
        statement = statement.where(owner == report.owner)
    if report.segment is not None:
        statement = statement.where(segment == report.segment)
    if report.group_by == "campaign":
        # A lead's first enrolment in each campaign, from its narrow copy
        # (``campaign_entries``, kept by triggers on the enrolments): one row per lead and
        # campaign, without the DISTINCT over every enrolment, nor the enrolments' wide rows.
        enrolled: AnySelect
        if campaign_ids:
            enrolled = select(CampaignEntry.lead_id, CampaignEntry.campaign_id.label("key"))
            if report.campaign is not None:
                named = select(Campaign.id).where(Campaign.key == report.campaign)
                enrolled = enrolled.where(CampaignEntry.campaign_id == named.scalar_subquery())
        else:
            enrolled = select(CampaignEntry.lead_id, Campaign.key).join(
                Campaign, Campaign.id == CampaignEntry.campaign_id
            )
            if report.campaign is not None:
                enrolled = enrolled.where(Campaign.key == report.campaign)
        campaigns = enrolled.subquery("report_campaigns")
        statement = statement.join(campaigns, campaigns.c.lead_id == lead_id)
        return statement, campaigns.c.key
    if report.campaign is not None:
        statement = statement.where(
            lead_id.in_(
                select(Enrollment.lead_id)
                .join(Campaign, Campaign.id == Enrollment.campaign_id)
                .where(Campaign.key == report.campaign)
            )
        )
    if report.group_by is None:
        return statement, None
    groups: dict[str, Any] = {
        "source": Lead.source,
        "owner": owner,
        "grade": Lead.fit_grade,
        "segment": segment,
        "month": month_number(when),
    }
    return statement, groups[report.group_by]


def campaign_keys(session: Session) -> dict[int, str]:
    """Every campaign's key by its id (names the groups of ``scoped(campaign_ids=True)``)."""
    return {int(i): str(k) for i, k in session.execute(select(Campaign.id, Campaign.key))}


def latest_owners() -> Any:
    """A derived table of each handed-off lead's owner: (``lead_id``, ``email``)."""
    return _latest_owners()


def segment_case(team: Team | None) -> ColumnElement[Any]:
    """SQL (with ``accounts`` joined): the account's segment in ``team``, or NULL."""
    return _segment(team)


def _latest_owners() -> Any:
    # The latest handoff's rep: a lead handed off again after a rejection or a lost deal
    # belongs to whoever has it now (or had it last). A derived table of the (few)
    # handoffs, joined once, rather than a lookup per lead. "No later handoff of the same
    # lead" is an anti-join PostgreSQL hashes (4-7 ms for 5,000 handoffs on the
    # benchmark's database); the same rows as ``id IN (SELECT max(id) … GROUP BY
    # lead_id)``, whose estimate of 200 groups made it loop over the reps per handoff
    # (27-40 ms, and again in every parallel worker of the report that joined it).
    later = aliased(Handoff)
    newer = select(later.id).where(later.lead_id == Handoff.lead_id, later.id > Handoff.id)
    return (
        select(Handoff.lead_id, SalesRep.email)
        .join(SalesRep, SalesRep.id == Handoff.rep_id)
        .where(~newer.exists())
        .subquery("report_owners")
    )


def _segment(team: Team | None) -> ColumnElement[Any]:
    if team is None or not team.segments:
        return null()
    employees = Account.employees
    whens = []
    for segment in team.segments:
        conditions: list[ColumnElement[bool]] = [employees.is_not(None)]
        if segment.min_employees is not None:
            conditions.append(employees >= segment.min_employees)
        if segment.max_employees is not None:
            conditions.append(employees <= segment.max_employees)
        whens.append((and_(*conditions), literal(segment.id)))
    return case(*whens, else_=null())
