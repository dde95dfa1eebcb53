"""JSON API: a lead's score explained and its timeline (``/api/v1/leads/<ref>/score`` and
``/api/v1/leads/<ref>/timeline``), by lead id or email, with an API key."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from nurture.platform.db import utcnow
from nurture.platform.ids import parse_count
from nurture.scoring.report import lead_report
from nurture.web.api import _runtime, bp
from nurture.web.auth import require_api_key
from nurture.web.errors import json_error, validation_error

MAX_TIMELINE = 1000


@bp.get("/leads/<path:ref>/score")
@require_api_key
def lead_score_view(ref: str) -> Any:
    """The lead's decayed score now, its temperature, and which events (grouped by rule)
    contribute how many points; ``rules[].recent`` lists up to ``events`` per rule."""
    limit = _limit("events", default=10)
    if isinstance(limit, dict):
        return validation_error(limit, "invalid query parameters")
    with _runtime().sessions() as session:
        report = lead_report(session, ref, utcnow(), events=0)
        if report is None:
            return json_error(404, "not_found", f"no lead with id or email {ref!r}")
        body = report.score_dict()
        if report.score is not None:
            body["rules"] = report.score.explanation.as_dict(events=limit)["rules"]
    return jsonify(body)


@bp.get("/leads/<path:ref>/timeline")
@require_api_key
def lead_timeline_view(ref: str) -> Any:
    """The lead's newest events (``limit``, default 100), machine hits marked with reasons,
    and the points each human event earned under the active model."""
    limit = _limit("limit", default=100)
    if isinstance(limit, dict):
        return validation_error(limit, "invalid query parameters")
    with _runtime().sessions() as session:
        report = lead_report(session, ref, utcnow(), events=limit)
        if report is None:
            return json_error(404, "not_found", f"no lead with id or email {ref!r}")
        return jsonify({"lead_id": report.lead_id, "events": report.timeline_dicts()})


def _limit(name: str, *, default: int) -> int | dict[str, str]:
    text = request.args.get(name) or str(default)
    value = parse_count(text) or 0
    if not 1 <= value <= MAX_TIMELINE:
        return {name: f"a whole number from 1 to {MAX_TIMELINE}"}
    return value
