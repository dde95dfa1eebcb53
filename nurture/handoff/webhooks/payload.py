"""The JSON body of a handoff webhook: one event, with the lead, account, qualification,
owner, SLA and links, so a CRM or chat tool needs no second call to act on it."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from nurture.handoff.links import HandoffLinks
from nurture.handoff.mail import link_expiry
from nurture.models import Account, Handoff, HandoffSla, Lead, SalesRep

# Bumped when a field changes meaning or disappears (new fields may appear any time).
API_VERSION = "2026-12-01"
EVENTS = (
    "handoff.created",
    "handoff.accepted",
    "handoff.rejected",
    "handoff.converted",
    "handoff.reassigned",
    "handoff.sla.breached",
)


def iso(moment: datetime | None) -> str | None:
    """``2026-12-01T09:30:00Z``."""
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def event_body(
    session: Session,
    handoff: Handoff,
    event: str,
    now: datetime,
    *,
    secret_key: str,
    public_url: str,
    extra: dict[str, Any] | None = None,
) -> tuple[str, str]:
    """The event id and the exact JSON text to send (sorted keys, UTF-8, compact)."""
    lead = session.get(Lead, handoff.lead_id)
    assert lead is not None
    account = session.get(Account, handoff.account_id) if handoff.account_id else None
    owner = session.get(SalesRep, handoff.rep_id) if handoff.rep_id else None
    sla = session.get(HandoffSla, handoff.id)
    snapshot = handoff.snapshot or {}
    event_id = f"evt_{uuid.uuid4().hex}"
    base = public_url.rstrip("/")
    links = HandoffLinks(secret_key, public_url).urls(
        handoff.token, handoff.rep_id, link_expiry(handoff)
    )
    why = snapshot.get("why") or {}
    body: dict[str, Any] = {
        "id": event_id,
        "type": event,
        "api_version": API_VERSION,
        "occurred_at": iso(now),
        "data": {
            "handoff": {
                "id": handoff.id,
                "status": handoff.status,
                "created_at": iso(handoff.created_at),
                "decided_at": iso(handoff.decided_at),
                "decided_by": handoff.decided_by,
                "reject_reason": handoff.reject_reason,
                "reject_note": handoff.reject_note,
                "outcome": handoff.outcome,
                "deal_value": None if handoff.deal_value is None else str(handoff.deal_value),
                "deal_currency": handoff.deal_currency,
                "previous_handoff_id": handoff.previous_id,
                "needs_owner": handoff.needs_owner,
                "assignment": {
                    "method": handoff.assignment_method,
                    "rule": handoff.assignment_rule,
                    "reason": handoff.assignment_reason,
                },
                "next_step": snapshot.get("next_step"),
                "api_url": f"{base}/api/v1/handoffs/{handoff.id}",
                # Signed for the owner: whoever holds them can accept or reject as the
                # owner until they expire. Send webhooks only to endpoints you trust.
                "links": {**links, "expires_at": iso(link_expiry(handoff))},
            },
            "qualification": {
                "rule": handoff.qualification_rule,
                "reasons": list(handoff.qualification_reasons or []),
                "hand_raiser": handoff.hand_raiser,
                "hand_raised_at": iso(lead.hand_raised_at),
                "fit_grade": handoff.fit_grade,
                "fit_score": handoff.fit_score,
                "fit_reasons": list((why.get("fit") or {}).get("reasons") or []),
                "fit_missing": list((why.get("fit") or {}).get("missing") or []),
                "score": handoff.score,
                "temperature": handoff.temperature,
                "score_rules": list((why.get("score") or {}).get("rules") or []),
            },
            "lead": {
                "id": lead.id,
                "email": lead.email,
                "name": lead.full_name,
                "first_name": lead.first_name,
                "last_name": lead.last_name,
                "title": lead.title,
                "role": (snapshot.get("lead") or {}).get("role"),
                "phone": lead.phone,
                "stage": lead.stage,
                "timezone": lead.timezone,
                "source": handoff.source,
                "campaign": handoff.campaign,
            },
            "account": None
            if account is None
            else {
                "id": account.id,
                "domain": account.domain,
                "name": account.name,
                "industry": account.industry,
                "employees": account.employees,
                "annual_revenue": account.annual_revenue,
                "country": account.country,
                "segment": (snapshot.get("account") or {}).get("segment"),
                "contacts": (snapshot.get("account") or {}).get("contacts") or [],
                "roles_covered": (snapshot.get("account") or {}).get("roles_covered") or [],
                "roles_missing": (snapshot.get("account") or {}).get("roles_missing") or [],
                "api_url": f"{base}/api/v1/accounts/{account.domain}" if account.domain else None,
            },
            "owner": None
            if owner is None
            else {
                "id": owner.id,
                "name": owner.name,
                "email": owner.email,
                "phone": owner.phone,
                "title": owner.title,
                "timezone": owner.timezone,
            },
            "sla": None
            if sla is None
            else {
                "policy": sla.policy,
                "due_at": iso(sla.due_at),
                "status": sla.status,
                "responded_at": iso(sla.responded_at),
                "response_business_seconds": sla.response_business_seconds,
                "escalation": sla.escalation or {},
            },
            "timeline": snapshot.get("timeline") or [],
            **(extra or {}),
        },
    }
    return event_id, json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
