"""Privacy routes of the JSON API: export everything about a lead, erase a lead."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, jsonify

from nurture.platform.db import transaction, utcnow
from nurture.privacy.rights import UnknownLead, erase_lead, export_lead, record_export
from nurture.web.api import bp
from nurture.web.auth import require_api_key
from nurture.web.errors import json_error


def _actor() -> str:
    key = getattr(g, "api_key", None)
    return f"api-key:{getattr(key, 'id', '?')}"


@bp.get("/leads/<path:ref>/export")
@require_api_key
def export_lead_view(ref: str) -> Any:
    """Everything held about the lead (id or email), as JSON (GDPR access request)."""
    runtime = current_app.extensions["nurture"]
    try:
        with transaction(runtime.sessions) as session:
            data = export_lead(session, ref)
            record_export(
                session, data["lead"]["id"], data["lead"]["email"], actor=_actor(), now=utcnow()
            )
    except UnknownLead:
        return json_error(404, "not_found", f"no lead with id or email {ref!r}")
    return jsonify(data)


@bp.delete("/leads/<path:ref>")
@require_api_key
def erase_lead_view(ref: str) -> Any:
    """Erase the lead (GDPR erasure): personal data removed, the address kept only as a
    hash on the suppression list, aggregates anonymous."""
    runtime = current_app.extensions["nurture"]
    try:
        with transaction(runtime.sessions) as session:
            report = erase_lead(
                session,
                ref,
                now=utcnow(),
                actor=_actor(),
                instance_path=runtime.settings.instance_path,
            )
    except UnknownLead:
        return json_error(404, "not_found", f"no lead with id or email {ref!r}")
    return jsonify(
        {
            "erased": True,
            "lead_id": report.lead_id,
            "messages_anonymised": report.messages,
            "events_anonymised": report.events,
            "rows_deleted": report.deleted,
            "removed_from_imports": report.imports.as_dict(),
        }
    )
