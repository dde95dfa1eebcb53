"""The handoff's trail: entries in its own log, and events on the lead's timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from nurture.models import Event, Handoff, HandoffAction
from nurture.platform import hooks


def record_action(
    session: Session,
    handoff: Handoff,
    action: str,
    actor: str,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> HandoffAction:
    """Add one entry to the handoff's own log (the SLA side adds reminded/escalated).

    Each entry also drives what follows it, in this transaction: the SLA clock and the
    outgoing webhooks (``hooks.handoff_action``, followed by ``nurture.handoff.events``)."""
    entry = HandoffAction(
        handoff_id=handoff.id, at=now, action=action, actor=actor[:320], detail=dict(detail or {})
    )
    session.add(entry)
    hooks.publish(
        hooks.handoff_action, session, handoff=handoff, action=action, now=now, detail=entry.detail
    )
    return entry


def timeline_event(
    session: Session, handoff: Handoff, kind: str, now: datetime, **properties: Any
) -> Event:
    """A ``handoff.*`` event on the lead's timeline."""
    event = Event(
        lead_id=handoff.lead_id,
        type=kind,
        occurred_at=now,
        recorded_at=now,
        is_machine=False,
        machine_reasons=[],
        properties={
            "handoff_id": handoff.id,
            **{k: v for k, v in properties.items() if v is not None},
        },
    )
    session.add(event)
    return event
