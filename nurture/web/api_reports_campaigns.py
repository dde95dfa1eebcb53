"""JSON API: ``GET /api/v1/reports/campaigns`` — email and campaign results
(docs/analytics.md, "Email and campaign results"), with an API key. The query takes the
CLI's arguments: the reports' own (``from``, ``to``, ``by``, ``source``, ``campaign``, …)
and ``compare_from``, ``compare_to``, ``versions``, ``all_mail``; the answer is
``nurture report campaigns --format json``'s. A bad argument is a 400 naming it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import request
from sqlalchemy.orm import Session

from nurture.analytics import FilterError, ReportFilter
from nurture.analytics.campaign_results import CampaignResultsReport, campaign_results
from nurture.analytics.email_results import CAMPAIGN_GROUP_BY, parse_comparison
from nurture.web.api import bp
from nurture.web.api_reports import report_response
from nurture.web.auth import require_api_key

EXTRA = ("compare_from", "compare_to", "versions", "all_mail")
_YES = ("1", "true", "yes")
_NO = ("", "0", "false", "no")


@bp.get("/reports/campaigns")
@require_api_key
def campaigns_view() -> Any:
    """Per campaign (or step, template, version, …): sent, delivered, bounces, human and
    machine opens and clicks, unsubscribes, complaints, conversions, their rates, and a
    comparison with another period or version."""
    return report_response(_build, CAMPAIGN_GROUP_BY, extra=EXTRA)


def _build(session: Session, report: ReportFilter) -> CampaignResultsReport:
    if request.args.get("by") is None:
        # Per campaign unless asked otherwise (by=none: all campaigns together).
        report = replace(report, group_by="campaign")
    all_mail = (request.args.get("all_mail") or "").strip().lower()
    if all_mail not in _YES + _NO:
        raise FilterError({"all_mail": "use 1 or 0 (true or false)"})
    comparison = parse_comparison(
        compare_from=request.args.get("compare_from"),
        compare_to=request.args.get("compare_to"),
        versions=request.args.get("versions"),
        campaign=report.campaign,
        group_by=report.group_by,
    )
    return campaign_results(session, report, comparison, all_mail=all_mail in _YES)
