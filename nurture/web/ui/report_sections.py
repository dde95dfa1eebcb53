"""The reports dashboard's sections: each report's chart and its table, in the reader's
language, from the same report functions and tables as ``nurture report`` and
``/api/v1/reports`` (docs/analytics.md). No figure is computed here; this module only
chooses what to draw and how each column reads.

A report is registered once in ``REPORTS`` (its builder, its table and the groupings it
takes): the dashboard draws it and ``/reports/<name>.csv`` exports its table with the same
columns as the CLI's ``--format csv``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from nurture.analytics import (
    COUNTS,
    GROUP_BY,
    MEASURES,
    RATES,
    VELOCITY_GROUP_BY,
    CohortReport,
    FunnelReport,
    ReportFilter,
    VelocityReport,
    cohort_report,
    funnel_report,
    velocity_report,
)
from nurture.analytics.funnel import REACHED
from nurture.analytics.tables import Cell, cohort_table, funnel_table, velocity_table
from nurture.web.ui.charts import Bar, RangeBar, bars, heat_level, range_bars
from nurture.web.ui.formatting import number_text, percent_text


@dataclass(frozen=True)
class ReportSpec:
    """A report the dashboard knows: how to build it and to turn it into a table."""

    build: Callable[[Session, ReportFilter], Any]
    table: Callable[[Any], tuple[list[str], list[list[Cell]]]]
    groupings: tuple[str, ...] = GROUP_BY


REPORTS: dict[str, ReportSpec] = {
    "funnel": ReportSpec(funnel_report, funnel_table),
    "cohorts": ReportSpec(cohort_report, cohort_table),
    "velocity": ReportSpec(velocity_report, velocity_table, VELOCITY_GROUP_BY),
}

# How each column, stage, rate and measure reads on the page (the CSV keeps the names).
LABELS: Mapping[str, Any] = {
    "group": _l("Group"),
    "month": _l("Month"),
    "created": _l("Created"),
    "leads": _l("New leads"),
    "mql": _l("MQL"),
    "sal": _l("SAL"),
    "sql": _l("SQL"),
    "opportunity": _l("Opportunity"),
    "won": _l("Won"),
    "lost": _l("Lost"),
    "lead_to_mql": _l("Lead → MQL"),
    "mql_to_sal": _l("MQL → SAL"),
    "sal_to_sql": _l("SAL → SQL"),
    "sql_to_opportunity": _l("SQL → opportunity"),
    "opportunity_to_won": _l("Opportunity → won"),
    "win_rate": _l("Win rate"),
    "measure": _l("Measure"),
    "count": _l("Count"),
    "median_days": _l("Median (days)"),
    "p75_days": _l("75th percentile (days)"),
    "p90_days": _l("90th percentile (days)"),
    "waiting": _l("Waiting"),
    "sales_cycle": _l("Sales cycle (first touch → won)"),
    "mql_to_first_action": _l("MQL → first sales action"),
    "in_mql": _l("Time in MQL"),
    "in_sal": _l("Time in SAL"),
    "in_sql": _l("Time in SQL"),
    "in_opportunity": _l("Time in opportunity"),
    "source": _l("Source"),
    "campaign": _l("Campaign"),
    "owner": _l("Owner"),
    "grade": _l("Fit grade"),
    "segment": _l("Segment"),
    "cohort": _l("Cohort"),
}
RATE_NAMES = frozenset(name for name, _, _ in RATES)
# The columns of the other reports (volume, costs, revenue, campaigns, feedback).
EXTRA_LABELS: dict[str, Any] = {
    "period": _l("Period"),
    "cost": _l("Cost"),
    "customers": _l("Customers"),
    "cost_per_lead": _l("Cost per lead"),
    "cost_per_mql": _l("Cost per MQL"),
    "cost_per_customer": _l("Cost per customer"),
    "revenue": _l("Revenue"),
    "average_clv": _l("Average CLV"),
    "customers_in_other_currencies": _l("Customers in other currencies"),
    "other_currencies": _l("Other currencies"),
    "deals": _l("Deals"),
    "first": _l("First touch"),
    "last": _l("Last touch"),
    "linear": _l("Linear"),
    "u-shaped": _l("U-shaped"),
    "sent": _l("Sent"),
    "delivered": _l("Delivered"),
    "bounced": _l("Bounced"),
    "hard_bounced": _l("Hard bounces"),
    "soft_bounced": _l("Soft bounces"),
    "opened": _l("Opened"),
    "machine_opened": _l("Machine opens"),
    "clicked": _l("Clicked"),
    "clicks": _l("Clicks"),
    "machine_clicked": _l("Scanner clicks"),
    "unsubscribed": _l("Unsubscribed"),
    "complained": _l("Complaints"),
    "recipients": _l("Recipients"),
    "conversions": _l("Conversions"),
    "delivery_rate": _l("Delivery rate"),
    "bounce_rate": _l("Bounce rate"),
    "open_rate": _l("Open rate"),
    "click_rate": _l("Click rate"),
    "click_to_open": _l("Click to open"),
    "unsubscribe_rate": _l("Unsubscribe rate"),
    "complaint_rate": _l("Complaint rate"),
    "conversion_rate": _l("Conversion rate"),
    "offered": _l("Offered"),
    "accepted": _l("Accepted"),
    "rejected": _l("Rejected"),
    "acceptance_rate": _l("Acceptance rate"),
    "decided_with_sla": _l("Decided with an SLA"),
    "decided_in_sla": _l("Decided in the SLA"),
    "sla_rate": _l("In the SLA"),
    "recycled": _l("Recycled"),
    "back_as_mql": _l("Back as MQL"),
    "comeback_rate": _l("Comeback rate"),
    "reason": _l("Reason"),
    "label": _l("Label"),
    "share": _l("Share"),
    "rule": _l("Readiness rule"),
    "channel": _l("Channel"),
    "step": _l("Step"),
    "template": _l("Template"),
    "version": _l("Version"),
}
RATE_COLUMNS = RATE_NAMES | frozenset(
    {
        "delivery_rate", "bounce_rate", "open_rate", "click_rate", "click_to_open",
        "unsubscribe_rate", "complaint_rate", "conversion_rate", "acceptance_rate",
        "sla_rate", "comeback_rate", "share",
    }
)  # fmt: skip
for _model, _name in (
    ("first", _l("first touch")),
    ("last", _l("last touch")),
    ("linear", _l("linear")),
    ("u-shaped", _l("U-shaped")),
):
    EXTRA_LABELS[f"{_model}_revenue"] = _l("Revenue (%(model)s)", model=_name)
    EXTRA_LABELS[f"{_model}_roi"] = _l("ROI (%(model)s)", model=_name)
    EXTRA_LABELS[f"{_model}_roas"] = _l("ROAS (%(model)s)", model=_name)
# The rows the reports add beside their groups, named in the reports' own words.
GROUP_MARKERS: Mapping[str, Any] = {
    "total": _l("Total"),
    "(no touch)": _l("(no touch)"),
    "(no lead matched)": _l("(no lead matched)"),
    "(outside the groups)": _l("(outside the groups)"),
}
# Amounts of money: costs, revenue, CLV and each attribution model's credit.
MONEY_COLUMNS = ("cost", "revenue", "average_clv", "first", "last", "linear", "u-shaped")


def label(name: str) -> str:
    """A column, stage or measure's name in the reader's language (its key if unknown)."""
    if name in LABELS:
        return str(LABELS[name])
    if name in EXTRA_LABELS:
        return str(EXTRA_LABELS[name])
    base, _, currency = name.rpartition("_")
    if base in EXTRA_LABELS and len(currency) == 3 and currency.isalpha():
        return f"{EXTRA_LABELS[base]} ({currency.upper()})"
    stage, _, window = name.rpartition("_")
    if stage in {**LABELS, **EXTRA_LABELS} and window.endswith("d") and window[:-1].isdigit():
        # Two messages side by side rather than one holding the other: a translated
        # message never contains another, so each reads whole in every language.
        within = _l("within %(days)s days", days=window[:-1])
        return f"{label(stage)}: {within}"
    return name


def measure_label(name: str) -> str:
    """A velocity measure's name: a stage's stay reads "Time in …"."""
    return label(name if name in LABELS and name not in COUNTS else f"in_{name}")


def cell_text(column: str, cell: Cell) -> str:
    """A table cell as the page shows it: rates as percentages, days with one decimal,
    counts grouped by thousands, a missing value as a dash."""
    if cell is None:
        return "—"
    if isinstance(cell, str):
        if column == "group" and cell in GROUP_MARKERS:
            return str(GROUP_MARKERS[cell])
        return measure_label(cell) if column == "measure" else cell
    if column in RATE_COLUMNS or column.endswith("_roi"):
        return percent_text(float(cell))
    if column.endswith("_roas"):
        return f"{number_text(float(cell), 2)}×"
    if column.startswith(MONEY_COLUMNS):
        return number_text(float(cell), 2)
    if column.endswith("_days"):
        return number_text(cell, 1)
    return number_text(cell)


@dataclass(frozen=True)
class Table:
    """A report's table as shown: labelled header, formatted cells, numeric columns."""

    header: list[str]
    rows: list[list[str]]
    numeric: list[bool]


def shown_table(
    header: Sequence[str], rows: Sequence[Sequence[Cell]], *, grouped: bool = True
) -> Table:
    """The table of ``*_table()`` as the page shows it. Ungrouped (``grouped`` False), the
    group column says "All" where it names the row, and is left out where another column
    does (a cohort's month)."""
    if not grouped and "group" in header:
        at = list(header).index("group")
        if at == 0:
            everything = str(_l("All"))
            rows = [[everything, *row[1:]] for row in rows]
        else:
            header = [name for i, name in enumerate(header) if i != at]
            rows = [[cell for i, cell in enumerate(row) if i != at] for row in rows]
    numeric = [name not in ("group", "month", "measure", "period") for name in header]
    return Table(
        [label(name) for name in header],
        [[cell_text(name, cell) for name, cell in zip(header, row, strict=True)] for row in rows],
        numeric,
    )


def group_text(group: str | None, by: str | None) -> str:
    """A row's group as shown: "All" when the report is not grouped, a dash for none."""
    if by is None:
        return str(_l("All"))
    return "—" if group is None else group


def funnel_bars(report: FunnelReport) -> list[Bar]:
    """The funnel of the first row (the whole, when ungrouped): one bar per stage, each
    with its count and the share of the stage before it."""
    row = report.rows[0]
    into = {top: name for name, top, bottom in RATES if bottom != "closed"}
    items: list[tuple[str, float | None, str]] = []
    for stage in COUNTS:
        count = row.counts[stage]
        figure = number_text(count)
        rate = row.rates.get(into[stage]) if stage in into else None
        if rate is not None:
            figure += " · " + str(_l("%(rate)s of the stage before", rate=percent_text(rate)))
        items.append((label(stage), float(count), figure))
    return bars(items)


@dataclass(frozen=True)
class HeatCell:
    """A cohort cell: the share of the cohort that reached a stage by now."""

    text: str
    level: int


@dataclass(frozen=True)
class HeatRow:
    """A cohort month as the heat table shows it."""

    month: str
    group: str
    created: str
    cells: list[HeatCell]


def cohort_heat(report: CohortReport) -> tuple[list[str], list[HeatRow]]:
    """The cohort heat table: stages across, one row per month (and group); each cell the
    count that reached the stage by now and its share of the month's new leads."""
    stages = [stage for stage in REACHED]
    rows = []
    for row in report.rows:
        cells = []
        for stage in stages:
            share = row.share(stage)
            count = number_text(row.reached[stage].by_now)
            text = count if share is None else f"{count} ({percent_text(share)})"
            cells.append(HeatCell(text, heat_level(share)))
        rows.append(
            HeatRow(
                row.month,
                group_text(row.group, report.filter.group_by),
                number_text(row.created),
                cells,
            )
        )
    return [label(stage) for stage in stages], rows


def velocity_bars(report: VelocityReport) -> list[RangeBar]:
    """The spread of each measure of the first row (the whole, when ungrouped)."""
    row = report.rows[0]
    items: list[tuple[str, float | None, float | None, float | None, str]] = []
    for name in MEASURES:
        spread = row.measures[name]
        if spread.count:
            figure = str(
                _l(
                    "median %(median)s d · p75 %(p75)s d · p90 %(p90)s d (%(count)s)",
                    median=number_text(spread.median, 1),
                    p75=number_text(spread.p75, 1),
                    p90=number_text(spread.p90, 1),
                    count=number_text(spread.count),
                )
            )
        else:
            figure = str(_l("none in the period"))
        items.append((measure_label(name), spread.median, spread.p75, spread.p90, figure))
    return range_bars(items)


def ungrouped(report: ReportFilter) -> ReportFilter:
    """The same filter without its grouping (what the charts draw)."""
    return replace(report, group_by=None)
