"""Analytics' subscriptions to the named events below it (``nurture.wiring.connect``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from nurture.analytics import rollup
from nurture.models import StageChange
from nurture.platform import hooks


def subscribe() -> None:
    """Keep the reports' roll-ups with every recorded stage change (start-up)."""
    hooks.stage_recorded.connect(_on_stage_recorded, weak=False)


def _on_stage_recorded(session: Session, *, change: StageChange, now: datetime) -> None:
    del now  # the change carries its own time
    rollup.follow_stage_change(session, change)
