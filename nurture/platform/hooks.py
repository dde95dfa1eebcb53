"""Named events: how a lower feature tells the features above it that something happened.

A feature never imports one above it (the contracts in ``pyproject.toml`` forbid it). When
leads, consent, tracking, scoring or the handoff must set off work that belongs higher up,
they publish one of these signals (blinker, which Flask already depends on); the higher
feature subscribes in its ``subscribe()`` function, and ``nurture.wiring.connect`` calls
every one of those once per process, from every entry point (the CLI, the web app, the
worker, the demo and the tests), so nothing depends on import order.

Every signal is sent through :func:`publish`, with the caller's ``Session`` as sender and
keyword arguments, inside the caller's transaction: what a subscriber writes commits or rolls
back with the change that caused it. Each event has one receiver per feature that reacts to
it; where the order of two reactions matters (the SLA clock before the webhooks of a handoff
action), one receiver does both, in that order (blinker keeps receivers in a set).

A process that runs use cases without ``connect`` would silently skip enrolment, rescoring
and handoffs; :func:`publish` refuses instead, so a new entry point that forgets it fails at
its first event.
"""

from __future__ import annotations

from typing import Any

from blinker import NamedSignal, Namespace
from sqlalchemy.orm import Session

_signals = Namespace()
_connected = False


class NotWired(RuntimeError):
    """An event was sent in a process whose subscriptions were never connected."""


def mark_connected() -> None:
    """Called by ``nurture.wiring.connect`` once every feature has subscribed."""
    global _connected  # one flag per process, like the signals themselves
    _connected = True


def publish(signal: NamedSignal, session: Session, **kwargs: Any) -> None:
    """Send ``signal`` to its receivers, in the caller's transaction."""
    if not _connected:
        raise NotWired(
            f"event {signal.name!r} sent before nurture.wiring.connect(): every entry point "
            "must connect the features' subscriptions first"
        )
    signal.send(session, **kwargs)


leads_created = _signals.signal(
    "leads-created",
    doc="New leads exist (import, API, form), sent once per set. Kwargs: ``leads``, "
    "``now``. Campaigns enrol them where creation is the trigger, one decision per "
    "campaign for the whole set.",
)

leads_creating = _signals.signal(
    "leads-creating",
    doc="New leads are about to be inserted (an upsert: import, API, form). Kwargs: "
    "``leads`` (pairs of a lead, transient, every column's value set but no id yet, and "
    "the account it joins, flushed, or None), ``now``. Qualification grades them, so "
    "their fit is written with the row; ``leads_data_changed`` follows once they exist.",
)

lead_changed = _signals.signal(
    "lead-changed",
    doc="Something campaign rules read changed for a lead (stage, consent, suppression, "
    "temperature). Kwargs: ``lead``, ``now``. Campaigns make its enrolments due now.",
)

leads_changed = _signals.signal(
    "leads-changed",
    doc="Existing leads changed in a way that may let them into campaigns they could not "
    "enter before: their data or consent (an upsert: import, API, form), a lifted "
    "suppression. Kwargs: ``leads``, ``now``, ``changed`` (lead id -> the names of the "
    "fields and ``attributes.KEY`` that changed; empty when only consent was lifted). "
    "Campaigns re-evaluate entry — a lead whose entry was refused then (not mailable, "
    "outside the audience) is enrolled once it qualifies, never twice — and fire their "
    "``attribute_changed`` triggers.",
)

stage_changed = _signals.signal(
    "stage-changed",
    doc="A lead entered a new lifecycle stage. Kwargs: ``lead``, ``now``. Campaigns "
    "triggered by that stage enrol it.",
)

stage_recorded = _signals.signal(
    "stage-recorded",
    doc="A stage change was recorded (a ``stage_changes`` row, flushed). Kwargs: "
    "``change``, ``now``. Analytics keeps its roll-up of each lead's first time in each "
    "funnel stage.",
)

leads_data_changed = _signals.signal(
    "leads-data-changed",
    doc="Leads were created or their data changed. Kwargs: ``leads``, ``now``, "
    "``account_ids`` (accounts whose data changed). Qualification regrades their fit and "
    "hands those now ready to sales.",
)

leads_rescored = _signals.signal(
    "leads-rescored",
    doc="Scoring recomputed leads after new events. Kwargs: ``lead_ids``, ``now``. "
    "Qualification evaluates readiness and hands the ready ones to sales.",
)

timelines_changed = _signals.signal(
    "timelines-changed",
    doc="New human events landed on leads' timelines (tracking, merged visitors). Kwargs: "
    "``lead_ids``, ``now``. Scoring rescores them.",
)

handoff_action = _signals.signal(
    "handoff-action",
    doc="An entry was written to a handoff's log (created, accepted, rejected, converted, "
    "reassigned, …). Kwargs: ``handoff``, ``action``, ``now``, ``detail``. The SLA clock "
    "and the outgoing webhooks follow it.",
)
