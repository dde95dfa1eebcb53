"""JSON API, version 1 (``/api/v1``). Every route needs an API key.

There is no CSRF protection here, on purpose: CSRF works because browsers attach cookies to
cross-site requests automatically. This API never reads a cookie or session; it trusts only
the ``Authorization``/``X-API-Key`` header, which a browser will not add to a request another
site makes, so a forged request arrives unauthenticated and is refused with 401.

Each request's work runs in one transaction (``nurture.platform.db.transaction``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from nurture.consent.rules import lead_not_mailable_reason
from nurture.leads.queries import get_lead, list_leads
from nurture.leads.service import upsert_leads
from nurture.leads.stages import LIFECYCLE_STAGES
from nurture.leads.validation import LeadFields, validate_lead_data
from nurture.models import Lead
from nurture.platform.db import transaction, utcnow
from nurture.platform.ids import parse_count, parse_id
from nurture.platform.runtime import Runtime
from nurture.privacy.double_opt_in import request_confirmations
from nurture.sending.bounces.apply import ingest_file
from nurture.web.api_input import body_limit, check_api_request
from nurture.web.auth import require_api_key
from nurture.web.errors import json_error, register_error_handlers, validation_error

bp = Blueprint("api", __name__, url_prefix="/api/v1")
register_error_handlers(bp)
# Oversized, deeply nested, NUL, lone surrogates, control characters: refused for every
# endpoint before its view runs.
bp.before_request(check_api_request)

MAX_BULK = 1000
# A bulk request of 1000 leads with generous attributes stays well below this.
MAX_BODY_BYTES = 8 * 1024 * 1024
DEFAULT_PAGE = 50
MAX_PAGE = 500

T = TypeVar("T")


def _runtime() -> Runtime:
    return current_app.extensions["nurture"]


def _in_transaction(work: Callable[[Session], T]) -> T:
    """Run ``work`` in one transaction, retried once after a unique-key conflict.

    Two requests that create the same new lead (or account) at the same moment both find
    nothing and both insert; the database refuses the second. Run again, the loser finds the
    winner's row and updates it, which is exactly what it would have done a moment later.
    """
    for attempt in (1, 2):
        try:
            with transaction(_runtime().sessions) as session:
                return work(session)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _timestamp(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def lead_json(lead: Lead) -> dict[str, Any]:
    """The API representation of a lead (call inside the session that loaded it)."""
    account = lead.account
    return {
        "id": lead.id,
        "email": lead.email,
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "title": lead.title,
        "phone": lead.phone,
        "timezone": lead.timezone,
        "locale": lead.locale,
        "source": lead.source,
        "utm_source": lead.utm_source,
        "utm_medium": lead.utm_medium,
        "utm_campaign": lead.utm_campaign,
        "utm_term": lead.utm_term,
        "utm_content": lead.utm_content,
        "attributes": lead.attributes or {},
        "stage": lead.stage,
        "stage_changed_at": _timestamp(lead.stage_changed_at),
        "temperature": lead.temperature,
        # Fit against the ICP (docs/qualification.md); null before the lead is graded.
        "fit": None
        if lead.fit_grade is None
        else {
            "score": lead.fit_score,
            "grade": lead.fit_grade,
            "graded_at": _timestamp(lead.fit_graded_at),
            "reasons": lead.fit_reasons or [],
            "missing": lead.fit_missing or [],
        },
        "consent_status": lead.consent_status,
        "lawful_basis": lead.lawful_basis,
        "consent_source": lead.consent_source,
        "consent_text": lead.consent_text,
        "consent_at": _timestamp(lead.consent_at),
        "unsubscribed_at": _timestamp(lead.unsubscribed_at),
        "account": None
        if account is None
        else {"id": account.id, "name": account.name, "domain": account.domain},
        "created_at": _timestamp(lead.created_at),
        "updated_at": _timestamp(lead.updated_at),
    }


class _Abort(Exception):
    """Carries a ready error response out of a helper."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


@bp.errorhandler(_Abort)
def _abort_handler(exc: _Abort) -> Response:
    return exc.response


def _json_body() -> Any:
    """The parsed JSON body; raises a JSON 400/413 response when there is none."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise _Abort(json_error(413, "payload_too_large", f"at most {MAX_BODY_BYTES} bytes"))
    if not request.is_json:
        raise _Abort(
            json_error(400, "bad_request", "send a JSON body with Content-Type: application/json")
        )
    payload = request.get_json(silent=True)
    if payload is None:
        raise _Abort(json_error(400, "bad_request", "the body is not valid JSON"))
    return payload


@bp.post("/leads")
@body_limit(MAX_BODY_BYTES)
@require_api_key
def post_leads() -> Any:
    """Create or update one lead (a JSON object) or up to MAX_BULK (a JSON array)."""
    payload = _json_body()
    if isinstance(payload, dict):
        return _upsert_one(payload)
    if isinstance(payload, list):
        return _upsert_many(payload)
    return json_error(
        400, "bad_request", "send one lead as a JSON object, or a JSON array of leads"
    )


def _validate(item: Any) -> tuple[LeadFields | None, dict[str, str]]:
    if not isinstance(item, dict):
        return None, {"_": "a lead must be a JSON object"}
    return validate_lead_data(item, default_timezone=_runtime().settings.default_timezone)


def _double_opt_in() -> bool:
    return _runtime().settings.double_opt_in


def _request_confirmations(session: Session, leads: list[Lead], now: datetime) -> None:
    # Double opt-in (docs/privacy.md): pending leads get one confirmation email.
    if _runtime().settings.double_opt_in:
        settings = _runtime().settings
        request_confirmations(session, leads, now=now, mail_from=settings.mail_from, actor="api")


def _upsert_one(payload: dict[str, Any]) -> Any:
    fields, errors = _validate(payload)
    if fields is None:
        return validation_error(errors)
    now = utcnow()

    def work(session: Session) -> tuple[bool, dict[str, Any]]:
        (result,) = upsert_leads(
            session, [fields], now=now, source="api", double_opt_in=_double_opt_in()
        )
        _request_confirmations(session, [result.lead], now)
        return result.created, lead_json(result.lead)

    created, body = _in_transaction(work)
    return jsonify(body), 201 if created else 200


def _upsert_many(payload: list[Any]) -> Any:
    if len(payload) > MAX_BULK:
        return json_error(
            413, "payload_too_large", f"at most {MAX_BULK} leads per request, got {len(payload)}"
        )
    results: list[dict[str, Any]] = [{"index": i} for i in range(len(payload))]
    valid: list[tuple[int, LeadFields]] = []
    for index, item in enumerate(payload):
        fields, errors = _validate(item)
        if fields is None:
            results[index].update(status="invalid", errors=errors)
        else:
            valid.append((index, fields))
    now = utcnow()

    def work(session: Session) -> None:
        # Invalid items were set aside above, so they cannot abort the valid ones.
        upserted = upsert_leads(
            session,
            [f for _, f in valid],
            now=now,
            source="api",
            double_opt_in=_double_opt_in(),
        )
        _request_confirmations(session, [r.lead for r in upserted], now)
        for (index, _), result in zip(valid, upserted, strict=True):
            status = "updated" if result.changed else "unchanged"
            if result.created:
                status = "created"
            results[index].update(
                status=status,
                changed=sorted(result.changed),
                lead=lead_json(result.lead),
                not_mailable=lead_not_mailable_reason(result.lead),
            )

    if valid:
        _in_transaction(work)
    counts = {s: 0 for s in ("created", "updated", "unchanged", "invalid")}
    # Of the leads stored: how many campaigns may mail, and why not the others.
    not_mailable: dict[str, int] = {}
    for item in results:
        counts[item["status"]] += 1
        reason = item.get("not_mailable")
        if reason is not None:
            not_mailable[reason] = not_mailable.get(reason, 0) + 1
    mailable = len(valid) - sum(not_mailable.values())
    body = {"results": results, **counts, "mailable": mailable, "not_mailable": not_mailable}
    return jsonify(body), 200


@bp.get("/leads/<path:ref>")
@require_api_key
def get_lead_view(ref: str) -> Any:
    """One lead by id or email address."""

    def work(session: Session) -> dict[str, Any] | None:
        lead = get_lead(session, ref)
        return None if lead is None else lead_json(lead)

    body = _in_transaction(work)
    if body is None:
        return json_error(404, "not_found", f"no lead with id or email {ref!r}")
    return jsonify(body)


@bp.get("/leads")
@require_api_key
def list_leads_view() -> Any:
    """Leads in id order, ``limit`` at a time; follow ``next_cursor`` for the next page."""
    errors: dict[str, str] = {}
    stage = request.args.get("stage") or None
    if stage is not None and stage not in LIFECYCLE_STAGES:
        errors["stage"] = "unknown stage; use one of: " + ", ".join(LIFECYCLE_STAGES)
    limit_text = request.args.get("limit") or str(DEFAULT_PAGE)
    limit = parse_count(limit_text) or 0
    if not 1 <= limit <= MAX_PAGE:
        errors["limit"] = f"a whole number from 1 to {MAX_PAGE}"
    cursor = request.args.get("cursor") or None
    # The cursor is the last id of the previous page. Clients must treat it as opaque: it
    # may become an encoded (sort key, id) pair when other orders are offered.
    after = None if cursor is None else parse_id(cursor)
    if cursor is not None and after is None:
        errors["cursor"] = "not a cursor returned by this API"
    if errors:
        return validation_error(errors, "invalid query parameters")

    def work(session: Session) -> list[dict[str, Any]]:
        leads = list_leads(session, stage=stage, limit=limit + 1, after_id=after)
        return [lead_json(lead) for lead in leads]

    page = _in_transaction(work)
    more = len(page) > limit
    page = page[:limit]
    return jsonify({"leads": page, "next_cursor": str(page[-1]["id"]) if more else None})


# A bounce is a few KB; a forwarded one with its original attached rarely passes 1 MB.
MAX_BOUNCE_BYTES = 10 * 1024 * 1024


@bp.post("/bounces")
@body_limit(MAX_BOUNCE_BYTES)
@require_api_key
def post_bounce() -> Any:
    """Ingest one bounce or complaint: the body is the raw RFC 822 message (what an MTA's
    pipe or a provider's inbound-mail webhook delivers), applied like ``nurture bounces
    ingest``. Unknown or malformed messages are answered 422 and change nothing."""

    if request.content_length is not None and request.content_length > MAX_BOUNCE_BYTES:
        return json_error(413, "payload_too_large", f"at most {MAX_BOUNCE_BYTES} bytes")
    raw = request.get_data(cache=False)
    if not raw.strip():
        return json_error(400, "bad_request", "send the raw message (message/rfc822) as the body")
    rt = _runtime()
    result = ingest_file(
        rt.sessions, raw, label="webhook", soft_bounce_limit=rt.settings.soft_bounce_limit
    )
    if result.state == "skipped":
        return json_error(422, "not_a_bounce", result.note)
    return jsonify(
        {
            "state": result.state,
            "recipients": [
                {
                    "recipient": o.recipient,
                    "status": o.status,
                    "decision": o.decision,
                    "reason": o.reason,
                    "action": o.action,
                }
                for o in result.outcomes
            ],
        }
    ), 200
