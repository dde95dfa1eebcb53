"""The weekly digest's rules (pure): which week it reports, when it is due, and which of its
figures changed enough to be pointed out.

A digest reports the last complete week, Monday 00:00 to Monday 00:00 (UTC), against the
week before it, with the funnel's period-view figures (docs/analytics.md). It leaves from
``SEND_HOUR`` on Monday; a worker that was down sends it when it comes back, and a person
gets at most one digest per week.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

# The digest leaves on Monday from this hour (UTC): the week is over, the day has begun.
SEND_HOUR = 7
# The figures of the digest, in the order it lists them.
HEADLINE_COUNTS: tuple[str, ...] = ("leads", "mql", "sal", "sql", "won", "lost")
HEADLINE_RATES: tuple[str, ...] = ("lead_to_mql", "mql_to_sal", "win_rate")
# A count is pointed out when it moved by at least this many leads and this share of what
# it was; a rate when it moved by at least this many points. Small numbers swing by chance.
NOTABLE_COUNT = 3
NOTABLE_SHARE = 0.2
NOTABLE_POINTS = 0.05


def reported_week(now: datetime, send_hour: int = SEND_HOUR) -> tuple[date, date]:
    """The week the digest due at ``now`` reports: ``(monday, next monday)``.

    From Monday ``send_hour`` on it is the week that just ended; before that hour on a
    Monday it is still the week before (last Monday's digest, if it has not gone yet).
    """
    today = now.astimezone(UTC).date()
    monday = today - timedelta(days=today.weekday())
    due_from = datetime.combine(monday, time(send_hour), tzinfo=UTC)
    end = monday if now >= due_from else monday - timedelta(days=7)
    return end - timedelta(days=7), end


@dataclass(frozen=True)
class Change:
    """One figure of the week against the week before. ``rate`` figures are fractions."""

    name: str
    current: float | None
    previous: float | None
    rate: bool = False

    @property
    def delta(self) -> float | None:
        """How much it moved (None when either week has no value)."""
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous

    @property
    def relative(self) -> float | None:
        """The move as a share of the week before (None from nothing)."""
        if self.delta is None or not self.previous:
            return None
        return self.delta / self.previous

    @property
    def notable(self) -> bool:
        """Whether the move is large enough to point out (``NOTABLE_*``)."""
        delta = self.delta
        if delta is None:
            return False
        if self.rate:
            return abs(delta) >= NOTABLE_POINTS - 1e-9
        if abs(delta) < NOTABLE_COUNT:
            return False
        relative = self.relative
        return relative is None or abs(relative) >= NOTABLE_SHARE


def changes(
    current_counts: Mapping[str, int],
    current_rates: Mapping[str, float | None],
    previous_counts: Mapping[str, int],
    previous_rates: Mapping[str, float | None],
) -> list[Change]:
    """The digest's figures, this week against the last: the counts, then the rates."""
    found = [
        Change(name, float(current_counts[name]), float(previous_counts[name]))
        for name in HEADLINE_COUNTS
    ]
    found += [
        Change(name, current_rates.get(name), previous_rates.get(name), rate=True)
        for name in HEADLINE_RATES
    ]
    return found


def notable(found: list[Change]) -> list[Change]:
    """The changes worth pointing out (``Change.notable``), in the digest's order."""
    return [change for change in found if change.notable]
