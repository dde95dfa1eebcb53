"""What the handoff listens to: its own log (the SLA clock and webhooks follow each entry),
and what it gives the layers below it to render its emails and validate their templates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from nurture.handoff import events, mail, samples
from nurture.handoff.sla import mail as sla_mail
from nurture.models import Handoff
from nurture.platform import hooks
from nurture.sending import kinds


def subscribe() -> None:
    """Connect the handoff to the named events and registries below it (start-up)."""
    hooks.handoff_action.connect(_follow_action, weak=False)
    kinds.register_context((kinds.HANDOFF, kinds.AUTO_REPLY), mail.template_extras)
    kinds.register_context((kinds.SLA_REMINDER, kinds.SLA_ESCALATION), sla_mail.template_context)
    samples.register_samples()


def _follow_action(
    session: Session, *, handoff: Handoff, action: str, now: datetime, detail: dict[str, Any]
) -> None:
    events.on_action(session, handoff, action, now, detail)
