"""Analytics' subscriptions to the named events below it (``nurture.wiring.connect``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from nurture.analytics import email_rollup, rollup
from nurture.models import StageChange
from nurture.platform import hooks


def subscribe() -> None:
    """Keep the reports' roll-ups with every recorded stage change and every counted
    change of a message (start-up)."""
    hooks.stage_recorded.connect(_on_stage_recorded, weak=False)
    hooks.messages_changed.connect(_on_messages_changed, weak=False)


def _on_stage_recorded(session: Session, *, change: StageChange, now: datetime) -> None:
    del now  # the change carries its own time
    rollup.follow_stage_change(session, change)


def _on_messages_changed(session: Session, *, message_ids: list[int]) -> None:
    email_rollup.follow_messages(session, message_ids)
