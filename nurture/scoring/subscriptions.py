"""What scoring listens to: new human events on leads' timelines (rescore them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from nurture.platform import hooks
from nurture.scoring.service import rescore_leads


def subscribe() -> None:
    """Connect scoring to the named events below it (start-up)."""
    hooks.timelines_changed.connect(_rescore, weak=False)


def _rescore(session: Session, *, lead_ids: Sequence[int], now: datetime) -> None:
    rescore_leads(session, lead_ids, now)
