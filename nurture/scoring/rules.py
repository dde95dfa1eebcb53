"""Scoring a lead's events, explaining the score, and when its temperature cools (pure).

Everything here takes plain values and ``now`` and returns values: no session, no clock.

How a score is made: the lead's human events, oldest first, are each scored by the first
matching rule. Caps are applied in that order (the earliest events earn the points, later
ones are "capped"), per UTC day and in total per rule. Each award then decays on its own,
``points · 2^(−(now − occurred_at)/half_life)``, and the score is their sum. Because
exponential decay is memoryless, the sum can be stored as (value, now) and decayed later
with the same formula (``nurture.platform.decay.decayed``) without looking at the events
again, and newer events can be added to it (``nurture.scoring.state``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from nurture.platform.decay import decayed
from nurture.scoring.model import EventFacts, Rule, ScoringModel
from nurture.scoring.state import EMPTY, Award, ScoreState, fold, sort_key

__all__ = [
    "Award",
    "Evaluation",
    "Explanation",
    "RuleContribution",
    "advance",
    "cools_at",
    "evaluate",
    "explain",
    "score_history",
]

# A temperature is re-checked a second after the computed crossing, so floating-point
# rounding cannot leave it a hair above the threshold at the check.
_CROSSING_MARGIN = timedelta(seconds=1)


@dataclass(frozen=True)
class Evaluation:
    """Every scored event of a lead at ``now``, the score they add up to, and the state
    the next, newer events can be added to (``nurture.scoring.state``)."""

    now: datetime
    awards: tuple[Award, ...]
    state: ScoreState
    score: float

    @property
    def hand_raises(self) -> tuple[Award, ...]:
        """Awards of events scored by a hand-raiser rule, oldest first."""
        return tuple(award for award in self.awards if award.rule.hand_raiser)


def evaluate(model: ScoringModel, events: Iterable[EventFacts], now: datetime) -> Evaluation:
    """Score ``events`` (human events of one lead, any order) under ``model`` at ``now``."""
    return advance(model, EMPTY, sorted(events, key=sort_key), now)


def advance(
    model: ScoringModel, state: ScoreState, events: Iterable[EventFacts], now: datetime
) -> Evaluation:
    """Add ``events`` (oldest first, all newer than ``state``) to a lead's score ``state``
    and read it at ``now``. ``awards`` are those of the added events only."""
    folded, awards = fold(model, state, events, now)
    return Evaluation(
        now=now, awards=tuple(awards), state=folded, score=folded.score(now, model.half_life)
    )


# ---------------------------------------------------------------- explanation


@dataclass(frozen=True)
class RuleContribution:
    """What one rule adds to a score now, and the events behind it (newest first)."""

    rule: Rule
    events: int
    awarded: float
    capped: float
    now: float
    awards: tuple[Award, ...]


@dataclass(frozen=True)
class Explanation:
    """A lead's score, broken down by rule: the rule totals add up to ``score``."""

    score: float
    temperature: str
    now: datetime
    half_life: timedelta
    rules: tuple[RuleContribution, ...]

    def as_dict(self, *, events: int = 10) -> dict[str, Any]:
        """Plain data for JSON: each rule with up to ``events`` of its newest events."""
        return {
            "score": round(self.score, 2),
            "temperature": self.temperature,
            "as_of": _iso(self.now),
            "half_life_days": self.half_life.total_seconds() / 86400,
            "rules": [
                {
                    "rule": part.rule.id,
                    "description": part.rule.description,
                    "event_type": part.rule.event,
                    "points_each": part.rule.points,
                    "hand_raiser": part.rule.hand_raiser,
                    "events": part.events,
                    "awarded": round(part.awarded, 2),
                    "capped": round(part.capped, 2),
                    "points_now": round(part.now, 2),
                    "recent": [
                        {
                            "event_id": award.event.id,
                            "occurred_at": _iso(award.event.occurred_at),
                            "awarded": round(award.points, 2),
                            "points_now": round(award.now, 2),
                            **({"url": award.event.properties["url"]} if _url(award) else {}),
                        }
                        for award in part.awards[:events]
                    ],
                }
                for part in self.rules
            ],
        }


def explain(model: ScoringModel, events: Iterable[EventFacts], now: datetime) -> Explanation:
    """Which events, grouped by rule, contribute how many points at ``now`` (after caps and
    decay). Rules are ordered by the size of their contribution, largest first."""
    evaluation = evaluate(model, events, now)
    grouped: dict[str, list[Award]] = defaultdict(list)
    for award in evaluation.awards:
        grouped[award.rule.id].append(award)
    parts = [
        RuleContribution(
            rule=awards[0].rule,
            events=len(awards),
            awarded=math.fsum(a.points for a in awards),
            capped=math.fsum(a.capped for a in awards),
            now=math.fsum(a.now for a in awards),
            awards=tuple(reversed(awards)),
        )
        for awards in grouped.values()
    ]
    parts.sort(key=lambda part: (-abs(part.now), part.rule.line, part.rule.id))
    score = evaluation.score
    return Explanation(
        score=score,
        temperature=model.bands.temperature(score),
        now=now,
        half_life=model.half_life,
        rules=tuple(parts),
    )


def _url(award: Award) -> bool:
    return isinstance((award.event.properties or {}).get("url"), str)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def score_history(explanation: Explanation, moments: Iterable[datetime]) -> list[float]:
    """The score at each of ``moments`` (none after ``explanation.now``), from the awards
    behind ``explanation``: the events that had happened by then, each decayed to then.

    Exact, because caps are taken in the order events happened (an event's award never
    depends on a later one) and decay depends only on the time since each event. Awards of
    no points (capped) add nothing at any moment and are left out: a busy lead's events
    are mostly those.
    """
    awards = [
        (award.points, award.event.occurred_at)
        for part in explanation.rules
        for award in part.awards
        if award.points
    ]
    return [
        math.fsum(
            decayed(points, occurred_at, moment, explanation.half_life)
            for points, occurred_at in awards
            if occurred_at <= moment
        )
        for moment in moments
    ]


# ---------------------------------------------------------------- cooling


def cools_at(
    model: ScoringModel, value: float, as_of: datetime, temperature: str
) -> datetime | None:
    """When a score of ``value`` at ``as_of`` decays below the floor of ``temperature``.

    None when the band has no floor (cold) or the score is not above it. This is the only
    moment a lead's temperature changes without a new event, so the worker re-checks
    exactly those leads then, instead of rewriting every lead on a schedule.
    """
    floor = model.bands.floor(temperature)
    if floor is None or floor <= 0 or value < floor:
        return None
    half_lives = math.log2(value / floor)
    return as_of + model.half_life * half_lives + _CROSSING_MARGIN
