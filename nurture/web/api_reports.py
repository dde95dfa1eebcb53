"""JSON API: ``GET /api/v1/reports/funnel``, ``/api/v1/reports/cohorts`` and
``/api/v1/reports/velocity`` — the funnel and velocity from history (docs/analytics.md),
with an API key. The query takes the CLI's arguments: ``from``, ``to``, ``by``, ``source``,
``campaign``, ``owner``, ``grade``, ``segment``; a bad one is a 400 naming every bad
argument."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from flask import Response, jsonify, request
from sqlalchemy.orm import Session

from nurture.analytics import (
    GROUP_BY,
    VELOCITY_GROUP_BY,
    FilterError,
    ReportFilter,
    cohort_report,
    funnel_report,
    velocity_report,
)
from nurture.analytics.filters import QUERY_ARGUMENTS, parse_query
from nurture.platform.db import utcnow
from nurture.web.api import _runtime, bp
from nurture.web.auth import require_api_key
from nurture.web.errors import json_error

ARGUMENTS = QUERY_ARGUMENTS


@bp.get("/reports/funnel")
@require_api_key
def funnel_view() -> Any:
    """The period view: per group, leads created, entering each stage and lost, and rates."""
    return report_response(funnel_report)


@bp.get("/reports/cohorts")
@require_api_key
def cohorts_view() -> Any:
    """The cohort view: per month of creation (and group), how many reached each stage by
    now and within 30/60/90 days."""
    return report_response(cohort_report)


@bp.get("/reports/velocity")
@require_api_key
def velocity_view() -> Any:
    """Velocity: per group, time in each stage, the sales cycle and the time from a
    handoff's offer to the first sales action (count, median, p75, p90 in days)."""
    return report_response(velocity_report, VELOCITY_GROUP_BY)


class _Report(Protocol):
    def as_dict(self) -> dict[str, Any]: ...


def report_response(
    build: Callable[[Session, ReportFilter], _Report],
    groupings: tuple[str, ...] = GROUP_BY,
    extra: tuple[str, ...] = (),
) -> Response:
    """A report as JSON: the query's filter parsed (400 naming each bad argument, or an
    unknown one), ``build`` run in one session, its ``as_dict()`` answered. ``extra`` names
    the report's own query parameters, which ``build`` reads itself (its FilterError is a
    400 too)."""
    unknown = sorted(set(request.args) - set(ARGUMENTS) - set(extra))
    if unknown:
        return json_error(
            400,
            "bad_request",
            f"unknown query parameter(s): {', '.join(unknown)[:200]}",
            errors={name[:50]: "not a parameter of this report" for name in unknown[:10]},
        )
    try:
        report = parse_query(request.args, today=utcnow().date(), groupings=groupings)
        with _runtime().sessions() as session:
            result = build(session, report)
    except FilterError as error:
        return json_error(400, "bad_request", "invalid report parameters", errors=error.errors)
    return jsonify(result.as_dict())
