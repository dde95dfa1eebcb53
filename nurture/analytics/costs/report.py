"""Cost per lead, MQL and customer: per group, what was spent and how many leads were
created, became MQLs and became customers in the period (docs/analytics.md, "Cost per
lead, MQL and customer").

The counts are the funnel's own (``funnel_report``: its ``leads``, ``mql`` and ``won``
rows, distinct leads), so the two reports cannot disagree. The cost of a group comes from
the cost entries of the months the period touches, each first shared pro rata by the days
of its month inside the period (``share_in_period``), then spread equally over the leads it
**covers** — the leads created in that month (inside the period) that have its source, that
were enrolled in its campaign, or both when it names both. A group gets the shares of its
covered leads. So:

- grouped by source, a source's entries land on that source, and an entry naming only a
  campaign is split over the sources of that campaign's new leads;
- grouped by campaign, a campaign's entries land on that campaign;
- grouped by month, each entry lands on its month;
- a filter keeps the shares of the covered leads it keeps.

An entry that covers no lead at all still counts in the total: in the group it names
(grouped by its source, its campaign, or by month), else in a row of its own marked
``unattributed``; a report filtered by owner, grade or segment leaves it out (it has no
such leads), as does one filtered by another source or campaign.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, null, select
from sqlalchemy.orm import Session

from nurture.analytics.costs.entries import cost_per, money, share_in_period
from nurture.analytics.costs.spread import CoveredCost, SpreadCosts, spread_costs
from nurture.analytics.costs.sync import reporting_currency
from nurture.analytics.filters import ReportFilter
from nurture.analytics.funnel import funnel_report
from nurture.analytics.scope import (
    by_month_of,
    check_filter,
    midnight_day,
    month_name,
    reads_lead_row,
    scoped,
)
from nurture.analytics.tables import Cell
from nurture.handoff.team import Team
from nurture.models import Campaign, CampaignEntry, Cost, Lead
from nurture.platform.db import table_of

# The funnel's rows a cost is set against, and the names the report gives them.
COUNTED: tuple[tuple[str, str], ...] = (("leads", "leads"), ("mql", "mql"), ("won", "customers"))
UNATTRIBUTED_LABEL = "(no lead matched)"


@dataclass(frozen=True)
class CostRow:
    """One group: its cost, its leads, MQLs and customers, and the cost of one of each
    (None when there were none). ``unattributed`` marks the row of the costs that covered
    no lead and name nothing of the grouping."""

    group: str | None
    cost: Decimal
    counts: dict[str, int] = field(default_factory=dict)
    unattributed: bool = False

    @property
    def per(self) -> dict[str, Decimal | None]:
        """``cost_per_lead``, ``cost_per_mql`` and ``cost_per_customer``."""
        singular = {"leads": "lead", "mql": "mql", "customers": "customer"}
        return {
            f"cost_per_{singular[name]}": cost_per(self.cost, self.counts.get(name, 0))
            for _, name in COUNTED
        }

    def as_dict(self) -> dict[str, object]:
        """The row as plain values (amounts as numbers to the cent)."""
        return {
            "group": self.group,
            "unattributed": self.unattributed,
            "cost": float(money(self.cost)),
            **{name: self.counts.get(name, 0) for _, name in COUNTED},
            **{name: None if value is None else float(value) for name, value in self.per.items()},
        }


@dataclass(frozen=True)
class CostReport:
    """Cost and cost per lead, MQL and customer per group, in ``currency``."""

    filter: ReportFilter
    currency: str | None
    total_cost: Decimal
    rows: list[CostRow]

    def as_dict(self) -> dict[str, object]:
        """The report as plain values (the API's body)."""
        return {
            "filter": self.filter.as_dict(),
            "currency": self.currency,
            "total_cost": float(money(self.total_cost)),
            "rows": [row.as_dict() for row in self.rows],
        }


def cost_table(report: CostReport) -> tuple[list[str], list[list[Cell]]]:
    """The report as a table: group, cost, the counts, the cost per each."""
    header = ["group", "cost", *(name for _, name in COUNTED)]
    header += ["cost_per_lead", "cost_per_mql", "cost_per_customer"]
    rows: list[list[Cell]] = []
    for row in report.rows:
        values = row.as_dict()
        group = UNATTRIBUTED_LABEL if row.unattributed else row.group
        rows.append([group, *(_cell(values[name]) for name in header[1:])])
    return header, rows


def _cell(value: object) -> Cell:
    return value if isinstance(value, str | int | float) else None


def cost_report(session: Session, report: ReportFilter) -> CostReport:
    """The cost report of ``report`` (``FilterError`` for a filter naming nothing)."""
    spread = spread_in_period(session, report)
    funnel = funnel_report(session, report)
    costs = dict(spread.by_group)

    rows: list[CostRow] = []
    for funnel_row in funnel.rows:
        counts = {name: funnel_row.counts[source] for source, name in COUNTED}
        rows.append(CostRow(funnel_row.group, costs.pop(funnel_row.group, Decimal(0)), counts))
    for group in sorted(costs, key=lambda name: (name is None, str(name))):
        rows.append(CostRow(group, costs[group], {name: 0 for _, name in COUNTED}))
    if spread.unattributed:
        zero = {name: 0 for _, name in COUNTED}
        rows.append(CostRow(None, spread.unattributed, zero, unattributed=True))
    return CostReport(report, reporting_currency(session), spread.total, rows)


def spread_in_period(session: Session, report: ReportFilter) -> SpreadCosts:
    """The cost of each group of ``report``, of the entries that cover no lead and name
    nothing of the grouping, and of the whole report: the report's costs without its
    counts (``FilterError`` for a filter naming nothing). The ROI report reads this alone,
    since it sets the costs against revenue, not against the funnel's counts."""
    team = check_filter(session, report)
    entries = _entries_in_period(session, report)
    whole = ReportFilter(start=report.start, end=report.end)
    ungrouped = replace(report, group_by=None)
    filtered = _filtered(report)
    if report.group_by not in (None, "campaign") and not filtered:
        # Every lead is in exactly one group (None for none), so the groups add up to all
        # the leads: one pass over the period's leads instead of two.
        covered_groups = _coverage(session, report, team, entries)
        covered_all: dict[int, dict[str | None, int]] = {
            entry: {None: sum(groups.values())} for entry, groups in covered_groups.items()
        }
        covered_kept = covered_all
    else:
        covered_all = _coverage(session, whole, None, entries)
        covered_kept = _coverage(session, ungrouped, team, entries) if filtered else covered_all
        covered_groups = (
            _coverage(session, report, team, entries) if report.group_by else covered_kept
        )

    covered = [
        CoveredCost(
            month=month_name(entry.month.year * 100 + entry.month.month),
            source=entry.source,
            campaign=entry.campaign,
            amount=amount,
            everyone=sum(covered_all[entry.id].values()),
            kept=sum(covered_kept[entry.id].values()),
            groups=covered_groups[entry.id],
        )
        for entry, amount in entries
    ]
    return spread_costs(covered, report)


def _entries_in_period(session: Session, report: ReportFilter) -> list[tuple[Cost, Decimal]]:
    """The cost entries of the months the period touches, each with its share of the
    period (pro rata by days)."""
    first = date(report.start.year, report.start.month, 1)
    found = []
    for row in session.scalars(
        select(Cost).where(Cost.month >= first, Cost.month < report.end).order_by(Cost.id)
    ):
        amount = Decimal(row.amount) * share_in_period(row.month, report.start, report.end)
        if amount > 0:
            found.append((row, amount))
    return found


def _filtered(report: ReportFilter) -> bool:
    return any(
        value is not None
        for value in (report.source, report.campaign, report.owner, report.grade, report.segment)
    )


def _coverage(
    session: Session,
    report: ReportFilter,
    team: Team | None,
    entries: list[tuple[Cost, Decimal]],
) -> dict[int, dict[str | None, int]]:
    """For each entry, how many of the leads it covers are in each group of ``report``
    (a lead counts in each of its groups: every campaign it was enrolled in)."""
    by_source: dict[tuple[int, str], dict[str | None, int]] = defaultdict(dict)
    by_campaign: list[tuple[int, str | None, str, str | None, int]] = []
    in_period = and_(Lead.created_at >= report.start_at, Lead.created_at < report.end_at)
    if any(not entry.campaign for entry, _ in entries):
        leads = select(Lead.id, Lead.source.label("lead_source")).where(in_period)
        created, created_month = by_month_of(leads, Lead.created_at, report.start, report.end)
        created = created.add_columns(created_month.label("month"))
        for month, source, group, count in _grouped(session, created, report, team):
            by_source[(month, source or "")][group] = count
    named = sorted({entry.campaign for entry, _ in entries if entry.campaign})
    if named:
        # The leads' first enrolments in the named campaigns, from their narrow copy
        # (``campaign_entries``: entry 1, with the lead's creation day) by its day index.
        entries_table = table_of(CampaignEntry)
        day = entries_table.c.created_day
        pairs = (
            select(entries_table.c.lead_id, Campaign.key.label("cost_campaign"))
            .join(Campaign, Campaign.id == entries_table.c.campaign_id)
            .where(
                Campaign.key.in_(named),
                day >= midnight_day(report.start_at),
                day < midnight_day(report.end_at),
            )
        )
        sourced = any(entry.campaign and entry.source for entry, _ in entries)
        if sourced or reads_lead_row(report):
            first = pairs.subquery("cost_campaigns")
            leads = (
                select(Lead.id, Lead.source.label("lead_source"), first.c.cost_campaign)
                .join(first, first.c.lead_id == Lead.id)
                .where(in_period)
            )
            enrolled, enrolled_month = by_month_of(leads, Lead.created_at, report.start, report.end)
            enrolled = enrolled.add_columns(enrolled_month.label("month"))
            by_campaign = _grouped(session, enrolled, report, team, with_campaign=True)
        else:
            # No entry names a source too, and the grouping reads nothing of the lead's
            # row: the pairs alone, their month from the stored day, and no leads' table.
            alone = pairs.add_columns((day // 100).label("month"), null().label("lead_source"))
            by_campaign = _grouped(
                session,
                alone,
                report,
                team,
                with_campaign=True,
                lead_id=entries_table.c.lead_id,
                when=entries_table.c.created_at,
            )

    coverage: dict[int, dict[str | None, int]] = {}
    for entry, _ in entries:
        month = entry.month.year * 100 + entry.month.month
        if not entry.campaign:
            coverage[entry.id] = dict(by_source.get((month, entry.source), {}))
            continue
        counts: dict[str | None, int] = defaultdict(int)
        for row_month, source, campaign, group, count in by_campaign:
            if row_month != month or campaign != entry.campaign:
                continue
            if entry.source and source != entry.source:
                continue
            if report.group_by == "campaign" and group != entry.campaign:
                continue
            counts[group] += count
        coverage[entry.id] = dict(counts)
    return coverage


def _grouped(
    session: Session,
    statement: Any,
    report: ReportFilter,
    team: Team | None,
    *,
    with_campaign: bool = False,
    lead_id: Any = None,
    when: Any = None,
) -> list[tuple[Any, ...]]:
    """``statement``'s leads counted per month, source (, campaign) and the report's group
    (named as the report names it; None when ungrouped). ``lead_id`` and ``when`` are the
    lead's id and creation in ``statement`` when it has no ``leads`` in its FROM."""
    inner, group = scoped(
        statement, report, team, when=Lead.created_at if when is None else when, lead_id=lead_id
    )
    if group is not None:
        inner = inner.add_columns(group.label("report_group"))
    sub = inner.subquery("covered")
    keys = [sub.c.month, sub.c.lead_source]
    if with_campaign:
        keys.append(sub.c.cost_campaign)
    if group is not None:
        keys.append(sub.c.report_group)
    found = []
    for row in session.execute(select(*keys, func.count()).select_from(sub).group_by(*keys)):
        values = list(row)
        count = int(values.pop())
        group_key = values.pop() if group is not None else None
        if group_key is not None and report.group_by == "month":
            group_key = month_name(int(group_key))
        elif group_key is not None:
            group_key = str(group_key)
        found.append((int(values[0]), *values[1:], group_key, count))
    return found
