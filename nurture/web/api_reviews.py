"""JSON API for marketing's review queue of hand-raisers (API key).

- ``GET /api/v1/handoffs/reviews?status=open|sent|dismissed|all&limit=&after=``
- ``GET /api/v1/handoffs/reviews/<id>``
- ``POST /api/v1/handoffs/reviews/<id>/send``     ``{"note": "…"}`` (optional)
- ``POST /api/v1/handoffs/reviews/<id>/dismiss``  ``{"reason": "…"}`` (required)

A refused action answers with a stable ``error`` code (``not_found``, ``already_resolved``,
``reason_required``, …) and changes nothing; each action is one transaction.
"""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request

from nurture.handoff.model import HandoffError
from nurture.models import Lead
from nurture.platform.db import transaction, utcnow
from nurture.platform.ids import parse_count
from nurture.qualification import reviews
from nurture.qualification.hand_raise_rules import REVIEW_STATUSES
from nurture.web.api import _runtime, bp
from nurture.web.auth import require_api_key
from nurture.web.errors import json_error, validation_error

MAX_PAGE = 500


def _error(error: HandoffError) -> Any:
    return json_error(error.status, error.code, error.message)


def _actor() -> str:
    key = getattr(g, "api_key", None)
    return f"user:api:{getattr(key, 'name', 'key')}"


@bp.get("/handoffs/reviews")
@require_api_key
def reviews_list() -> Any:
    """Hand-raisers held for review, newest first (``status``: open by default, or all)."""
    status = request.args.get("status") or "open"
    errors: dict[str, str] = {}
    if status != "all" and status not in REVIEW_STATUSES:
        errors["status"] = f"one of {', '.join(REVIEW_STATUSES)} or all"
    limit = parse_count(request.args.get("limit", "50")) or 0
    if not 1 <= limit <= MAX_PAGE:
        errors["limit"] = f"a whole number from 1 to {MAX_PAGE}"
    after = reviews.decode_after(request.args.get("after"))
    if request.args.get("after") and after is None:
        errors["after"] = "the next_after of a previous page"
    if errors:
        return validation_error(errors, "invalid query parameters")
    now = utcnow()
    with _runtime().sessions() as session:
        page = reviews.list_reviews(
            session, status=None if status == "all" else status, limit=limit, after=after
        )
        return jsonify(
            {
                "reviews": [reviews.review_json(row, lead, now) for row, lead in page.rows],
                "next_after": page.next_after,
                "counts": reviews.review_counts(session),
            }
        )


@bp.get("/handoffs/reviews/<int:review_id>")
@require_api_key
def review_show(review_id: int) -> Any:
    """One review item: who raised a hand, the fit, why it is held, what became of it."""
    with _runtime().sessions() as session:
        try:
            row = reviews.get_review(session, review_id)
        except HandoffError as error:
            return _error(error)
        lead = session.get(Lead, row.lead_id)
        assert lead is not None
        return jsonify(reviews.review_json(row, lead, utcnow()))


def _text(body: Any, key: str) -> str | None:
    value = body.get(key) if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


def _resolve(review_id: int, action: str) -> Any:
    body = request.get_json(silent=True)
    if body is None and request.data:
        return validation_error({"body": "a JSON object"}, "invalid request body")
    body = body or {}
    if not isinstance(body, dict):
        return validation_error({"body": "a JSON object"}, "invalid request body")
    try:
        with transaction(_runtime().sessions) as session:
            now = utcnow()
            if action == "send":
                row = reviews.send_to_sales(
                    session, review_id, actor=_actor(), now=now, note=_text(body, "note")
                )
            else:
                row = reviews.dismiss(
                    session, review_id, actor=_actor(), reason=_text(body, "reason"), now=now
                )
            session.flush()
            lead = session.get(Lead, row.lead_id)
            assert lead is not None
            result = reviews.review_json(row, lead, now)
    except HandoffError as error:
        return _error(error)
    return jsonify(result)


@bp.post("/handoffs/reviews/<int:review_id>/send")
@require_api_key
def review_send(review_id: int) -> Any:
    """Send the hand-raiser to sales anyway (no second auto-reply); ``note`` optional."""
    return _resolve(review_id, "send")


@bp.post("/handoffs/reviews/<int:review_id>/dismiss")
@require_api_key
def review_dismiss(review_id: int) -> Any:
    """Keep nurturing the hand-raiser; ``reason`` (why) is required."""
    return _resolve(review_id, "dismiss")
