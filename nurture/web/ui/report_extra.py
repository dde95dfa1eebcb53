"""The reports beyond the funnel on the reports pages: volume, costs, revenue (CLV and
attribution), campaign results and the sales feedback loop — each as one chart of its key
figure per group and its whole table (the same table as ``nurture report <name>``).

Which figure a chart draws, and which grouping it uses when the reader chose none, is the
only thing decided here (``SECTIONS``); the figures are the analytics reports'.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from nurture.analytics import FilterError, ReportFilter
from nurture.analytics.attribution import ATTRIBUTION_BY, attribution_report, attribution_table
from nurture.analytics.campaign_results import campaign_results, campaign_results_table
from nurture.analytics.clv import clv_report, clv_table
from nurture.analytics.costs.report import cost_report, cost_table
from nurture.analytics.costs.volume import volume_report, volume_table
from nurture.analytics.email_results import CAMPAIGN_GROUP_BY
from nurture.analytics.feedback import feedback_report
from nurture.analytics.feedback_rules import FEEDBACK_GROUP_BY
from nurture.analytics.feedback_tables import feedback_reasons_table, feedback_table
from nurture.analytics.roi import ROI_BY, roi_report, roi_table
from nurture.analytics.tables import Cell
from nurture.platform.db import utcnow
from nurture.web.ui.charts import Bar, Column, bars, columns
from nurture.web.ui.formatting import number_text, percent_text
from nurture.web.ui.report_sections import ReportSpec, Table, shown_table

# The attribution model the dashboard draws: U-shaped credits both the touch that brought
# the lead and the one that closed, the usual default of B2B tools.
DASHBOARD_MODEL = "u-shaped"
# A period of at most this many days shows new leads per week, a longer one per month.
WEEKLY_UP_TO_DAYS = 92


def interval_for(report: ReportFilter) -> str:
    """How finely the volume chart splits ``report``'s period."""
    return "week" if (report.end - report.start).days <= WEEKLY_UP_TO_DAYS else "month"


def _attribution(session: Session, report: ReportFilter) -> Any:
    return attribution_report(session, report, models=(DASHBOARD_MODEL,))


def _clv(session: Session, report: ReportFilter) -> Any:
    return clv_report(session, report, now=utcnow())


def _volume(session: Session, report: ReportFilter) -> Any:
    return volume_report(session, report, interval_for(report))


EXTRA_REPORTS: dict[str, ReportSpec] = {
    "volume": ReportSpec(_volume, volume_table),
    "costs": ReportSpec(cost_report, cost_table),
    "clv": ReportSpec(_clv, clv_table),
    "attribution": ReportSpec(_attribution, attribution_table, ATTRIBUTION_BY),
    "campaigns": ReportSpec(campaign_results, campaign_results_table, CAMPAIGN_GROUP_BY),
    "feedback": ReportSpec(feedback_report, feedback_table, FEEDBACK_GROUP_BY),
    "feedback-reasons": ReportSpec(feedback_report, feedback_reasons_table, FEEDBACK_GROUP_BY),
    "roi": ReportSpec(roi_report, roi_table, ROI_BY),
}


@dataclass(frozen=True)
class ChartSpec:
    """One section: its report, the grouping used when the reader chose none (or one the
    report does not take), the table column it draws and how that column reads."""

    report: str
    default_by: str | None
    column: str
    kind: str  # count | money | rate
    title: Any
    caption: Any


SECTIONS: dict[str, ChartSpec] = {
    "costs": ChartSpec(
        "costs", "source", "cost_per_lead", "money", _l("Cost per lead"),
        _l("What one new lead cost, per group (the costs of the period shared out by days)"),
    ),
    "clv": ChartSpec(
        "clv", "source", "average_clv", "money", _l("Customer lifetime value"),
        _l("Average revenue to date of the customers won in the period, per group"),
    ),
    "attribution": ChartSpec(
        "attribution", "campaign", DASHBOARD_MODEL, "money", _l("Revenue by touch"),
        _l("Won revenue credited to the touches before each win (U-shaped: 40 % first, "
           "40 % last, 20 % between)"),
    ),
    "campaigns": ChartSpec(
        "campaigns", "campaign", "click_rate", "rate", _l("Email results"),
        _l("Human clicks on delivered emails, per group (machine opens and scanner clicks "
           "left out)"),
    ),
    "feedback": ChartSpec(
        "feedback", "campaign", "acceptance_rate", "rate", _l("Sales acceptance"),
        _l("Share of the MQLs offered in the period that sales accepted, per group"),
    ),
}  # fmt: skip


@dataclass(frozen=True)
class ExtraSection:
    """A section as drawn: its chart (bars or columns) and its table."""

    key: str
    title: Any
    caption: Any
    bars: list[Bar]
    columns: list[Column]
    table: Table
    csv: str
    by: str | None
    # True when the report could not run for this filter; ``caption`` then says why.
    problem: bool = False


def _grouped(report: ReportFilter, spec: ReportSpec, default_by: str | None) -> ReportFilter:
    by = report.group_by if report.group_by in spec.groupings else default_by
    return replace(report, group_by=by)


def _figure(value: Cell, kind: str) -> tuple[float | None, str]:
    if value is None or value == "":
        return None, "—"
    number = float(Decimal(str(value)))
    if kind == "rate":
        return number, percent_text(number)
    if kind == "money":
        return number, number_text(number, 2)
    return number, number_text(number)


def _column_index(header: Sequence[str], wanted: str) -> int:
    # Money columns carry the currency (``average_clv_eur``, ``u-shaped_eur``).
    for index, name in enumerate(header):
        if name == wanted or name.startswith(wanted + "_"):
            return index
    raise KeyError(wanted)


def chart_section(session: Session, report: ReportFilter, key: str) -> ExtraSection:
    """The section ``key`` of ``SECTIONS`` for ``report``."""
    chart = SECTIONS[key]
    spec = EXTRA_REPORTS[chart.report]
    grouped = _grouped(report, spec, chart.default_by)
    header, rows = spec.table(spec.build(session, grouped))
    value_at = _column_index(header, chart.column)
    label_at = header.index("group")
    items = []
    for row in rows:
        value, figure = _figure(row[value_at], chart.kind)
        group = row[label_at]
        items.append((str(group) if group is not None else str(_l("(none)")), value, figure))
    return ExtraSection(
        key, chart.title, chart.caption, bars(items), [], shown_table(header, rows), key,
        grouped.group_by,
    )  # fmt: skip


def volume_section(session: Session, report: ReportFilter) -> ExtraSection:
    """New leads per week or month (the chart: every lead of the filter; the table: per
    group when the reader chose one)."""
    spec = EXTRA_REPORTS["volume"]
    whole = spec.build(session, replace(report, group_by=None))
    points = [(row.period, float(row.leads), number_text(row.leads)) for row in whole.rows]
    grouped = whole if report.group_by is None else spec.build(session, report)
    weekly = interval_for(report) == "week"
    return ExtraSection(
        "volume",
        _l("New leads"),
        _l("New leads per week (weeks start on Monday)") if weekly else _l("New leads per month"),
        [],
        columns(points),
        shown_table(*spec.table(grouped), grouped=report.group_by is not None),
        "volume",
        report.group_by,
    )


def roi_section(session: Session, report: ReportFilter) -> ExtraSection:
    """Return on the marketing spend per source (or campaign): the bar is the ROAS
    (revenue ÷ cost, 1 is break-even), the figure both ROAS and ROI."""
    spec = EXTRA_REPORTS["roi"]
    grouped = _grouped(report, spec, "source")
    header, rows = spec.table(spec.build(session, grouped))
    roas_at = header.index(f"{DASHBOARD_MODEL}_roas")
    roi_at = header.index(f"{DASHBOARD_MODEL}_roi")
    items: list[tuple[str, float | None, str]] = []
    for row in rows[:-1]:  # the total is in the table, not a bar among the groups
        roas, roi = row[roas_at], row[roi_at]
        if roas is None:
            figure = str(_l("no cost"))
        else:
            figure = str(
                _l(
                    "ROAS %(roas)s× · ROI %(roi)s",
                    roas=number_text(float(roas), 2),
                    roi=percent_text(float(roi)) if roi is not None else "—",
                )
            )
        group = row[0]
        name = str(group) if group is not None else str(_l("(none)"))
        items.append((name, float(roas) if roas is not None else None, figure))
    return ExtraSection(
        "roi", _l("Return on marketing spend"),
        _l("Attributed revenue (U-shaped) against the costs of the period, per group: the "
           "bar is the revenue per unit of cost (1 is break-even)"),
        bars(items), [], shown_table(header, rows), "roi", grouped.group_by,
    )  # fmt: skip


def _or_problem(
    build: Callable[[Session, ReportFilter], ExtraSection], key: str, title: Any
) -> Callable[[Session, ReportFilter], ExtraSection]:
    """``build``, or the section saying why it cannot be drawn (a currency mismatch
    between costs and revenue): one report that cannot run must not blank the page."""

    def section(session: Session, report: ReportFilter) -> ExtraSection:
        try:
            return build(session, report)
        except FilterError as error:
            why = "; ".join(error.errors.values())
            return ExtraSection(key, title, why, [], [], Table([], [], []), key, None, problem=True)

    return section


OVERVIEW_EXTRAS: tuple[Callable[[Session, ReportFilter], ExtraSection], ...] = (
    volume_section,
    lambda session, report: chart_section(session, report, "costs"),
    lambda session, report: chart_section(session, report, "clv"),
    lambda session, report: chart_section(session, report, "attribution"),
    _or_problem(roi_section, "roi", _l("Return on marketing spend")),
)
