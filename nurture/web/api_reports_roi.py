"""JSON API: ``GET /api/v1/reports/roi`` — per campaign or source, cost against attributed
revenue with ROI and ROAS (docs/analytics.md, "ROI"), with an API key. The reports'
arguments, ``by`` (campaign, the default, or source), ``model`` (first, last, linear,
u-shaped: the default, all), ``lookback`` (days), ``currency``; a bad one is a 400 naming
it."""

from __future__ import annotations

from typing import Any

from flask import request
from sqlalchemy.orm import Session

from nurture.analytics import ReportFilter
from nurture.analytics.attribution import parse_lookback
from nurture.analytics.clv import parse_currency
from nurture.analytics.roi import ROI_BY, RoiReport, parse_model, roi_report, with_default_grouping
from nurture.web.api import bp
from nurture.web.api_reports import report_response
from nurture.web.auth import require_api_key

EXTRA = ("model", "lookback", "currency")


@bp.get("/reports/roi")
@require_api_key
def roi_view() -> Any:
    """The ROI report: the same JSON as ``nurture report roi --format json``."""

    def build(session: Session, report: ReportFilter) -> RoiReport:
        models = parse_model(request.args.get("model"))
        lookback = parse_lookback(request.args.get("lookback"))
        currency = parse_currency(request.args.get("currency"))
        return roi_report(
            session,
            with_default_grouping(report, request.args.get("by")),
            models=models,
            lookback_days=lookback,
            currency=currency,
        )

    return report_response(build, ROI_BY, EXTRA)
