"""A person's handoffs when they are erased: kept for the reports, anonymised.

A handoff is the record of sales' verdict on a lead (offered, accepted, rejected, won or
lost, with the deal value), so the funnel, velocity and the sales feedback loop count it.
Erasure keeps every aggregate of it: dates, status, outcome, deal value and currency, the
reject reason's code, campaign, source, readiness rule and version, fit grade and score,
temperature, owner, the SLA clock. It removes whatever identifies or describes the person:
the notification's snapshot (name, address, company, the story), the rep's words (reject
note, lost reason), the qualification's and the assignment's reasons (conditions met, the
lead's country), the free text of the log's details; and it gives each handoff a new random
token, so the links already sent stop working.

``anonymised_detail`` is the rule for one log entry (pure); ``anonymise_handoffs`` applies
everything to the handoffs of one lead in the caller's transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from nurture.models import Handoff, HandoffAction, HandoffSla

# What an erased handoff's assignment reason says instead of the original (which named
# the lead's country and segment).
ERASED_REASON = "erased"
# Keys of a log entry's detail that hold no text about the person: codes, amounts, flags,
# rule ids, ids of handoffs and the reps' own addresses. Anything else is dropped.
_KEPT_DETAIL = frozenset(
    {
        "rule",
        "method",
        "needs_owner",
        "reassigned_from",
        "handoff",
        "to",
        "as",
        "rep",
        "owner",
        "manager",
        "reassigned_to",
        "label",
        "stage",
        "outcome",
        "value",
        "currency",
        "final",
    }
)
# Only a rejection's ``reason`` is a code from the team file; elsewhere (a reassignment, an
# assignment, a lost deal) it is a sentence someone wrote.
_REASON_IS_A_CODE = frozenset({"rejected"})


def anonymised_detail(action: str, detail: Mapping[str, Any] | None) -> dict[str, Any]:
    """The detail of a handoff log entry ``action`` with only what is not about the person
    (``_KEPT_DETAIL``, and the reason code of a rejection)."""
    kept: dict[str, Any] = {}
    for key, value in (detail or {}).items():
        if key in _KEPT_DETAIL or (key == "reason" and action in _REASON_IS_A_CODE):
            kept[key] = value
    return kept


def anonymise_handoffs(session: Session, lead_id: int) -> int:
    """Anonymise every handoff of the lead ``lead_id`` and its log (see the module); the
    SLA clocks still running stop, as nobody can contact the person any more. Returns how
    many handoffs were kept."""
    handoff_ids = list(session.scalars(select(Handoff.id).where(Handoff.lead_id == lead_id)))
    if not handoff_ids:
        return 0
    session.execute(
        update(Handoff),
        [
            {
                "id": handoff_id,
                "snapshot": {},
                "qualification_reasons": [],
                "assignment_reason": ERASED_REASON,
                "reject_note": None,
                "lost_reason": None,
                "token": secrets.token_urlsafe(16),
            }
            for handoff_id in handoff_ids
        ],
    )
    entries = session.execute(
        select(HandoffAction.id, HandoffAction.action, HandoffAction.detail).where(
            HandoffAction.handoff_id.in_(handoff_ids)
        )
    ).all()
    changed = [
        {"id": entry_id, "detail": anonymised_detail(action, detail)}
        for entry_id, action, detail in entries
        if anonymised_detail(action, detail) != (detail or {})
    ]
    if changed:
        session.execute(update(HandoffAction), changed)
    session.execute(
        update(HandoffSla)
        .where(HandoffSla.handoff_id.in_(handoff_ids), HandoffSla.status == "pending")
        .values(status="void")
    )
    return len(handoff_ids)
