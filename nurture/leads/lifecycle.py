"""Lifecycle stages: the allowed moves of a lead, and the use case that makes one.

A lead moves forward through ``subscriber → lead → mql → sal → sql → opportunity →
customer``; ``recycled`` (sales gave it back to marketing) and ``disqualified`` (not a buyer,
ever) are the side exits. The stage names are ``nurture.leads.stages.LIFECYCLE_STAGES``, which
campaign files, the API and this module share, so they can never disagree on them.

``TRANSITIONS`` is the whole rule book, a plain table (docs/qualification.md prints it):

==============  ====================================================================
from            allowed to
==============  ====================================================================
subscriber      lead, mql, disqualified
lead            mql, disqualified
mql             sal, recycled, disqualified
sal             sql, recycled, disqualified
sql             opportunity, recycled, disqualified
opportunity     customer, recycled, disqualified
customer        disqualified
recycled        mql, lead, disqualified
disqualified    lead
==============  ====================================================================

Why these: marketing owns a lead until it is an MQL; only sales' verdicts move it further
(accept → sal, convert → sql → opportunity → customer), one step at a time, so the funnel
report counts every stage a deal went through. Any sales stage can hand the lead back
(recycled), and anything can be disqualified. A subscriber may qualify directly (a newsletter
reader who asks for a demo is an MQL at once). ``customer`` is reached only from
``opportunity``. A disqualified lead can only be reopened as a plain ``lead`` (say, the data
that disqualified it was wrong), and must then qualify again.

An import (CSV, API upsert with an explicit ``stage``) is the system of record speaking —
typically the CRM — so ``change_stage(..., override=True)`` may set any stage; the change is
still recorded, with actor ``import``.

``check_transition`` and ``time_in_stage`` are pure. ``change_stage`` and ``stage_history``
work in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.leads.stages import LIFECYCLE_STAGES, SALES_STAGES
from nurture.models import Event, Lead, StageChange
from nurture.platform import hooks

STAGES: tuple[str, ...] = LIFECYCLE_STAGES
# Stages at which the lead belongs to sales; nurture campaigns exit there.
SALES_OWNED: frozenset[str] = SALES_STAGES
# Marketing-owned stages from which a lead can qualify (become an MQL).
QUALIFIABLE: frozenset[str] = frozenset({"subscriber", "lead", "recycled"})

TRANSITIONS: Mapping[str, frozenset[str]] = {
    "subscriber": frozenset({"lead", "mql", "disqualified"}),
    "lead": frozenset({"mql", "disqualified"}),
    "mql": frozenset({"sal", "recycled", "disqualified"}),
    "sal": frozenset({"sql", "recycled", "disqualified"}),
    "sql": frozenset({"opportunity", "recycled", "disqualified"}),
    "opportunity": frozenset({"customer", "recycled", "disqualified"}),
    "customer": frozenset({"disqualified"}),
    "recycled": frozenset({"mql", "lead", "disqualified"}),
    "disqualified": frozenset({"lead"}),
}
assert set(TRANSITIONS) == set(STAGES), "every stage needs a row in TRANSITIONS"

# Actor of a stage change made by an explicit stage in an import or API upsert.
IMPORT_ACTOR = "import"
SYSTEM_ACTOR = "system"


class StageError(ValueError):
    """A stage change that the rules refuse; nothing was changed."""

    def __init__(self, message: str, *, lead_id: int | None, from_stage: str, to_stage: str):
        super().__init__(message)
        self.lead_id = lead_id
        self.from_stage = from_stage
        self.to_stage = to_stage


def allowed_next(stage: str) -> frozenset[str]:
    """The stages a lead at ``stage`` may move to (empty for an unknown stage)."""
    return TRANSITIONS.get(stage, frozenset())


def check_transition(from_stage: str, to_stage: str, *, override: bool = False) -> str | None:
    """Why moving from ``from_stage`` to ``to_stage`` is refused, or None when it is allowed.

    With ``override`` (an import) any known stage other than the current one is allowed.
    """
    if to_stage not in TRANSITIONS:
        return f"unknown stage {to_stage!r}; stages are: {', '.join(STAGES)}"
    if from_stage == to_stage:
        return f"the lead is already at stage {to_stage!r}"
    if override:
        return None
    allowed = allowed_next(from_stage)
    if to_stage not in allowed:
        choices = ", ".join(s for s in STAGES if s in allowed) or "none"
        return (
            f"a lead cannot move from {from_stage!r} to {to_stage!r} "
            f"(allowed from {from_stage!r}: {choices})"
        )
    return None


def time_in_stage(lead: Lead, now: datetime) -> timedelta:
    """How long the lead has been at its current stage at ``now`` (never negative)."""
    since = lead.stage_changed_at or lead.created_at or now
    return max(now - since, timedelta(0))


def validate_actor(actor: str) -> str:
    """``actor`` if it is one of the documented forms, else a ValueError."""
    if actor in (IMPORT_ACTOR, SYSTEM_ACTOR):
        return actor
    kind, _, name = actor.partition(":")
    if kind in ("rule", "user") and name.strip():
        return actor
    raise ValueError(
        f"actor must be 'rule:<name>', 'user:<email>', 'import' or 'system', not {actor!r}"
    )


def change_stage(
    session: Session,
    lead: Lead,
    to_stage: str,
    *,
    reason: str,
    actor: str,
    now: datetime,
    rule: str | None = None,
    override: bool = False,
) -> StageChange:
    """Move ``lead`` to ``to_stage`` in the caller's transaction, or raise ``StageError``.

    A refused change (disallowed by ``TRANSITIONS``, unknown stage, same stage) raises before
    anything is touched. An allowed one updates ``lead.stage``/``stage_changed_at``, records
    a ``StageChange`` row and a ``stage.changed`` event on the timeline, then reacts at once:
    ``stage_recorded`` lets the reports' roll-ups follow the change;
    ``nurture.campaigns.enrolment.lead_changed`` makes the lead's enrolments due now (a
    campaign whose exit rules name the new stage ends at the next tick; tracks keyed on stage
    switch), and
    campaigns triggered by ``stage_changed`` (the recycle track) enrol the lead.

    ``actor`` is ``rule:<name>``, ``user:<email>``, ``import`` or ``system``; ``override``
    (imports only) allows any stage.
    """
    validate_actor(actor)
    from_stage = lead.stage
    refusal = check_transition(from_stage, to_stage, override=override)
    if refusal is not None:
        raise StageError(refusal, lead_id=lead.id, from_stage=from_stage, to_stage=to_stage)
    reason = (reason or "").strip()[:500] or "no reason given"

    lead.stage = to_stage
    lead.stage_changed_at = now
    change = StageChange(
        lead_id=lead.id,
        from_stage=from_stage,
        to_stage=to_stage,
        at=now,
        reason=reason,
        actor=actor,
        rule=rule,
    )
    session.add(change)
    session.add(
        Event(
            lead_id=lead.id,
            type="stage.changed",
            occurred_at=now,
            recorded_at=now,
            is_machine=False,
            machine_reasons=[],
            properties={
                "from": from_stage,
                "to": to_stage,
                "reason": reason,
                "actor": actor,
                **({"rule": rule} if rule else {}),
            },
        )
    )
    session.flush()

    hooks.publish(hooks.stage_recorded, session, change=change, now=now)
    hooks.publish(hooks.lead_changed, session, lead=lead, now=now)
    hooks.publish(hooks.stage_changed, session, lead=lead, now=now)
    return change


def stage_history(session: Session, lead_id: int) -> list[StageChange]:
    """Every recorded stage change of a lead, oldest first."""
    return list(
        session.scalars(
            select(StageChange)
            .where(StageChange.lead_id == lead_id)
            .order_by(StageChange.at, StageChange.id)
        )
    )
