"""JSON API: ``GET /api/v1/reports/feedback`` — the sales feedback loop (docs/analytics.md,
"Sales feedback loop"), with an API key. The query takes the other reports' arguments
(``by`` also takes ``rule``) and ``notes=1`` for the reps' rejection notes of the period;
a bad one is a 400 naming it. The body is ``nurture report feedback --format json``'s."""

from __future__ import annotations

from typing import Any

from flask import request
from sqlalchemy.orm import Session

from nurture.analytics import ReportFilter
from nurture.analytics.feedback import FeedbackReport, feedback_report
from nurture.analytics.feedback_rules import FEEDBACK_GROUP_BY, parse_flag
from nurture.web.api import bp
from nurture.web.api_reports import report_response
from nurture.web.auth import require_api_key


@bp.get("/reports/feedback")
@require_api_key
def feedback_view() -> Any:
    """Sales' verdicts on the period's MQLs, rejection reasons per month, recycled leads
    back as MQL; ``notes=1`` adds the rejection notes (free text about people: answered,
    never logged)."""
    return report_response(_build, FEEDBACK_GROUP_BY, extra=("notes",))


def _build(session: Session, report: ReportFilter) -> FeedbackReport:
    # parse_flag's FilterError is answered as a 400 naming ``notes`` by report_response.
    notes = parse_flag("notes", request.args.get("notes"))
    return feedback_report(session, report, notes=notes)
