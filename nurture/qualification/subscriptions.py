"""What qualification listens to: new or changed lead data (regrade, then readiness) and
rescored leads (readiness), both in the transaction of the change."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from nurture.models import Lead
from nurture.platform import hooks
from nurture.qualification.service import evaluate_readiness, lead_data_changed


def subscribe() -> None:
    """Connect qualification to the named events below it (start-up)."""
    hooks.leads_data_changed.connect(_regrade, weak=False)
    hooks.leads_rescored.connect(_evaluate, weak=False)


def _regrade(
    session: Session, *, leads: Sequence[Lead], now: datetime, account_ids: Iterable[int]
) -> None:
    lead_data_changed(session, leads, now, account_ids=account_ids)


def _evaluate(session: Session, *, lead_ids: Sequence[int], now: datetime) -> None:
    evaluate_readiness(session, lead_ids, now)
