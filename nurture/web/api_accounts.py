"""JSON API: ``GET /api/v1/accounts/<domain or id>`` — an account's engagement score, buying
committee, people, handoffs and combined timeline, with an API key."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from nurture.handoff.account_view import account_view
from nurture.platform.db import utcnow
from nurture.platform.ids import parse_count
from nurture.web.api import _runtime, bp
from nurture.web.auth import require_api_key
from nurture.web.errors import json_error, validation_error

MAX_EVENTS = 1000


@bp.get("/accounts/<path:ref>")
@require_api_key
def account_view_endpoint(ref: str) -> Any:
    """The account view (``events``: timeline length, default 50, at most 1000)."""
    text = request.args.get("events") or "50"
    events = parse_count(text) or 0
    if not 1 <= events <= MAX_EVENTS:
        return validation_error({"events": f"a whole number from 1 to {MAX_EVENTS}"}, "invalid")
    runtime = _runtime()
    with runtime.sessions() as session:
        view = account_view(
            session, ref, utcnow(), method=runtime.settings.account_score, timeline=events
        )
        if view is None:
            return json_error(404, "not_found", f"no account with domain or id {ref!r}")
        return jsonify(view.as_dict())
