"""JSON API for handoffs (API key): list, show, accept, reject, convert, reasons.

- ``GET /api/v1/handoffs?status=&rep=&limit=&offset=``
- ``GET /api/v1/handoffs/<id>`` (with the notification snapshot and the action log)
- ``POST /api/v1/handoffs/<id>/accept``  ``{"rep": "email"}`` (rep needed when unowned)
- ``POST /api/v1/handoffs/<id>/reject``  ``{"reason": "no-budget", "note": "…"}``
- ``POST /api/v1/handoffs/<id>/convert`` ``{"outcome": "won", "value": 12000, "currency": "EUR"}``
  (``"reason"`` says why, for ``"outcome": "lost"``)
- ``GET /api/v1/handoffs/reasons?since=2026-11-01`` (with what became of hand-raisers)

A refused action answers with ``error`` (a stable code: ``already_accepted``,
``reassigned``, ``unknown_reason``, …) and changes nothing; each action is one transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import g, jsonify, request

from nurture.handoff import lookup, verdicts
from nurture.handoff.model import STATUSES, HandoffError
from nurture.handoff.reports import handoff_actions, handoff_json, list_handoffs, reasons_report
from nurture.handoff.reps import find_rep
from nurture.models import Lead, SalesRep
from nurture.platform.db import transaction, utcnow
from nurture.platform.ids import parse_count
from nurture.qualification.reviews import review_counts
from nurture.web.api import _runtime, bp
from nurture.web.auth import require_api_key
from nurture.web.errors import json_error, validation_error

MAX_PAGE = 500


def _error(error: HandoffError) -> Any:
    return json_error(error.status, error.code, error.message)


def _actor() -> str:
    key = getattr(g, "api_key", None)
    return f"user:api:{getattr(key, 'name', 'key')}"


def _body() -> dict[str, Any] | None:
    data = request.get_json(silent=True)
    if data is None and not request.data:
        return {}
    return data if isinstance(data, dict) else None


@bp.get("/handoffs")
@require_api_key
def handoffs_list() -> Any:
    """Handoffs, newest first; filter by ``status`` and ``rep`` (email or id)."""
    status = request.args.get("status") or None
    errors: dict[str, str] = {}
    if status is not None and status not in STATUSES:
        errors["status"] = f"one of {', '.join(STATUSES)}"
    limit_text, offset_text = request.args.get("limit", "50"), request.args.get("offset", "0")
    limit, offset = parse_count(limit_text) or 0, parse_count(offset_text)
    if not 1 <= limit <= MAX_PAGE:
        errors["limit"] = f"a whole number from 1 to {MAX_PAGE}"
    if offset is None:
        errors["offset"] = "a whole number"
    if errors:
        return validation_error(errors, "invalid query parameters")
    with _runtime().sessions() as session:
        try:
            rep = find_rep(session, request.args.get("rep"))
        except HandoffError as error:
            return _error(error)
        rows = list_handoffs(session, status=status, rep=rep, limit=limit, offset=offset or 0)
        return jsonify({"handoffs": [handoff_json(h, lead, owner) for h, lead, owner in rows]})


@bp.get("/handoffs/reasons")
@require_api_key
def handoffs_reasons() -> Any:
    """Reject reasons counted per campaign and source (``since``: an ISO date)."""
    since = None
    if request.args.get("since"):
        try:
            since = datetime.fromisoformat(request.args["since"])
        except ValueError:
            return validation_error(
                {"since": "an ISO date, e.g. 2026-11-01"}, "invalid query parameters"
            )
        since = since if since.tzinfo else since.replace(tzinfo=UTC)
    with _runtime().sessions() as session:
        report = reasons_report(session, since=since).as_dict()
        report["hand_raisers"] = review_counts(session, since=since)
        return jsonify(report)


@bp.get("/handoffs/<int:handoff_id>")
@require_api_key
def handoff_show(handoff_id: int) -> Any:
    """One handoff with what the owner was told and everything done since."""
    with _runtime().sessions() as session:
        try:
            handoff = lookup.get_handoff(session, handoff_id)
        except HandoffError as error:
            return _error(error)
        lead = session.get(Lead, handoff.lead_id)
        owner = session.get(SalesRep, handoff.rep_id) if handoff.rep_id else None
        assert lead is not None
        return jsonify(
            handoff_json(
                handoff, lead, owner, full=True, actions=handoff_actions(session, handoff.id)
            )
        )


def _act(handoff_id: int, action: str) -> Any:
    body = _body()
    if body is None:
        return validation_error({"body": "a JSON object"}, "invalid request body")
    try:
        with transaction(_runtime().sessions) as session:
            now = utcnow()
            rep = find_rep(session, body.get("rep"))
            actor = f"user:{rep.email}" if rep else _actor()
            if action == "accept":
                handoff = verdicts.accept(session, handoff_id, rep=rep, actor=actor, now=now)
            elif action == "reject":
                handoff = verdicts.reject(
                    session,
                    handoff_id,
                    reason=str(body.get("reason") or ""),
                    note=body.get("note") if isinstance(body.get("note"), str) else None,
                    rep=rep,
                    actor=actor,
                    now=now,
                )
            else:
                handoff = verdicts.convert(
                    session,
                    handoff_id,
                    outcome=str(body.get("outcome") or ""),
                    value=body.get("value"),
                    currency=body.get("currency"),
                    reason=body.get("reason") if isinstance(body.get("reason"), str) else None,
                    rep=rep,
                    actor=actor,
                    now=now,
                )
            session.flush()
            lead = session.get(Lead, handoff.lead_id)
            owner = session.get(SalesRep, handoff.rep_id) if handoff.rep_id else None
            assert lead is not None
            result = handoff_json(handoff, lead, owner)
    except HandoffError as error:
        return _error(error)
    return jsonify(result)


@bp.post("/handoffs/<int:handoff_id>/accept")
@require_api_key
def handoff_accept(handoff_id: int) -> Any:
    """Accept (stage sal); ``rep`` required when the handoff has no owner."""
    return _act(handoff_id, "accept")


@bp.post("/handoffs/<int:handoff_id>/reject")
@require_api_key
def handoff_reject(handoff_id: int) -> Any:
    """Reject with ``reason`` (from the team file) and an optional ``note``."""
    return _act(handoff_id, "reject")


@bp.post("/handoffs/<int:handoff_id>/convert")
@require_api_key
def handoff_convert(handoff_id: int) -> Any:
    """Record ``outcome`` (sql, opportunity, won, lost) with ``value`` and ``currency``."""
    return _act(handoff_id, "convert")
