"""JSON API: ``GET /api/v1/reports/attribution`` — won revenue credited to the touches
before each win (docs/analytics.md, "Attribution"), with an API key. The report's
arguments, ``by`` (campaign, source, channel), ``model`` (first, last, linear, u-shaped,
all), ``lookback`` (days), ``currency``; ``deal=<handoff id>`` explains one deal. A bad
argument is a 400 naming it."""

from __future__ import annotations

from typing import Any

from flask import request
from sqlalchemy.orm import Session

from nurture.analytics import ReportFilter
from nurture.analytics.attribution import (
    ATTRIBUTION_BY,
    AttributionReport,
    DealCredit,
    attribution_report,
    explain_deal,
    parse_deal,
    parse_lookback,
    parse_models,
)
from nurture.analytics.clv import parse_currency
from nurture.web.api import bp
from nurture.web.api_reports import report_response
from nurture.web.auth import require_api_key

EXTRA = ("model", "lookback", "currency", "deal")


@bp.get("/reports/attribution")
@require_api_key
def attribution_view() -> Any:
    """Per campaign, source or channel: the deals touched and the revenue credited under
    each model; with ``deal``, that deal's touches and credits."""

    def build(session: Session, report: ReportFilter) -> AttributionReport | DealCredit:
        models = parse_models(request.args.get("model"))
        lookback = parse_lookback(request.args.get("lookback"))
        currency = parse_currency(request.args.get("currency"))
        deal = parse_deal(request.args.get("deal"))
        if deal is not None:
            return explain_deal(session, deal, models=models, lookback_days=lookback)
        return attribution_report(
            session, report, models=models, lookback_days=lookback, currency=currency
        )

    return report_response(build, ATTRIBUTION_BY, EXTRA)
