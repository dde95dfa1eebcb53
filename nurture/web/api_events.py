"""JSON API: server-side events (``POST /api/v1/events``) for forms, demos, trials, webinars,
downloads and custom events. The event is captured as a raw hit and answered with 202; the
hit processor attaches it to the lead's timeline and rescoring follows within a second."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request

from nurture.files.event_catalogue import event_catalogue
from nurture.tracking.capture import hit_writer
from nurture.tracking.clock import instance_now
from nurture.tracking.event_intake import validate_event
from nurture.tracking.hit_rows import hit_row
from nurture.web.api import _json_body, _runtime, bp
from nurture.web.auth import require_api_key
from nurture.web.errors import validation_error


@bp.post("/events")
@require_api_key
def post_event() -> Any:
    """Accept one event; 422 with a reason per field when it is not valid."""
    settings = _runtime().settings
    # On a simulated-time instance, "now" and the future an event may not be in are the
    # simulated clock's (docs/tracking.md#simulated-time).
    now = instance_now(_runtime())
    event, errors = validate_event(
        _json_body(), now, event_catalogue(settings), simulated=settings.simulated_time
    )
    if event is None:
        return validation_error(errors, "the event is not valid")
    row = hit_row(
        kind="api",
        now=now,
        method=request.method,
        user_agent=request.headers.get("User-Agent"),
        ip=request.remote_addr,
        prefetch=False,
        ip_privacy=settings.ip_privacy,
        secret=settings.secret_key,
        visitor_id=event.visitor_id,
        url=event.url,
        payload={
            "type": event.type,
            "email": event.email,
            "occurred_at": event.occurred_at.isoformat(),
            "properties": event.properties,
        },
    )
    hit_writer(_runtime()).write(row)
    processor = current_app.extensions.get("nurture.hit_processor")
    if processor is not None:
        processor.wake()
    return jsonify({"status": "accepted", "type": event.type}), 202
