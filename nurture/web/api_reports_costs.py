"""JSON API: ``GET /api/v1/reports/costs`` — cost, leads, MQLs and customers per group and
the cost per each (docs/analytics.md, "Cost per lead, MQL and customer"), with an API key.
The query takes the reports' arguments; a bad one is a 400 naming it."""

from __future__ import annotations

from typing import Any

from nurture.analytics.costs import cost_report
from nurture.web.api import bp
from nurture.web.api_reports import report_response
from nurture.web.auth import require_api_key


@bp.get("/reports/costs")
@require_api_key
def costs_report_view() -> Any:
    """The cost report: the same JSON as ``nurture report costs --format json``."""
    return report_response(cost_report)
