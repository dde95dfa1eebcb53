"""JSON API: campaigns and manual enrolment (``/api/v1/campaigns``)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from sqlalchemy import func, select

from nurture.campaigns.services import NotFound, enrol_by_email
from nurture.models import Campaign, CampaignVersion, Enrollment
from nurture.platform.db import utcnow
from nurture.web.api import _runtime, bp
from nurture.web.auth import require_api_key
from nurture.web.errors import json_error, validation_error


@bp.get("/campaigns")
@require_api_key
def list_campaigns() -> Any:
    """Every campaign with its active version and live enrolment count."""
    with _runtime().sessions() as session:
        live = dict(
            session.execute(
                select(Enrollment.campaign_id, func.count())
                .where(Enrollment.status == "active")
                .group_by(Enrollment.campaign_id)
            ).all()
        )
        rows = session.execute(
            select(Campaign, CampaignVersion.number)
            .outerjoin(CampaignVersion, CampaignVersion.id == Campaign.active_version_id)
            .order_by(Campaign.key)
        ).all()
        return jsonify(
            {
                "campaigns": [
                    {
                        "id": campaign.key,
                        "name": campaign.name,
                        "status": campaign.status,
                        "version": number,
                        "active_enrollments": live.get(campaign.id, 0),
                        "last_error": campaign.last_error,
                    }
                    for campaign, number in rows
                ]
            }
        )


@bp.post("/campaigns/<key>/enrollments")
@require_api_key
def enrol(key: str) -> Any:
    """Enrol a lead: body ``{"lead": "<email or id>"}``. 201 when enrolled; 422 with the
    reason when the audience, consent or re-entry rules say no; 404 for unknown names."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("lead"), str | int):
        return validation_error({"lead": 'give the lead\'s email or id as "lead"'})
    try:
        outcome = enrol_by_email(_runtime(), str(body["lead"]), key, now=utcnow(), via="api")
    except NotFound as exc:
        return json_error(404, "not_found", str(exc))
    if outcome.enrollment is None:
        return validation_error({"lead": outcome.reason}, "the lead was not enrolled")
    enrollment = outcome.enrollment
    return (
        jsonify(
            {
                "enrollment": {
                    "id": enrollment.id,
                    "campaign": key,
                    "lead_id": enrollment.lead_id,
                    "entry": enrollment.entry_number,
                    "track": enrollment.track,
                    "status": enrollment.status,
                    "next_due_at": enrollment.next_due_at.isoformat().replace("+00:00", "Z")
                    if enrollment.next_due_at
                    else None,
                }
            }
        ),
        201,
    )
