"""What follows each handoff action: the SLA clock and the outgoing webhooks.

``nurture.handoff.trail.record_action`` sends ``hooks.handoff_action`` for every entry it
writes to a handoff's log, in the same transaction, and ``on_action`` follows it: the clock
starts with the handoff (and its deadline is in the notification), stops when sales
responds, and every change is announced to webhooks exactly when it commits. The SLA comes
first, so a webhook announcing a new handoff already carries its deadline.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from nurture.handoff.sla import service as sla_service
from nurture.handoff.webhooks import enqueue
from nurture.models import Handoff

# Handoff log actions that are sales' response to the lead, and their webhook events.
_RESPONSES = {
    "accepted": "handoff.accepted",
    "rejected": "handoff.rejected",
    "converted": "handoff.converted",
}


def on_action(
    session: Session, handoff: Handoff, action: str, now: datetime, detail: dict[str, Any]
) -> None:
    """React to one handoff log entry (see the module docstring)."""
    if action == "created":
        sla_service.start(session, handoff, now)
        previous = detail.get("reassigned_from")
        if previous:
            enqueue(
                session, handoff, "handoff.reassigned", now, extra={"reassigned_from": previous}
            )
        else:
            enqueue(session, handoff, "handoff.created", now)
    elif action in _RESPONSES:
        sla_service.respond(session, handoff, action, now)
        enqueue(session, handoff, _RESPONSES[action], now)
    elif action == "reassigned":
        sla_service.reassigned(session, handoff, now)
