"""Helpers for the backtest's tests: a small history with a known answer, and a readiness
rule that hands over more of it than the bundled file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nurture.backtest import History, HistoryLead, Outcome, write_history
from nurture.backtest.runs import history_path
from nurture.platform.config import Settings
from nurture.scoring import EventFacts

JAN = datetime(2026, 1, 5, 9, tzinfo=UTC)
# One more rule than the bundled readiness file: engaged leads, whatever their fit.
WARM_RULE = """  - id: any-warm
    description: warm or hot, whatever the fit
    temperature: [warm, hot]
"""


def lead(key: str, day: int, *, demo: bool, converted: bool) -> HistoryLead:
    """A past lead with no fit facts (grade D), a demo request two days after it came when
    ``demo``, converted a month after it came when ``converted``."""
    created = JAN + timedelta(days=day)
    events = (EventFacts(1, "demo.requested", created + timedelta(days=2), {}),) if demo else ()
    outcome = Outcome(True, created + timedelta(days=30), 1000.0) if converted else Outcome(False)
    return HistoryLead(key, created, {}, outcome, events)


LEADS = (
    lead("a", 0, demo=True, converted=True),
    lead("b", 1, demo=True, converted=True),
    lead("c", 2, demo=True, converted=False),
    lead("d", 3, demo=True, converted=False),
    lead("e", 40, demo=False, converted=True),
    lead("f", 41, demo=False, converted=False),
)


def with_history(settings: Settings, leads: tuple[HistoryLead, ...] = LEADS) -> None:
    write_history(history_path(settings.instance_path), History(leads, "test.csv", JAN))
