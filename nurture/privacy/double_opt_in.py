"""Double opt-in: consent given through the API stays ``pending`` until the person clicks
the link in a confirmation email (``NURTURE_DOUBLE_OPT_IN=1``).

The confirmation is an ordinary ``Message`` (kind ``confirmation``) queued as due now, so
the engine's normal delivery path renders and sends it at the next tick; its token signs
the confirm link ``/u/<signed>/confirm``. Campaigns do not mail pending leads
(``nurture.consent.rules.is_mailable``); on confirmation consent becomes granted, any
suppression is lifted (this is new, explicit consent) and creation triggers run.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.campaigns import triggers
from nurture.consent import audit
from nurture.consent.suppression import hash_for, lift
from nurture.models import Lead, Message
from nurture.privacy.unsubscribe import Recipient, recipient_for_token
from nurture.sending import kinds


def stored_ip(ip: str | None, mode: str) -> str | None:
    """The part of ``ip`` the privacy setting keeps: ``full``, ``truncated`` (IPv4 /24,
    IPv6 /48: enough to show the network, not the device) or ``none`` (pure)."""
    if not ip or mode == "none":
        return None
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    if mode == "full":
        return str(address)
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


def needs_confirmation(lead: Lead) -> bool:
    """True for a pending lead that has not confirmed yet (pure)."""
    return lead.consent_status == "pending" and lead.consent_confirmed_at is None


def request_confirmations(
    session: Session, leads: Sequence[Lead], *, now: datetime, mail_from: str, actor: str
) -> list[Message]:
    """Queue one confirmation email for each lead that needs one and has none waiting."""
    pending = [lead for lead in leads if needs_confirmation(lead) and lead.erased_at is None]
    if not pending:
        return []
    waiting = set(
        session.scalars(
            select(Message.lead_id).where(
                Message.lead_id.in_([lead.id for lead in pending]),
                Message.kind == kinds.CONFIRMATION.name,
                Message.status.in_(("deferred", "sending", "queued")),
            )
        )
    )
    queued = []
    for lead in pending:
        if lead.id in waiting:
            continue
        message = kinds.queue_message(
            session,
            kinds.CONFIRMATION,
            lead_id=lead.id,
            to_address=lead.email,
            mail_from=mail_from,
            now=now,
        )
        queued.append(message)
        audit.record(
            session,
            action="consent.pending",
            lead_id=lead.id,
            email_hash=hash_for(session, lead.email),
            detail={"confirmation": "queued"},
            actor=actor,
            now=now,
        )
    return queued


def confirm(
    session: Session, token: str, *, now: datetime, ip: str | None, ip_mode: str
) -> Recipient | None:
    """Grant consent for the recipient of a confirmation message. Idempotent; None for a
    token that names no confirmation email."""
    recipient = recipient_for_token(session, token)
    if recipient is None or recipient.message.kind != "confirmation":
        return None
    lead = recipient.lead
    if lead.consent_confirmed_at is not None and lead.consent_status == "granted":
        return recipient
    lead.consent_status = "granted"
    lead.lawful_basis = lead.lawful_basis or "consent"
    lead.consent_confirmed_at = now
    lead.consent_at = now
    lead.consent_ip = stored_ip(ip, ip_mode)
    lead.updated_at = now
    # Confirming is new, explicit consent: it lifts an earlier unsubscribe or erasure.
    lift(session, lead, source="double-opt-in", now=now, actor="lead")
    audit.record(
        session,
        action="consent.confirmed",
        lead_id=lead.id,
        email_hash=hash_for(session, lead.email),
        detail={"method": "double-opt-in", "message_id": recipient.message.id},
        actor="lead",
        now=now,
    )
    session.flush()
    triggers.lead_created(session, lead, now)
    return recipient
