"""A lead's score as a running state that the next events are added to (pure).

A score is the sum of each award decayed from its event to now. Because decay is
exponential, that sum can be kept as one running value: at each award, decay the value
from the previous award to this one and add the points. Caps only ever look back at
the counters of the current UTC day and the rule's total, because events are taken
oldest first. So everything a new, newer event needs is a handful of numbers:
:class:`ScoreState`.

``fold`` is the one way a score is computed: a full recomputation folds every event
into the empty state, an incremental one folds the new events into the stored state.
Both run the same floating-point operations in the same order, so they agree exactly,
not just within a tolerance (``tests/unit/scoring/test_score_state.py`` checks it over
random histories and rule files).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from nurture.platform.decay import decayed
from nurture.scoring.model import EventFacts, Rule, ScoringModel


@dataclass(frozen=True)
class ScoreState:
    """Where a lead's score stands after the events folded into it.

    ``value`` is the score at ``value_at`` (the last event that earned or cost points);
    ``last_at``/``last_id`` the newest event folded in (by ``(occurred_at, id)``, every
    scored-type human event, matched by a rule or not); ``max_id`` the highest id folded
    in, ``events`` and ``id_sum`` how many and the sum of their ids (what a rescore
    compares with the database to notice events added before the newest, moved in or
    reclassified). ``day_used`` holds each capped rule's points on ``day``,
    ``total_used`` in total, in absolute value.
    """

    value: float = 0.0
    value_at: datetime | None = None
    last_at: datetime | None = None
    last_id: int | None = None
    max_id: int | None = None
    events: int = 0
    id_sum: int = 0
    day: date | None = None
    day_used: Mapping[str, float] = field(default_factory=dict)
    total_used: Mapping[str, float] = field(default_factory=dict)

    def score(self, now: datetime, half_life: timedelta) -> float:
        """The score at ``now``."""
        return decayed(self.value, self.value_at, now, half_life)

    def precedes(self, event: EventFacts) -> bool:
        """True when ``event`` comes after every event folded in (so it may be added)."""
        if self.last_at is None or self.last_id is None:
            return True
        return (event.occurred_at, event.id) > (self.last_at, self.last_id)


EMPTY = ScoreState()


@dataclass(frozen=True)
class Award:
    """What one event earned: ``points`` when it happened (after caps; ``capped`` were cut
    off), and ``now`` what that is worth after decay."""

    event: EventFacts
    rule: Rule
    points: float
    capped: float
    now: float


def sort_key(event: EventFacts) -> tuple[datetime, int]:
    """The order events are scored in: when they happened, then as recorded."""
    return (event.occurred_at, event.id)


def fold(
    model: ScoringModel, state: ScoreState, events: Iterable[EventFacts], now: datetime
) -> tuple[ScoreState, list[Award]]:
    """Add ``events`` (oldest first, every one after ``state``'s newest) to ``state``.

    Returns the new state and the award of each event a rule matched. Raises ValueError
    when an event is not newer than the state: such a history has to be folded again from
    the empty state (a full recomputation).
    """
    value, value_at = state.value, state.value_at
    last_at, last_id = state.last_at, state.last_id
    max_id, count, id_sum = state.max_id, state.events, state.id_sum
    day = state.day
    day_used = dict(state.day_used)
    total_used = dict(state.total_used)
    half_life = model.half_life
    awards: list[Award] = []
    for event in events:
        if not state.precedes(event):
            raise ValueError(f"event {event.id} is not newer than the score's state")
        last_at, last_id = event.occurred_at, event.id
        max_id = event.id if max_id is None else max(max_id, event.id)
        count += 1
        id_sum += event.id
        rule = model.rule_for(event)
        if rule is None:
            continue
        event_day = event.occurred_at.date()
        if event_day != day:
            day, day_used = event_day, {}
        wanted = abs(rule.points)
        allowed = wanted
        cap = rule.cap
        if cap.per_day is not None:
            allowed = min(allowed, max(0.0, cap.per_day - day_used.get(rule.id, 0.0)))
        if cap.total is not None:
            allowed = min(allowed, max(0.0, cap.total - total_used.get(rule.id, 0.0)))
        # Only capped rules' counters are ever read again, so only theirs are kept.
        if cap.per_day is not None:
            day_used[rule.id] = day_used.get(rule.id, 0.0) + allowed
        if cap.total is not None:
            total_used[rule.id] = total_used.get(rule.id, 0.0) + allowed
        points = math.copysign(allowed, rule.points) if allowed else 0.0
        if points:
            value = decayed(value, value_at, event.occurred_at, half_life) + points
            value_at = event.occurred_at
        awards.append(
            Award(
                event=event,
                rule=rule,
                points=points,
                capped=wanted - allowed,
                now=decayed(points, event.occurred_at, now, half_life),
            )
        )
    folded = ScoreState(
        value=value,
        value_at=value_at,
        last_at=last_at,
        last_id=last_id,
        max_id=max_id,
        events=count,
        id_sum=id_sum,
        day=day,
        day_used=day_used,
        total_used=total_used,
    )
    return folded, awards
