"""What qualification listens to: new or changed lead data (regrade, then readiness) and
rescored leads (readiness), both in the transaction of the change; and what it gives the
engine to render the hand-raise auto-reply and the review notification."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from nurture.models import Account, Lead
from nurture.platform import hooks
from nurture.qualification import reviews
from nurture.qualification.grading import grade_new_leads
from nurture.qualification.icp import Fit
from nurture.qualification.service import evaluate_readiness, lead_data_changed
from nurture.rendering import context as rendering
from nurture.sending import kinds

# Where a transaction's new leads' fits wait, from their grading before the insert to the
# regrade after it (``grade_new_leads``, ``regrade_batch(graded=...)``).
_NEW_FITS = "nurture.qualification.new_fits"


def subscribe() -> None:
    """Connect qualification to the named events below it (start-up)."""
    hooks.leads_creating.connect(_grade_new, weak=False)
    hooks.leads_data_changed.connect(_regrade, weak=False)
    hooks.leads_rescored.connect(_evaluate, weak=False)
    # The hand-raise auto-reply and the review notification are rendered by the engine.
    kinds.register_context(
        (kinds.HAND_RAISE_REPLY, kinds.HAND_RAISE_REVIEW), reviews.template_extras
    )
    rendering.register_samples(
        "hand-raise-review", lambda sparse: {"review": reviews.sample_review(sparse=sparse)}
    )


def _grade_new(
    session: Session, *, leads: Sequence[tuple[Lead, Account | None]], now: datetime
) -> None:
    session.info[_NEW_FITS] = grade_new_leads(session, leads, now)


def _regrade(
    session: Session, *, leads: Sequence[Lead], now: datetime, account_ids: Iterable[int]
) -> None:
    # The leads graded before their insert have their ids now. Only the very objects of
    # this change count: fits left by an upsert that failed before this hook (its session
    # rolled back and reused) belong to other leads, whose ids SQLite may hand out again.
    fits: dict[Lead, Fit] = session.info.pop(_NEW_FITS, {})
    changed = set(leads)
    graded = {lead.id: fit for lead, fit in fits.items() if lead.id is not None and lead in changed}
    lead_data_changed(session, leads, now, account_ids=account_ids, graded=graded)


def _evaluate(session: Session, *, lead_ids: Sequence[int], now: datetime) -> None:
    evaluate_readiness(session, lead_ids, now)
