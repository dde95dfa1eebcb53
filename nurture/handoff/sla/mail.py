"""What the SLA emails' templates see: the handoff's stored notification content, with an
``sla`` part describing the deadline and what the escalation did (``context: handoff-sla``
in their meta.yaml)."""

from __future__ import annotations

from collections.abc import Sequence
from copy import deepcopy
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from nurture.handoff.links import HandoffLinks
from nurture.models import Handoff, HandoffSla, SalesRep

# Message kinds of the SLA emails and their templates (nurture.handoff.mail queues them).
KINDS = {"sla_reminder": "sla-reminder", "sla_escalation": "sla-escalation"}


def sla_view(row: HandoffSla, owner: SalesRep | None, new_owner: SalesRep | None) -> dict[str, Any]:
    """The ``handoff.sla`` variable of the SLA emails."""
    escalation = row.escalation or {}
    return {
        "deadline": f"{row.due_at:%a %d %b, %H:%M} UTC",
        "due_at": row.due_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "policy": row.policy,
        "status": row.status,
        "owner": owner.name if owner else None,
        "owner_email": owner.email if owner else None,
        "reassigned_to": new_owner.name if new_owner else None,
        "reassigned_to_email": new_owner.email if new_owner else None,
        "reassign_problem": escalation.get("reassign_problem"),
        "hours": f"{row.working_hours} ({row.timezone})",
    }


def sla_extras(
    session: Session, message_ids: Sequence[int], links: HandoffLinks, expires: Any
) -> dict[int, dict[str, Any]]:
    """Template context of SLA messages among ``message_ids``, by message id.

    ``expires(handoff)`` gives when a handoff's links stop working."""
    if not message_ids:
        return {}
    rows = session.scalars(
        select(HandoffSla).where(
            or_(
                HandoffSla.reminder_message_id.in_(message_ids),
                HandoffSla.escalation_message_id.in_(message_ids),
            )
        )
    ).all()
    extras: dict[int, dict[str, Any]] = {}
    for row in rows:
        handoff = session.get(Handoff, row.handoff_id)
        if handoff is None:
            continue
        owner = session.get(SalesRep, handoff.rep_id) if handoff.rep_id else None
        new_email = (row.escalation or {}).get("reassigned_to")
        new_owner = (
            session.scalar(select(SalesRep).where(SalesRep.email == new_email))
            if new_email
            else None
        )
        snapshot = deepcopy(handoff.snapshot or {})
        base = {
            **snapshot,
            "id": handoff.id,
            "to_manager": handoff.rep_id is None,
            "links": links.urls(handoff.token, handoff.rep_id, expires(handoff)),
            "expires": expires(handoff).strftime("%Y-%m-%d"),
            "sla": sla_view(row, owner, new_owner),
        }
        for message_id in (row.reminder_message_id, row.escalation_message_id):
            if message_id in message_ids:
                extras[message_id] = {"handoff": base}
    return extras


def sample_sla_handoff(*, sparse: bool) -> dict[str, Any]:
    """Samples for template validation: a handoff with its SLA part (an escalation that
    reassigned the lead, and one where nobody else was available)."""
    from nurture.handoff.samples import sample_handoff

    handoff = sample_handoff(sparse=sparse)
    handoff["sla"] = {
        "deadline": "Tue 01 Dec, 11:05 UTC",
        "due_at": "2026-12-01T11:05:00Z",
        "policy": "1 business hour",
        "status": "breached" if not sparse else "pending",
        "owner": None if sparse else "Maria Lopez",
        "owner_email": None if sparse else "maria.lopez@brightpath.example",
        "reassigned_to": None if sparse else "James Carter",
        "reassigned_to_email": None if sparse else "james.carter@brightpath.example",
        "reassign_problem": "nobody else is available" if sparse else None,
        "hours": "mon-fri 08:30-17:00 (America/Los_Angeles)",
    }
    return handoff
