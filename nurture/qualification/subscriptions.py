"""What qualification listens to: new or changed lead data (regrade, then readiness) and
rescored leads (readiness), both in the transaction of the change; and what it gives the
engine to render the hand-raise auto-reply and the review notification."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from nurture.models import Lead
from nurture.platform import hooks
from nurture.qualification import reviews
from nurture.qualification.service import evaluate_readiness, lead_data_changed
from nurture.rendering import context as rendering
from nurture.sending import kinds


def subscribe() -> None:
    """Connect qualification to the named events below it (start-up)."""
    hooks.leads_data_changed.connect(_regrade, weak=False)
    hooks.leads_rescored.connect(_evaluate, weak=False)
    # The hand-raise auto-reply and the review notification are rendered by the engine.
    kinds.register_context(
        (kinds.HAND_RAISE_REPLY, kinds.HAND_RAISE_REVIEW), reviews.template_extras
    )
    rendering.register_samples(
        "hand-raise-review", lambda sparse: {"review": reviews.sample_review(sparse=sparse)}
    )


def _regrade(
    session: Session, *, leads: Sequence[Lead], now: datetime, account_ids: Iterable[int]
) -> None:
    lead_data_changed(session, leads, now, account_ids=account_ids)


def _evaluate(session: Session, *, lead_ids: Sequence[int], now: datetime) -> None:
    evaluate_readiness(session, lead_ids, now)
