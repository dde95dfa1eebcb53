"""The velocity report's definitions (pure): percentiles, a lead's stays in its stages,
the first touch, the first sales action of a chain of handoffs, and the figures of a row.

docs/analytics.md ("Velocity") states each rule with a worked example;
``nurture.analytics.velocity`` reads the history these functions are given, and ``stays``
is the definition the stays stored on each stage change (``stay_columns``) are tested
against.

- **Percentiles** interpolate linearly between the two nearest ranks (the method of
  PostgreSQL's ``percentile_cont`` and numpy's default): of the sorted values
  ``x[0] … x[n-1]``, the *q*-th percentile is ``x[i] + f · (x[i+1] − x[i])`` where
  ``i + f = q · (n − 1)``. The median of 1, 2, 4, 10 is 3. No values, no percentile (None,
  never 0).
- **A stay** in a stage runs from the stage change that enters it to the lead's next stage
  change, whatever that is (forward, back, to ``recycled``). A lead recycled and qualified
  again has two stays in ``mql``. A stage skipped (an import from ``lead`` to ``sql``) or
  passed in the same instant (a rep converting an offered handoff to ``won`` passes ``sal``,
  ``sql`` and ``opportunity`` at once) has no stay: nobody waited there, and a zero would
  pull the median down for a step that never took time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

# The stages whose stays are reported, in funnel order: ``customer`` is where a lead ends,
# and the stages before the funnel and the side exits are marketing's own affairs.
STAY_STAGES: tuple[str, ...] = ("mql", "sal", "sql", "opportunity")
# The report's measures, in order: time in each stage, then the two spans.
MEASURES: tuple[str, ...] = (*STAY_STAGES, "sales_cycle", "mql_to_first_action")
# The percentiles of each measure, by name.
PERCENTILES: tuple[tuple[str, float], ...] = (("median", 0.5), ("p75", 0.75), ("p90", 0.9))
# A sales rep's first action on a handoff (``handoff_actions.action``): a reassignment is
# the team's doing, not an answer to the lead.
RESPONSES: tuple[str, ...] = ("accepted", "rejected", "converted")

SECONDS_PER_DAY = 86_400


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0 ≤ q ≤ 1) of ``values`` by linear interpolation between
    the nearest ranks; None for no values."""
    if not 0 <= q <= 1:
        raise ValueError(f"a percentile is between 0 and 1, not {q}")
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def days(seconds: float | None) -> float | None:
    """Seconds as days, to two decimals (a quarter of an hour); None stays None."""
    return None if seconds is None else round(seconds / SECONDS_PER_DAY, 2)


@dataclass(frozen=True)
class Spread:
    """How long one measure took: how many spans, and their median, p75 and p90 in days
    (None when there were none). ``waiting`` counts what has not ended yet, where the
    measure has such a thing (handoffs no rep has answered), else None."""

    count: int
    median: float | None
    p75: float | None
    p90: float | None
    waiting: int | None = None

    def as_dict(self) -> dict[str, float | int | None]:
        """The figures as plain values (days)."""
        found: dict[str, float | int | None] = {
            "count": self.count,
            "median_days": self.median,
            "p75_days": self.p75,
            "p90_days": self.p90,
        }
        if self.waiting is not None:
            found["waiting"] = self.waiting
        return found


def spread(seconds: Iterable[float], *, waiting: int | None = None) -> Spread:
    """The ``Spread`` of spans given in seconds (each percentile of the exact spans, then
    rounded to days)."""
    values = list(seconds)
    found = {name: days(percentile(values, q)) for name, q in PERCENTILES}
    return Spread(len(values), found["median"], found["p75"], found["p90"], waiting)


class Change(NamedTuple):
    """One recorded stage change of a lead (a tuple: a report makes one per change)."""

    from_stage: str | None
    to_stage: str
    at: datetime


class Stay(NamedTuple):
    """A lead's time in one stage: entered, and left (None while it is still there)."""

    stage: str
    entered_at: datetime
    left_at: datetime | None

    @property
    def seconds(self) -> float | None:
        """How long the stay lasted; None while it lasts."""
        return None if self.left_at is None else (self.left_at - self.entered_at).total_seconds()


def stays(changes: Iterable[Change]) -> list[Stay]:
    """A lead's stays, from its stage changes in the order they were made (oldest first).
    Stays of no length (a stage passed in the same instant) are left out."""
    found: list[Stay] = []
    current: Change | None = None
    for change in changes:
        if current is not None and change.at > current.at:
            found.append(Stay(current.to_stage, current.at, change.at))
        current = change
    if current is not None:
        found.append(Stay(current.to_stage, current.at, None))
    return found


def first_touch(created_at: datetime, first_event_at: datetime | None) -> datetime:
    """When a lead first came into view: its first human event or its creation, whichever
    came first (a visitor's pages are merged into the lead when it gives its address, so
    they can precede it)."""
    if first_event_at is None:
        return created_at
    return min(created_at, first_event_at)


def first_actions(
    offers: Mapping[int, datetime],
    successor: Mapping[int, int],
    responses: Mapping[int, datetime],
) -> dict[int, datetime | None]:
    """The first sales action on each offer (a handoff that is not a reassignment: the
    lead's MQL), following its reassignments: ``successor`` maps a handoff to the one that
    replaced it, ``responses`` a handoff to its first accept, reject or convert. None where
    no rep has acted yet."""
    found: dict[int, datetime | None] = {}
    for offer in offers:
        seen: set[int] = set()
        handoff: int | None = offer
        answers: list[datetime] = []
        while handoff is not None and handoff not in seen:
            seen.add(handoff)
            if handoff in responses:
                answers.append(responses[handoff])
            handoff = successor.get(handoff)
        found[offer] = min(answers) if answers else None
    return found
