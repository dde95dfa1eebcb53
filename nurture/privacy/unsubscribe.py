"""Unsubscribe use cases: by the token of a message the person received (one-click POST,
the confirm page, a mailto unsubscribe). Flask-free; tracking/unsubscribe.py is the web
side and ``nurture unsubscribes ingest`` the mail side."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from nurture.consent.suppression import suppress
from nurture.models import Event, Lead, Message
from nurture.tracking import refresh_engagement


@dataclass(frozen=True)
class Recipient:
    """The message a token names, and its lead (None when unknown or erased)."""

    message: Message
    lead: Lead


def recipient_for_token(session: Session, token: str) -> Recipient | None:
    """The message and lead for a (verified) message token, or None.

    Erased leads are treated as unknown: their pages must not show anything about them.
    """
    row = session.execute(
        select(Message, Lead).join(Lead, Lead.id == Message.lead_id).where(Message.token == token)
    ).first()
    if row is None or row.Lead.erased_at is not None:
        return None
    return Recipient(row.Message, row.Lead)


def unsubscribe_by_token(
    session: Session, token: str, *, source: str, now: datetime
) -> Recipient | None:
    """Unsubscribe the recipient of the message ``token`` from all campaign email.

    Idempotent: a second request changes nothing and records nothing. Returns None for an
    unknown token (nothing happens).
    """
    recipient = recipient_for_token(session, token)
    if recipient is None:
        return None
    lead, message = recipient.lead, recipient.message
    if lead.suppressed_at is not None and lead.unsubscribed_at is not None:
        return recipient
    suppress(
        session,
        lead,
        reason="unsubscribed",
        source=source,
        now=now,
        actor="lead",
        detail={"message_id": message.id, "campaign_id": message.campaign_id},
    )
    session.execute(
        insert(Event),
        [
            {
                "lead_id": lead.id,
                "type": "email.unsubscribed",
                "message_id": message.id,
                "campaign_id": message.campaign_id,
                "step_key": message.step_key,
                "occurred_at": now,
                "recorded_at": now,
                "is_machine": False,
                "machine_reasons": [],
                "properties": {"source": source},
            }
        ],
    )
    refresh_engagement(session, [message.id])
    return recipient
