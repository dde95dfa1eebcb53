"""The funnel from history: the period view and the cohort view (docs/analytics.md).

Both count distinct leads, read from what was recorded as it happened: a lead's creation
(``leads.created_at``), its stage changes (``stage_changes``: the funnel stages each one
enters, ``nurture.analytics.definitions.entered_stages``), and lost deals (the handoff's
outcome ``lost`` and its ``outcome_at``, which is how ``nurture.handoff.verdicts.convert``
records one). A lead's current stage is never read.

- **Period view**: of the changes in ``[start, end)``, how many distinct leads entered each
  stage; how many leads were created; how many lost a deal. A lead recycled and qualified
  again in the same period counts once per stage; in two periods (or two months of a
  ``month`` grouping), once in each. The stages entered are read from the roll-up of each
  entry into a stage with the lead's previous one (``stage_entries``,
  ``nurture.analytics.stage_entries``), always equal to the stage changes.
- **Cohort view**: the leads created in each month of the period; of them, how many have
  reached each stage by now, and within 30, 60 and 90 days of their creation. When each
  lead first reached each stage is read from the roll-up of its stage changes
  (``lead_stage_firsts``, ``nurture.analytics.rollup``), always equal to them.

Erased leads keep their row (creation, fit grade, account), their stage changes and their
handoffs (anonymised, ``nurture.handoff.erasure``), so they count as created (under no
source), in every stage they reached, in ``lost`` and under their owner.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    distinct,
    func,
    null,
    or_,
    select,
)
from sqlalchemy.orm import Session

from nurture.analytics.definitions import (
    COUNTS,
    FUNNEL_STAGES,
    STAGE_LABELS,
    WINDOWS,
    CohortRow,
    FunnelRow,
    Reach,
)
from nurture.analytics.filters import ReportFilter, month_key, months
from nurture.analytics.rollup import FIRST_COLUMNS
from nurture.analytics.scope import (
    AnySelect,
    by_month_of,
    check_filter,
    created_group_names,
    created_leads,
    in_campaigns,
    month_name,
    month_number,
    reads_lead_row,
    scoped,
)
from nurture.handoff.team import Team
from nurture.models import Handoff, Lead, LeadStageFirst, StageEntry

REACHED: tuple[str, ...] = (*(STAGE_LABELS[s] for s in FUNNEL_STAGES), "lost")


@dataclass(frozen=True)
class FunnelReport:
    """The period view: one row per group (one row when ungrouped)."""

    filter: ReportFilter
    rows: list[FunnelRow]

    def as_dict(self) -> dict[str, object]:
        """The report as plain values (the API's body)."""
        return {"filter": self.filter.as_dict(), "rows": [row.as_dict() for row in self.rows]}


@dataclass(frozen=True)
class CohortReport:
    """The cohort view: one row per month of creation (and group)."""

    filter: ReportFilter
    rows: list[CohortRow]

    def as_dict(self) -> dict[str, object]:
        """The report as plain values (the API's body)."""
        return {
            "filter": self.filter.as_dict(),
            "windows_days": list(WINDOWS),
            "rows": [row.as_dict() for row in self.rows],
        }


def funnel_report(session: Session, report: ReportFilter) -> FunnelReport:
    """The period view of ``report`` (``FilterError`` for a filter naming nothing)."""
    team = check_filter(session, report)
    start, end = report.start_at, report.end_at
    counts: dict[Any, dict[str, int]] = {}

    # A lead is one row per group here (the campaign grouping's rows are distinct pairs),
    # so a plain count is a count of distinct leads.
    inner, group, _ = created_leads(report, team, start, end)
    named = created_group_names(session, report)
    sub = _with_group(inner, group).subquery("created")
    for row in session.execute(_grouped(sub, [func.count()])):
        counts.setdefault(named(row[0]), {})["leads"] = row[1]

    for row in session.execute(_entered(report, team)):
        target = counts.setdefault(named(row[0]), {})
        target[STAGE_LABELS[row[1]]] = row[2]

    lost = (
        select(Handoff.lead_id)
        .join(Lead, Lead.id == Handoff.lead_id)
        .where(Handoff.outcome == "lost", Handoff.outcome_at >= start, Handoff.outcome_at < end)
    )
    inner, group = scoped(lost, report, team, when=Handoff.outcome_at)
    sub = _with_group(inner, group).subquery("lost")
    for row in session.execute(_grouped(sub, [func.count(distinct(sub.c.lead_id))])):
        counts.setdefault(row[0], {})["lost"] = row[1]

    keys = _group_keys(report, counts)
    rows = [
        FunnelRow(
            group=_group_name(report, key),
            counts={name: counts.get(key, {}).get(name, 0) for name in COUNTS},
        )
        for key in keys
    ]
    return FunnelReport(report, rows)


def _entered(report: ReportFilter, team: Team | None) -> AnySelect:
    """How many leads entered each stage in the period, as (group, stage, count) rows:
    the entries of the period (``stage_entries``) that are their lead's first there, one
    per lead and stage, so a plain count per group is a count of distinct leads. Grouped
    by month, a lead's first entry in each month counts (its previous entry is in an
    earlier month, or before the period). Grouped by campaign, each entry is joined to
    its lead's campaigns (their ids, as ``created_leads`` names them)."""
    start, end = report.start_at, report.end_at
    previous = StageEntry.prev_at
    first = or_(previous.is_(None), previous < start)
    if report.group_by == "month":
        first = or_(first, month_number(previous) < month_number(StageEntry.at))
    entries = select(StageEntry.stage).where(StageEntry.at >= start, StageEntry.at < end, first)
    if reads_lead_row(report):
        entries = entries.join(Lead, Lead.id == StageEntry.lead_id)
    inner, group = scoped(
        entries, report, team, when=StageEntry.at, campaign_ids=True, lead_id=StageEntry.lead_id
    )
    sub = _with_group(inner, group).subquery("entered")
    if group is None:
        return select(null(), sub.c.stage, func.count()).group_by(sub.c.stage)
    keys = (sub.c.report_group, sub.c.stage)
    return select(*keys, func.count()).group_by(*keys)


def cohort_report(session: Session, report: ReportFilter) -> CohortReport:
    """The cohort view of ``report`` (``FilterError`` for a filter naming nothing). A
    ``month`` grouping is the cohort's own month: it adds no column."""
    team = check_filter(session, report)
    if report.group_by == "month":
        report_groups = ReportFilter(**{**report.__dict__, "group_by": None})
    else:
        report_groups = report
    start, end = report.start_at, report.end_at
    dialect = session.get_bind().dialect.name
    in_period = and_(Lead.created_at >= start, Lead.created_at < end)

    inner, group, creation = created_leads(report_groups, team, start, end)
    if creation.at is None:
        inner = inner.add_columns(creation.month.label("cohort_month"))
    else:
        inner, created_month = by_month_of(inner, creation.at, report.start, report.end)
        inner = inner.add_columns(created_month.label("cohort_month"))
    sub = _with_group(inner, group).subquery("cohort")
    named = created_group_names(session, report_groups)
    created = {
        (row[0], named(row[1])): row[2]
        for row in session.execute(_grouped(sub, [func.count()], by_month=True))
    }

    # When each lead first reached each stage, from the roll-up of the stage history
    # (``nurture.analytics.rollup``: one row per lead that reached one, with its
    # creation), then per month and group how many did: one row per lead, where reading
    # every stage change of the period's leads cost seconds at a million leads.
    firsts_rows = select(
        LeadStageFirst.lead_id,
        LeadStageFirst.created_at,
        *(
            LeadStageFirst.__table__.c[FIRST_COLUMNS[stage]].label(f"stage_{index}")
            for index, stage in enumerate(FUNNEL_STAGES)
        ),
    ).where(LeadStageFirst.created_at >= start, LeadStageFirst.created_at < end)
    # By campaign, each lead's row is joined to its campaigns' pairs alone (no leads).
    by_campaign = report_groups.group_by == "campaign"
    lead_scope = (
        replace(report_groups, group_by=None, campaign=None) if by_campaign else report_groups
    )
    # The leads' table only for a field of the lead's row (its source, grade, segment), and
    # then only the period's leads: its owner and its campaigns are found by its id.
    lead_id = None
    if reads_lead_row(lead_scope):
        firsts_rows = firsts_rows.join(Lead, Lead.id == LeadStageFirst.lead_id).where(in_period)
    else:
        lead_id = LeadStageFirst.lead_id
    inner, group = scoped(
        firsts_rows, lead_scope, team, when=LeadStageFirst.created_at, lead_id=lead_id
    )
    first = _with_group(inner, group, month_of=LeadStageFirst.created_at).subquery("firsts")
    if by_campaign:
        first = in_campaigns(first, report_groups)
    columns = []
    for index in range(len(FUNNEL_STAGES)):
        columns += _reach_columns(first, f"stage_{index}", dialect)
    reached: dict[tuple[Any, Any], dict[str, Reach]] = {}
    width = 1 + len(WINDOWS)
    for row in session.execute(_grouped(first, columns, by_month=True)):
        values = row[2:]
        reached[(row[0], row[1])] = {
            STAGE_LABELS[stage]: _reach(values[i * width : (i + 1) * width])
            for i, stage in enumerate(FUNNEL_STAGES)
        }

    lost = (
        select(
            Handoff.lead_id,
            Lead.created_at.label("created_at"),
            Handoff.outcome_at.label("at"),
        )
        .join(Lead, Lead.id == Handoff.lead_id)
        .where(in_period, Handoff.outcome == "lost")
    )
    inner, group = scoped(lost, report_groups, team, when=Lead.created_at)
    rows_of_lost = _with_group(inner, group, month_of=Lead.created_at).subquery("lost")
    first = _per_lead(rows_of_lost, [func.min(rows_of_lost.c.at).label("lost")])
    lost_by_key = {
        (row[0], row[1]): _reach(row[2:])
        for row in session.execute(
            _grouped(first, _reach_columns(first, "lost", dialect), by_month=True)
        )
    }

    groups = _group_keys(report_groups, {key[1]: {} for key in created})
    rows: list[CohortRow] = []
    for month in months(report.start, report.end):
        number = month.year * 100 + month.month
        for group_key in groups:
            key = (number, group_key)
            stages = reached.get(key, {label: Reach() for label in REACHED[:-1]})
            rows.append(
                CohortRow(
                    month=month_key(month),
                    group=_group_name(report_groups, group_key),
                    created=created.get(key, 0),
                    reached={**stages, "lost": lost_by_key.get(key, Reach())},
                )
            )
    return CohortReport(report, rows)


def _per_lead(rows: Any, aggregates: list[Any]) -> Any:
    """``aggregates`` per lead (and group: a lead is in several campaigns), keeping the
    lead's creation and cohort month where ``rows`` has them. Grouping by the lead alone
    keeps the sort narrow; its creation and month are the same on each of its rows."""
    keys = [rows.c[name] for name in ("lead_id", "report_group") if name in rows.c]
    same = [
        func.min(rows.c[name]).label(name)
        for name in ("created_at", "cohort_month")
        if name in rows.c
    ]
    return select(*keys, *same, *aggregates).group_by(*keys).subquery()


def _reach_columns(first: Any, name: str, dialect: str) -> list[Any]:
    """How many leads have a first time in ``first.c[name]``, and how many within each
    window of their creation."""
    reached_at = first.c[name]
    columns: list[Any] = [func.count(reached_at)]
    for days in WINDOWS:
        soon = _within(reached_at, first.c.created_at, days, dialect)
        columns.append(func.count().filter(soon))
    return columns


def _within(at: Any, created_at: Any, days: int, dialect: str) -> ColumnElement[bool]:
    """``at`` is less than ``days`` days after ``created_at``."""
    if dialect == "sqlite":
        # SQLite keeps timestamps as text; the bound is written the same way, to the
        # millisecond, so the comparison is exact at the boundary.
        return at < func.strftime("%Y-%m-%d %H:%M:%f", created_at, f"+{days} days")
    # The time it took against a constant interval: one subtraction per row, where adding
    # the interval to the creation built one per row and window (timestamps without a zone
    # have no DST: the same instants either way).
    return (at - created_at) < func.make_interval(0, 0, 0, days)


def _with_group(
    statement: AnySelect, group: ColumnElement[Any] | None, *, month_of: Any = None
) -> AnySelect:
    if month_of is not None:
        statement = statement.add_columns(month_number(month_of).label("cohort_month"))
    if group is not None:
        statement = statement.add_columns(group.label("report_group"))
    return statement


def _grouped(sub: Any, aggregates: Iterable[Any], *, by_month: bool = False) -> AnySelect:
    """The outer query: the month (cohorts), the group (null when ungrouped), aggregates."""
    keys: list[Any] = [sub.c.cohort_month] if by_month else []
    if "report_group" in sub.c:
        keys.append(sub.c.report_group)
        return select(*keys, *aggregates).select_from(sub).group_by(*keys)
    statement = select(*keys, null(), *aggregates).select_from(sub)
    return statement.group_by(*keys) if keys else statement


def _group_keys(report: ReportFilter, counts: dict[Any, Any]) -> list[Any]:
    if report.group_by is None:
        return [None]
    if report.group_by == "month":
        return [m.year * 100 + m.month for m in months(report.start, report.end)]
    found = list(counts)
    return sorted((k for k in found if k is not None), key=str) + ([None] if None in found else [])


def _group_name(report: ReportFilter, key: Any) -> str | None:
    if key is None:
        return None
    return month_name(int(key)) if report.group_by == "month" else str(key)


def _reach(values: Any) -> Reach:
    by_now, *within = (int(v) for v in values)
    return Reach(by_now=by_now, within=dict(zip(WINDOWS, within, strict=True)))
