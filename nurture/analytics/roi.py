"""ROI per source and per campaign: the cost of the period (the cost report) set against
the revenue of the deals won in it credited to the group's touches (the attribution
report), with ROI and ROAS (docs/analytics.md, "ROI"); the formulas are ``roi_rules``'.

The two reports run with the same filter and grouping, and their group names are the same
keys: a campaign is a campaign key (the cost entries naming it and spread over its
enrolled leads; the revenue of its emails' human clicks), a source a source name (the cost
entries naming it, spread over the leads created with it; the revenue of the touches that
came from it — a link's or page's ``utm_source``, else the lead's source). Costs are in the
costs file's currency and revenue in the report's: when they differ, the report is refused
(no exchange rate is known).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from nurture.analytics.attribution import attribution_report, parse_models
from nurture.analytics.attribution_rules import DEFAULT_LOOKBACK_DAYS, NO_TOUCH
from nurture.analytics.clv import report_currency
from nurture.analytics.costs import spread_in_period
from nurture.analytics.costs.sync import reporting_currency
from nurture.analytics.filters import FilterError, ReportFilter
from nurture.analytics.roi_rules import (
    NO_TOUCH_KIND,
    REST,
    UNATTRIBUTED,
    RevenueLine,
    RoiLine,
    cents,
    roi_lines,
    roi_total,
)
from nurture.analytics.tables import Cell
from nurture.handoff.team_sync import active_team

ROI_BY: tuple[str, ...] = ("campaign", "source")
DEFAULT_BY = "campaign"
# U-shaped credits both the touch that brought the lead (what most spend buys) and the one
# before the win, and leaves some to the nurture between them (docs/analytics.md, "ROI").
DEFAULT_MODEL = "u-shaped"
# How the rows that are not a group are named in a table.
LABELS = {NO_TOUCH_KIND: NO_TOUCH, UNATTRIBUTED: "(no lead matched)", REST: "(outside the groups)"}


@dataclass(frozen=True)
class RoiReport:
    """Per group: cost, deals credited, attributed revenue, ROI and ROAS under each model;
    and the total."""

    filter: ReportFilter
    currency: str
    models: tuple[str, ...]
    lookback_days: int
    rows: list[RoiLine]
    total: RoiLine
    other_currencies: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """The report as plain values (the API's body; amounts as exact strings)."""
        return {
            "filter": self.filter.as_dict(),
            "currency": self.currency,
            "models": list(self.models),
            "lookback_days": self.lookback_days,
            "rows": [_line(row) for row in self.rows],
            "total": _line(self.total),
            "other_currencies": self.other_currencies,
        }


def parse_model(text: str | None) -> tuple[str, ...]:
    """``--model``: one of the attribution models or ``all`` (default ``u-shaped``);
    ``FilterError`` naming ``model``."""
    return parse_models(text if text and text.strip() else DEFAULT_MODEL)


def with_default_grouping(report: ReportFilter, asked: str | None) -> ReportFilter:
    """``report`` grouped by campaign when no ``--by`` was given (``none`` stays one row)."""
    return replace(report, group_by=DEFAULT_BY) if not (asked or "").strip() else report


def roi_report(
    session: Session,
    report: ReportFilter,
    *,
    models: tuple[str, ...] = (DEFAULT_MODEL,),
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    currency: str | None = None,
) -> RoiReport:
    """The ROI of ``report``'s groups (``FilterError`` for a filter naming nothing, or
    naming ``currency`` when the costs are in another currency than the revenue)."""
    code = report_currency(active_team(session), currency)
    costs_currency = reporting_currency(session)
    if costs_currency is not None and costs_currency != code:
        asked = "asked for" if currency else "the sales team's currency"
        raise FilterError(
            {
                "currency": f"the costs are in {costs_currency} but revenue would be in "
                f"{code} ({asked}); no exchange rate is known, so ask for "
                f"{costs_currency} or enter the costs in {code}"
            }
        )
    # The costs alone: the cost report's counts of leads, MQLs and customers (the funnel's,
    # its slowest part by campaign) are not part of ROI.
    costs = spread_in_period(session, report)
    revenue = attribution_report(
        session, report, models=models, lookback_days=lookback_days, currency=code
    )
    rows = roi_lines(
        models=models,
        costs=costs.by_group,
        unattributed=costs.unattributed,
        total_cost=costs.total,
        revenue=[RevenueLine(row.group, row.deals, row.revenue) for row in revenue.rows],
        no_touch=NO_TOUCH,
    )
    total = roi_total(
        models=models, total_cost=costs.total, deals=revenue.deals, revenue=revenue.revenue
    )
    return RoiReport(
        report, code, models, lookback_days, rows, total, dict(revenue.other_currencies)
    )


def roi_table(report: RoiReport) -> tuple[list[str], list[list[Cell]]]:
    """The report as a table: group, cost, deals, then per model its revenue, ROI and ROAS
    (fractions: ROI 0.25 is +25 %, ROAS 1.25 is 1.25 times the cost); the total last."""
    header = ["group", "cost", "deals"]
    for model in report.models:
        header += [f"{model}_revenue", f"{model}_roi", f"{model}_roas"]
    rows: list[list[Cell]] = []
    for line, name in [*((row, _label(row)) for row in report.rows), (report.total, "total")]:
        cells: list[Cell] = [name, _money(line.cost), line.deals]
        roi, roas = line.roi, line.roas
        for model in report.models:
            cells += [_money(line.revenue[model]), roi[model], roas[model]]
        rows.append(cells)
    return header, rows


def _label(line: RoiLine) -> str | None:
    return LABELS.get(line.kind, line.group)


def _money(amount: Decimal) -> str:
    return f"{cents(amount):.2f}"


def _line(line: RoiLine) -> dict[str, object]:
    return {
        "group": line.group,
        "kind": line.kind,
        "cost": _money(line.cost),
        "deals": line.deals,
        "revenue": {model: _money(amount) for model, amount in line.revenue.items()},
        "roi": line.roi,
        "roas": line.roas,
    }
