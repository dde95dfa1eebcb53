"""JSON API: ``GET /api/v1/reports/clv`` — customer lifetime value (docs/analytics.md,
"Revenue and CLV"), with an API key: the report's arguments and ``currency``; a bad one is
a 400 naming it."""

from __future__ import annotations

from typing import Any

from flask import request
from sqlalchemy.orm import Session

from nurture.analytics import ReportFilter
from nurture.analytics.clv import ClvReport, clv_report, parse_currency
from nurture.platform.db import utcnow
from nurture.web.api import bp
from nurture.web.api_reports import report_response
from nurture.web.auth import require_api_key


@bp.get("/reports/clv")
@require_api_key
def clv_view() -> Any:
    """Per group, the customers won in the period, their revenue to date and the average
    CLV; and each customer."""

    def build(session: Session, report: ReportFilter) -> ClvReport:
        currency = parse_currency(request.args.get("currency"))
        return clv_report(session, report, currency=currency, now=utcnow())

    return report_response(build, extra=("currency",))
