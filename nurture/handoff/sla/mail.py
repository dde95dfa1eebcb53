"""What the SLA emails' templates see: the handoff's stored notification content, with an
``sla`` part describing the deadline and what the escalation did (``context: handoff-sla``
in their meta.yaml)."""

from __future__ import annotations

from collections.abc import Sequence
from copy import deepcopy
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from nurture.handoff.links import HandoffLinks
from nurture.handoff.mail import link_expiry, notification_locale
from nurture.handoff.notification import (
    Words,
    policy_text,
    present,
    utc_moment_text,
    working_hours_text,
)
from nurture.models import Handoff, HandoffSla, Message, SalesRep
from nurture.platform.config import Settings
from nurture.platform.i18n import DEFAULT_LOCALE
from nurture.sending.kinds import recipient_locales


def sla_view(
    row: HandoffSla, owner: SalesRep | None, new_owner: SalesRep | None, words: Words | None = None
) -> dict[str, Any]:
    """The ``handoff.sla`` variable of the SLA emails, in the reader's language (``words``;
    English when None)."""
    words = words or Words()
    escalation = row.escalation or {}
    return {
        "deadline": utc_moment_text(words, row.due_at),
        "due_at": row.due_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "policy": policy_text(words, row.policy),
        "status": row.status,
        "owner": owner.name if owner else None,
        "owner_email": owner.email if owner else None,
        "reassigned_to": new_owner.name if new_owner else None,
        "reassigned_to_email": new_owner.email if new_owner else None,
        "reassign_problem": escalation.get("reassign_problem"),
        "hours": working_hours_text(words, row.working_hours, row.timezone),
    }


def sla_extras(
    session: Session,
    message_ids: Sequence[int],
    links: HandoffLinks,
    expires: Any,
    *,
    now: datetime,
    default_locale: str = DEFAULT_LOCALE,
    details_url: str = "",
) -> dict[int, dict[str, Any]]:
    """Template context of SLA messages among ``message_ids``, by message id, in each
    reader's language (their account's, else the handoff's, else ``default_locale``), its
    relative times and labels as of ``now`` (``nurture.handoff.notification.present``).

    ``expires(handoff)`` gives when a handoff's links stop working."""
    if not message_ids:
        return {}
    rows = session.scalars(
        select(HandoffSla).where(
            or_(
                HandoffSla.reminder_message_id.in_(message_ids),
                HandoffSla.escalation_message_id.in_(message_ids),
            )
        )
    ).all()
    addresses: dict[int, str] = {
        message_id: address
        for message_id, address in session.execute(
            select(Message.id, Message.to_address).where(Message.id.in_(message_ids))
        )
    }
    readers = recipient_locales(session, {address.lower() for address in addresses.values()})
    extras: dict[int, dict[str, Any]] = {}
    for row in rows:
        handoff = session.get(Handoff, row.handoff_id)
        if handoff is None:
            continue
        owner = session.get(SalesRep, handoff.rep_id) if handoff.rep_id else None
        new_email = (row.escalation or {}).get("reassigned_to")
        new_owner = (
            session.scalar(select(SalesRep).where(SalesRep.email == new_email))
            if new_email
            else None
        )
        snapshot = deepcopy(handoff.snapshot or {})
        for message_id in (row.reminder_message_id, row.escalation_message_id):
            if message_id is None or message_id not in message_ids:
                continue
            address = str(addresses.get(message_id) or "").lower()
            words = Words(readers.get(address) or notification_locale(snapshot, default_locale))
            shown = present(
                snapshot, now, words, details_url=f"{details_url}/leads/{handoff.lead_id}"
            )
            extras[message_id] = {
                "handoff": {
                    **shown,
                    "id": handoff.id,
                    "to_manager": handoff.rep_id is None,
                    "links": links.urls(handoff.token, handoff.rep_id, expires(handoff)),
                    "expires": words.day(expires(handoff)),
                    "sla": sla_view(row, owner, new_owner, words),
                },
                "locale": words.locale,
            }
    return extras


def template_context(
    session: Session, messages: Sequence[Message], settings: Settings, now: datetime
) -> dict[int, dict[str, Any]]:
    """Template context of SLA reminders and escalations, by message id (registered with
    ``nurture.sending.kinds`` for those kinds)."""
    links = HandoffLinks(settings.secret_key, settings.public_url)
    return sla_extras(
        session,
        [m.id for m in messages],
        links,
        link_expiry,
        now=now,
        default_locale=settings.default_locale,
        details_url=settings.public_url,
    )
