"""Velocity from history: how long leads stay in each stage, the sales cycle, and how soon
sales acts on a handoff (docs/analytics.md, "Velocity").

Every figure is read from what was recorded as it happened, never from the leads' current
stage, and each counts what *ended* in the period ``[start, end)``:

- **time in stage**: the stays (``nurture.analytics.durations.stays``) in ``mql``, ``sal``,
  ``sql`` and ``opportunity`` that ended in the period (the lead's next stage change fell in
  it). A stay still running at the end of the period is not counted: its length is not
  known yet, and counting it short would understate every slow stage. Each stay is read
  from the change that ended it, which carries the stay's stage and beginning
  (``nurture.analytics.stay_columns``).
- **sales cycle**: first touch (the lead's first human event or its creation, whichever
  came first; machine hits are not touches, ``nurture.analytics.first_touches``) to won
  (the lead's first change into ``customer``), for the leads first won in the period.
- **MQL → first sales action**: from a handoff's offer (a handoff that is not a
  reassignment: the lead became an MQL and was handed to sales) to the first accept, reject
  or convert by a rep on it or on the handoffs it was reassigned to, for the offers made in
  the period; the offers no rep has answered yet are counted as ``waiting``.

Filters and groupings are the funnel's (``nurture.analytics.scope``); ``month`` is the
month of the end (the stay's end, the win, the offer) and ``cohort`` the month the lead was
created. On PostgreSQL the stays and the sales cycles are summed up in SQL
(``percentile_cont``); on SQLite, which has no percentile function, every span is read and
summed up here with the same interpolation (``durations.percentile``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Float, cast, extract, func, literal, null, select
from sqlalchemy.orm import Session

from nurture.analytics.durations import (
    MEASURES,
    PERCENTILES,
    RESPONSES,
    STAY_STAGES,
    Spread,
    days,
    first_actions,
    first_touch,
    spread,
)
from nurture.analytics.filters import ReportFilter, month_key, months
from nurture.analytics.scope import (
    AnySelect,
    campaign_keys,
    check_filter,
    month_name,
    month_number,
    scoped,
    uses_leads,
)
from nurture.handoff.team import Team
from nurture.models import Handoff, HandoffAction, Lead, LeadFirstTouch, LeadStageFirst, StageChange

# The groupings computed here from a moment rather than by ``scope``.
_MONTHS = ("month", "cohort")


@dataclass(frozen=True)
class VelocityRow:
    """One group: the ``Spread`` of each of ``MEASURES``."""

    group: str | None
    measures: dict[str, Spread]

    def as_dict(self) -> dict[str, object]:
        """The row as plain values."""
        return {
            "group": self.group,
            **{name: figures.as_dict() for name, figures in self.measures.items()},
        }


@dataclass(frozen=True)
class VelocityReport:
    """The velocity of the period: one row per group (one row when ungrouped)."""

    filter: ReportFilter
    rows: list[VelocityRow]

    def as_dict(self) -> dict[str, object]:
        """The report as plain values (the API's body)."""
        return {"filter": self.filter.as_dict(), "rows": [row.as_dict() for row in self.rows]}


def velocity_report(
    session: Session, report: ReportFilter, *, percentiles_in_sql: bool | None = None
) -> VelocityReport:
    """The velocity of ``report`` (``FilterError`` for a filter naming nothing).

    On PostgreSQL the stays and the sales cycles are summed up in SQL (``percentile_cont``,
    the same linear interpolation as ``durations.percentile``), so a year of a million
    leads is not fetched; elsewhere (SQLite has no percentile function) every span is read
    and summed up here. ``percentiles_in_sql`` forces one way (the tests compare both)."""
    team = check_filter(session, report)
    if percentiles_in_sql is None:
        percentiles_in_sql = session.get_bind().dialect.name == "postgresql"
    spans: dict[str | None, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    summed: dict[str | None, dict[str, Spread]] = defaultdict(dict)
    if percentiles_in_sql:
        for group, measure, figures in _spreads_in_sql(session, report, team):
            summed[group][measure] = figures
    else:
        for group, stage, seconds in _stays(session, report, team):
            spans[group][stage].append(seconds)
        for group, seconds in _sales_cycles(session, report, team):
            spans[group]["sales_cycle"].append(seconds)
    waiting: dict[str | None, int] = defaultdict(int)
    for group, answer in _first_actions(session, report, team):
        if answer is None:
            waiting[group] += 1
        else:
            spans[group]["mql_to_first_action"].append(answer)
    groups = _groups(report, set(spans) | set(waiting) | set(summed))
    rows = [
        VelocityRow(
            group,
            {
                name: summed.get(group, {}).get(name)
                or spread(
                    spans.get(group, {}).get(name, []),
                    waiting=waiting.get(group, 0) if name == "mql_to_first_action" else None,
                )
                for name in MEASURES
            },
        )
        for group in groups
    ]
    return VelocityReport(report, rows)


def _stays(
    session: Session, report: ReportFilter, team: Team | None
) -> Iterable[tuple[str | None, str, float]]:
    """(group, stage, seconds) of every stay in ``STAY_STAGES`` that ended in the period."""
    query = _ended_stays(report, StageChange.stay_stage, StageChange.stay_began_at, StageChange.at)
    if uses_leads(report):
        query = query.join(Lead, Lead.id == StageChange.lead_id)
    statement = _scoped(query, report, team, when=StageChange.at)
    # Columns by position: a year of stays is read here, and attribute access per row and
    # the ORM's result layer cost more than the query.
    for stage, began_at, left_at, key in _rows(session, statement):
        yield _group_of(report, key, left_at), stage, (left_at - began_at).total_seconds()


def _ended_stays(report: ReportFilter, *columns: Any) -> AnySelect:
    """``columns`` of the stays (``durations.stays``) in ``STAY_STAGES`` that ended in the
    period: one row each, the change that ended it, which holds the stay's stage and
    beginning (``stay_columns``). A stay of no length (a stage passed in an instant) is
    none."""
    return select(*columns).where(
        StageChange.at >= report.start_at,
        StageChange.at < report.end_at,
        StageChange.stay_stage.in_(STAY_STAGES),
        StageChange.at > StageChange.stay_began_at,
    )


def _sales_cycles(
    session: Session, report: ReportFilter, team: Team | None
) -> Iterable[tuple[str | None, float]]:
    """(group, seconds from first touch to won) of the leads first won in the period."""
    won = _won_and_touched(report)
    cycles = (
        select(Lead.id.label("lead_id"), Lead.created_at, won.c.won_at, won.c.touch_at)
        .select_from(Lead)
        .join(won, won.c.lead_id == Lead.id)
    )
    statement = _scoped(cycles, report, team, when=won.c.won_at)
    for row in _rows(session, statement):
        began = first_touch(row.created_at, row.touch_at)
        yield (
            _group_of(report, row.report_group, row.won_at),
            (row.won_at - began).total_seconds(),
        )


def _won_and_touched(report: ReportFilter) -> Any:
    """The leads first won in the period with their creation and first human touch
    (``lead_id``, ``created_at``, ``won_at``, ``touch_at``: None for a lead no person's
    event touched), as a subquery."""
    start, end = report.start_at, report.end_at
    # A lead's first change into ``customer`` is its first time there in the roll-up of
    # the stage history (nothing ranks above ``customer``, so no change passes it), read
    # from one row per lead instead of a grouping of every stage change.
    # Its first touch is one row of the touches' roll-up, instead of a look-up in the lead's
    # events (1.0 s for a year of the benchmark's won leads): a probe of its key per won
    # lead, as a correlated subquery because joined, PostgreSQL read the whole roll-up (a
    # million rows) for a hash join with the year's 12,700 won leads.
    touch_at = (
        select(LeadFirstTouch.touched_at)
        .where(LeadFirstTouch.lead_id == LeadStageFirst.lead_id)
        .scalar_subquery()
    )
    return (
        select(
            LeadStageFirst.lead_id,
            LeadStageFirst.created_at,
            LeadStageFirst.customer_at.label("won_at"),
            touch_at.label("touch_at"),
        )
        .where(LeadStageFirst.customer_at >= start, LeadStageFirst.customer_at < end)
        .subquery("won")
    )


def _first_actions(
    session: Session, report: ReportFilter, team: Team | None
) -> Iterable[tuple[str | None, float | None]]:
    """(group, seconds from the offer to the first sales action, or None while no rep has
    acted) of the offers made in the period."""
    start, end = report.start_at, report.end_at
    offers_query = (
        select(Handoff.id.label("handoff_id"), Handoff.created_at.label("offered_at"))
        .join(Lead, Lead.id == Handoff.lead_id)
        .where(Handoff.previous_id.is_(None), Handoff.created_at >= start, Handoff.created_at < end)
    )
    statement = _scoped(offers_query, report, team, when=Handoff.created_at)
    offers: dict[int, datetime] = {}
    groups: dict[int, list[Any]] = defaultdict(list)
    for handoff_id, offered_at, key in _rows(session, statement):
        offers[handoff_id] = offered_at
        groups[handoff_id].append(key)
    if not offers:
        return
    # A reassignment is made after its offer: the handoffs since the period's start hold
    # every chain that starts in it.
    later = Handoff.created_at >= start
    successor: dict[int, int] = {
        previous: handoff
        for handoff, previous in _rows(
            session,
            select(Handoff.id, Handoff.previous_id).where(later, Handoff.previous_id.is_not(None)),
        )
        if previous is not None
    }
    responses: dict[int, datetime] = {
        handoff: moment
        for handoff, moment in _rows(
            session,
            select(HandoffAction.handoff_id, func.min(HandoffAction.at))
            .join(Handoff, Handoff.id == HandoffAction.handoff_id)
            .where(later, HandoffAction.action.in_(RESPONSES))
            .group_by(HandoffAction.handoff_id),
        )
    }
    answered = first_actions(offers, successor, responses)
    for handoff_id, offered_at in offers.items():
        acted_at = answered[handoff_id]
        seconds = None if acted_at is None else (acted_at - offered_at).total_seconds()
        for key in groups[handoff_id]:
            yield _group_of(report, key, offered_at), seconds


def _spreads_in_sql(
    session: Session, report: ReportFilter, team: Team | None
) -> Iterable[tuple[str | None, str, Spread]]:
    """(group, measure, spread) of the stays and the sales cycles, their percentiles
    computed by PostgreSQL: the same spans as ``_stays`` and ``_sales_cycles``."""
    stays_query = _ended_stays(
        report,
        StageChange.stay_stage.label("measure"),
        _seconds(StageChange.at, StageChange.stay_began_at).label("seconds"),
    )
    if uses_leads(report):
        stays_query = stays_query.join(Lead, Lead.id == StageChange.lead_id)
    yield from _summed(session, report, team, stays_query, ended=StageChange.at)

    won = _won_and_touched(report)
    # durations.first_touch: the first human event or the creation, whichever came first.
    began = func.least(won.c.created_at, func.coalesce(won.c.touch_at, won.c.created_at))
    cycles = select(
        literal("sales_cycle").label("measure"), _seconds(won.c.won_at, began).label("seconds")
    ).select_from(won)
    # The leads only for a filter or grouping that reads them: joined to the year's won
    # leads, PostgreSQL scanned every lead's id for a hash join (0.2 s of the benchmark's).
    if uses_leads(report):
        cycles = cycles.join(Lead, Lead.id == won.c.lead_id)
    yield from _summed(session, report, team, cycles, ended=won.c.won_at)


def _seconds(later: Any, earlier: Any) -> Any:
    """``later - earlier`` in seconds, as a double (PostgreSQL)."""
    return cast(extract("epoch", later - earlier), Float)


def _summed(
    session: Session, report: ReportFilter, team: Team | None, spans: AnySelect, *, ended: Any
) -> Iterable[tuple[str | None, str, Spread]]:
    """The count and percentiles of ``spans`` (columns ``measure`` and ``seconds``) per
    group and measure; ``ended`` is when each span ended (the ``month`` grouping's)."""
    by_moment = report.group_by in _MONTHS
    # By campaign id, named here: a join of every span to the campaigns table made
    # PostgreSQL's estimate of the stays (a few hundred for 140 k) pick a nested loop over
    # the 50 campaigns, 1.2 s of the 1.8 s report (EXPLAIN ANALYZE, bench database).
    narrowed, group = scoped(
        spans,
        replace(report, group_by=None) if by_moment else report,
        team,
        when=ended,
        campaign_ids=True,
    )
    names = campaign_keys(session) if report.group_by == "campaign" else {}
    if report.group_by == "month":
        group = month_number(ended)
    elif report.group_by == "cohort":
        group = month_number(Lead.created_at)
    inner = narrowed.add_columns((group if group is not None else null()).label("report_group"))
    # Grouped by the inner query's column: PostgreSQL cannot match a GROUP BY to a
    # selected expression with bound parameters (scope.scoped).
    rows = inner.subquery("spans")
    ordered = rows.c.seconds
    statement = select(
        rows.c.report_group,
        rows.c.measure,
        func.count(),
        *(func.percentile_cont(q).within_group(ordered) for _, q in PERCENTILES),
    ).group_by(rows.c.report_group, rows.c.measure)
    for key, measure, count, *values in _rows(session, statement):
        if report.group_by in _MONTHS:
            name: str | None = month_name(int(key))
        else:
            name = None if key is None else names.get(key, str(key))
        found = [days(value) for value in values]
        yield name, measure, Spread(count, found[0], found[1], found[2])


def _rows(session: Session, statement: AnySelect) -> Sequence[Any]:
    """The statement's rows through the session's connection (Core rows: these queries
    load no objects), fetched at once: row by row, the driver's per-fetch checks cost more
    than the query on a long history."""
    return session.connection().execute(statement).all()


def _scoped(
    statement: AnySelect, report: ReportFilter, team: Team | None, *, when: Any
) -> AnySelect:
    """``scope.scoped`` with the group as a ``report_group`` column (null when ungrouped).
    The month and cohort groupings are named in Python from a moment: the span's end
    (``month``), or the lead's creation, which is then the ``report_group`` (``cohort``)."""
    by_moment = report.group_by in _MONTHS
    narrowed, group = scoped(
        statement, replace(report, group_by=None) if by_moment else report, team, when=when
    )
    if report.group_by == "cohort":
        group = Lead.created_at.expression
    column = group if group is not None else null()
    return narrowed.add_columns(column.label("report_group"))


def _group_of(report: ReportFilter, key: Any, moment: datetime) -> str | None:
    """The name of a span's group: ``key`` from the query, or the month of ``moment``
    (``month``) or of the lead's creation (``cohort``, where ``key`` is that time)."""
    if report.group_by == "month":
        return month_key(moment)
    if report.group_by == "cohort":
        return month_key(key)
    return None if key is None else str(key)


def _groups(report: ReportFilter, found: set[str | None]) -> list[str | None]:
    """The rows' groups in order: every month of the period for ``month``, else the groups
    found (sorted, no value last); one row when ungrouped."""
    if report.group_by is None:
        return [None]
    if report.group_by == "month":
        return [month_key(month) for month in months(report.start, report.end)]
    named = sorted(group for group in found if group is not None)
    return named + ([None] if None in found else [])
