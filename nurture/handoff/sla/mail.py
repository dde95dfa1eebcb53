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
from nurture.handoff.mail import link_expiry
from nurture.models import Handoff, HandoffSla, Message, SalesRep
from nurture.platform.config import Settings


def sla_view(row: HandoffSla, owner: SalesRep | None, new_owner: SalesRep | None) -> dict[str, Any]:
    """The ``handoff.sla`` variable of the SLA emails."""
    escalation = row.escalation or {}
    return {
        "deadline": f"{row.due_at:%a %d %b, %H:%M} UTC",
        "due_at": row.due_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "policy": row.policy,
        "status": row.status,
        "owner": owner.name if owner else None,
        "owner_email": owner.email if owner else None,
        "reassigned_to": new_owner.name if new_owner else None,
        "reassigned_to_email": new_owner.email if new_owner else None,
        "reassign_problem": escalation.get("reassign_problem"),
        "hours": f"{row.working_hours} ({row.timezone})",
    }


def sla_extras(
    session: Session, message_ids: Sequence[int], links: HandoffLinks, expires: Any
) -> dict[int, dict[str, Any]]:
    """Template context of SLA messages among ``message_ids``, by message id.

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
        base = {
            **snapshot,
            "id": handoff.id,
            "to_manager": handoff.rep_id is None,
            "links": links.urls(handoff.token, handoff.rep_id, expires(handoff)),
            "expires": expires(handoff).strftime("%Y-%m-%d"),
            "sla": sla_view(row, owner, new_owner),
        }
        for message_id in (row.reminder_message_id, row.escalation_message_id):
            if message_id is not None and message_id in message_ids:
                extras[message_id] = {"handoff": base}
    return extras


def template_context(
    session: Session, messages: Sequence[Message], settings: Settings, now: datetime
) -> dict[int, dict[str, Any]]:
    """Template context of SLA reminders and escalations, by message id (registered with
    ``nurture.sending.kinds`` for those kinds)."""
    links = HandoffLinks(settings.secret_key, settings.public_url)
    return sla_extras(session, [m.id for m in messages], links, link_expiry)
