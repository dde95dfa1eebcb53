"""JSON API: ``GET /api/v1/reports/volume`` — new leads per day, ISO week or month
(docs/analytics.md, "Volume"), with an API key. The query takes the reports' arguments
(``from``, ``to``, ``by``, ``source``, ``campaign``, ``owner``, ``grade``, ``segment``) and
``interval`` (``day``, ``week`` or ``month``, the default); a bad one is a 400 naming it."""

from __future__ import annotations

from typing import Any

from flask import request
from sqlalchemy.orm import Session

from nurture.analytics import ReportFilter
from nurture.analytics.costs import VolumeReport, volume_report
from nurture.web.api import bp
from nurture.web.api_reports import report_response
from nurture.web.auth import require_api_key


@bp.get("/reports/volume")
@require_api_key
def volume_view() -> Any:
    """New leads per bucket of the period and group: the same JSON as ``nurture report
    volume --format json``."""
    return report_response(_volume, extra=("interval",))


def _volume(session: Session, report: ReportFilter) -> VolumeReport:
    # volume_report refuses an unknown interval with a FilterError naming it: a 400.
    return volume_report(session, report, request.args.get("interval") or "month")
