"""The funnel's definitions (pure): its stages, which stages one recorded stage change
enters, the conversion rates, and the rows the funnel and cohort views return.

docs/analytics.md states each rule with a worked example; ``nurture.analytics.funnel``
turns the same table (``FUNNEL_STAGES``) into SQL, so the query and these rules cannot
disagree on what a stage is.

A lead *reaches* a funnel stage when a stage change takes it there, or past it: the moves
the lifecycle allows skip stages only through an import (the CRM saying "this lead is an
SQL") or a subscriber that qualifies at once, and such a lead did pass the stages it skipped.
A move back (an import setting an earlier stage) or a return from a side exit (``recycled``
→ ``mql``) enters only the stage it goes to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# The stages of the funnel, in order; ``customer`` is reported as "won". The stages before
# (``subscriber``, ``lead``) and the side exits (``recycled``, ``disqualified``) rank 0.
FUNNEL_STAGES: tuple[str, ...] = ("mql", "sal", "sql", "opportunity", "customer")
RANK: Mapping[str, int] = {stage: index for index, stage in enumerate(FUNNEL_STAGES, 1)}
# The names of the report's counts: new leads, each funnel stage (won for customer), lost.
STAGE_LABELS: Mapping[str, str] = {**{s: s for s in FUNNEL_STAGES}, "customer": "won"}
COUNTS: tuple[str, ...] = ("leads", *(STAGE_LABELS[s] for s in FUNNEL_STAGES), "lost")
# Each rate: (name, numerator, denominator), consecutive steps of the funnel.
RATES: tuple[tuple[str, str, str], ...] = (
    ("lead_to_mql", "mql", "leads"),
    ("mql_to_sal", "sal", "mql"),
    ("sal_to_sql", "sql", "sal"),
    ("sql_to_opportunity", "opportunity", "sql"),
    ("opportunity_to_won", "won", "opportunity"),
    ("win_rate", "won", "closed"),
)
# The cohort view's windows: reached within this many days of the lead's creation.
WINDOWS: tuple[int, ...] = (30, 60, 90)


def rank(stage: str | None) -> int:
    """The stage's place in the funnel (1 for ``mql`` … 5 for ``customer``), else 0."""
    return RANK.get(stage or "", 0)


def entered_stages(from_stage: str | None, to_stage: str) -> tuple[str, ...]:
    """The funnel stages one change from ``from_stage`` to ``to_stage`` enters, in order:
    every stage ranked above the one it leaves, up to the one it goes to; and always the one
    it goes to, when that is a funnel stage (a move back, a return from ``recycled``)."""
    low, high = rank(from_stage), rank(to_stage)
    return tuple(stage for stage in FUNNEL_STAGES if low < RANK[stage] <= high or stage == to_stage)


def rate(numerator: int, denominator: int) -> float | None:
    """``numerator / denominator``, or None when nothing was there to convert."""
    return numerator / denominator if denominator else None


def rates(counts: Mapping[str, int]) -> dict[str, float | None]:
    """The conversion rates of one row of counts (``COUNTS`` names). The win rate is won
    over closed deals (won + lost)."""
    values = {**counts, "closed": counts.get("won", 0) + counts.get("lost", 0)}
    return {name: rate(values.get(top, 0), values.get(bottom, 0)) for name, top, bottom in RATES}


@dataclass(frozen=True)
class FunnelRow:
    """One group of the period view: how many distinct leads were created, entered each
    stage and lost a deal in the period (``counts``, keyed by ``COUNTS``)."""

    group: str | None
    counts: Mapping[str, int]

    @property
    def rates(self) -> dict[str, float | None]:
        """The row's conversion rates (``RATES``)."""
        return rates(self.counts)

    def as_dict(self) -> dict[str, object]:
        """The row as plain values."""
        return {"group": self.group, **dict(self.counts), "rates": self.rates}


@dataclass(frozen=True)
class Reach:
    """How many of a cohort reached a stage: by now, and within each of ``WINDOWS`` days
    of their creation."""

    by_now: int = 0
    within: Mapping[int, int] = field(default_factory=lambda: dict.fromkeys(WINDOWS, 0))

    def as_dict(self) -> dict[str, int]:
        """``by_now`` and ``within_<days>d`` for each window."""
        return {"by_now": self.by_now, **{f"within_{d}d": self.within.get(d, 0) for d in WINDOWS}}


@dataclass(frozen=True)
class CohortRow:
    """The leads created in one month (and group): how many, and how many reached each
    stage (``reached``, keyed by ``COUNTS`` without ``leads``)."""

    month: str
    group: str | None
    created: int
    reached: Mapping[str, Reach]

    def share(self, stage: str) -> float | None:
        """The part of the cohort that has reached ``stage`` by now."""
        return rate(self.reached[stage].by_now, self.created)

    def as_dict(self) -> dict[str, object]:
        """The row as plain values."""
        return {
            "month": self.month,
            "group": self.group,
            "created": self.created,
            "reached": {stage: reach.as_dict() for stage, reach in self.reached.items()},
        }
