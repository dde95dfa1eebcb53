"""The handoff's emails: queued as ordinary ``Message`` rows, rendered by the engine.

Like the double opt-in confirmation, each is queued "deferred, due now", so the engine's
retry pass renders and sends it at its next tick (``NURTURE_TICK_SECONDS``, 5 s by
default) through the same transport, retries and outcome recording as campaign email:

- ``kind="handoff"``, template ``sales-handoff``: to the owner (or, when nobody could take
  the lead, the team manager). Internal: no click tracking, no open pixel, no unsubscribe
  header — a rep's click must never count as the lead's engagement or unsubscribe the lead.
- ``kind="auto_reply"``, template ``handoff-auto-reply``: to a hand-raiser, naming the rep.

``template_extras`` is what the engine adds to the template context for these kinds: the
handoff's stored snapshot and the recipient's signed accept/reject links.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from nurture.handoff.links import HandoffLinks
from nurture.models import Handoff, Message
from nurture.platform.runtime import settings_of
from nurture.sending.mime import new_message_id
from nurture.tracking.tokens import new_message_token

if TYPE_CHECKING:
    from datetime import datetime

    from nurture.platform.config import Settings

NOTIFICATION_TEMPLATE = "sales-handoff"
AUTO_REPLY_TEMPLATE = "handoff-auto-reply"
KINDS = {
    "handoff": NOTIFICATION_TEMPLATE,
    "auto_reply": AUTO_REPLY_TEMPLATE,
    # The SLA's reminder to the owner and escalation to the manager (nurture.handoff.sla).
    "sla_reminder": "sla-reminder",
    "sla_escalation": "sla-escalation",
}
# Kinds whose recipient is not the lead: never tracked, never unsubscribe-able as the lead.
INTERNAL_KINDS = frozenset({"handoff", "sla_reminder", "sla_escalation"})


def queue(
    session: Session, handoff: Handoff, *, kind: str, to_address: str, now: datetime
) -> Message:
    """Queue one handoff email, due at once (sent at the engine's next tick)."""
    settings = settings_of(session)
    mail_from = settings.mail_from if settings else "nurture@localhost"
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "localhost"
    message = Message(
        lead_id=handoff.lead_id,
        kind=kind,
        template=KINDS[kind],
        to_address=to_address,
        message_id=new_message_id(domain).strip("<>"),
        token=new_message_token(),
        status="deferred",
        attempts=0,
        next_attempt_at=now,
        queued_at=now,
    )
    session.add(message)
    session.flush()
    return message


def link_expiry(handoff: Handoff) -> datetime:
    """When the handoff's accept/reject links stop working."""
    days = (handoff.snapshot or {}).get("link_expiry_days") or 14
    return handoff.created_at + timedelta(days=days)


def template_extras(
    session: Session, messages: Sequence[Message], settings: Settings
) -> dict[int, dict[str, Any]]:
    """Extra template context for handoff messages among ``messages``, by message id."""
    wanted = [m for m in messages if m.kind in KINDS]
    if not wanted:
        return {}
    ids = [m.id for m in wanted]
    handoffs = session.scalars(
        select(Handoff).where(
            or_(Handoff.notification_message_id.in_(ids), Handoff.auto_reply_message_id.in_(ids))
        )
    ).all()
    links = HandoffLinks(settings.secret_key, settings.public_url)
    extras: dict[int, dict[str, Any]] = {}
    for handoff in handoffs:
        snapshot = dict(handoff.snapshot or {})
        if handoff.notification_message_id in ids:
            urls = links.urls(handoff.token, handoff.rep_id, link_expiry(handoff))
            extras[handoff.notification_message_id] = {
                "handoff": {
                    **snapshot,
                    "id": handoff.id,
                    "to_manager": handoff.rep_id is None,
                    "links": urls,
                    "expires": link_expiry(handoff).strftime("%Y-%m-%d"),
                }
            }
        if handoff.auto_reply_message_id in ids:
            extras[handoff.auto_reply_message_id] = {"reply": snapshot.get("auto_reply") or {}}
    from nurture.handoff.sla.mail import KINDS as SLA_KINDS
    from nurture.handoff.sla.mail import sla_extras

    sla_ids = [m.id for m in wanted if m.kind in SLA_KINDS]
    extras.update(sla_extras(session, sla_ids, links, link_expiry))
    return extras
