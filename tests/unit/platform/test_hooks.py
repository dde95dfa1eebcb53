"""Named events refuse to go out in a process whose subscriptions were never connected, so
an entry point that forgets ``nurture.wiring.connect()`` fails at once instead of silently
skipping enrolment, rescoring and handoffs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from blinker import Namespace

from nurture.platform import hooks


def test_an_event_before_the_wiring_is_refused_with_the_fix_in_the_message(monkeypatch):
    monkeypatch.setattr(hooks, "_connected", False)
    with pytest.raises(hooks.NotWired, match=r"nurture\.wiring\.connect\(\)"):
        hooks.publish(hooks.lead_changed, None, lead=None, now=datetime.now(UTC))  # type: ignore[arg-type]


def test_after_the_wiring_an_event_reaches_its_receivers(monkeypatch):
    monkeypatch.setattr(hooks, "_connected", False)
    seen = []

    def receiver(session, **kwargs):
        seen.append((session, kwargs))

    probe = Namespace().signal("probe")
    probe.connect(receiver)
    hooks.mark_connected()
    hooks.publish(probe, "session", lead_ids=[7], now="now")  # type: ignore[arg-type]
    assert seen == [("session", {"lead_ids": [7], "now": "now"})]
