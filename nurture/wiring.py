"""Start-up wiring: every feature subscribes to the named events of the features below it.

``connect`` is called once per process by every entry point — the ``nurture`` command, the
web app factory, the worker and its sending processes, the hit processor, the demo and the
test suite — so a rescored lead reaches readiness and the handoff the same way everywhere,
whatever was imported first. Calling it again changes nothing.

No event has receivers in two of these features today; where two reactions to one event
must run in order, one receiver does both (``nurture.handoff.events``).
"""

from __future__ import annotations

from nurture.analytics import subscriptions as analytics
from nurture.campaigns import triggers
from nurture.handoff import subscriptions as handoff
from nurture.platform import hooks
from nurture.qualification import subscriptions as qualification
from nurture.scoring import subscriptions as scoring


def connect() -> None:
    """Subscribe every feature to the events it reacts to (idempotent)."""
    triggers.subscribe()
    scoring.subscribe()
    qualification.subscribe()
    handoff.subscribe()
    analytics.subscribe()
    hooks.mark_connected()
