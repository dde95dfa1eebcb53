"""Exponential decay of behavioural scores (pure).

A score is stored as (value, as_of) and decayed when read: ``value · 2^(−Δt/half_life)``.
No nightly job rewrites every lead.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

DEFAULT_HALF_LIFE = timedelta(days=30)


def decayed(
    value: float, as_of: datetime | None, now: datetime, half_life: timedelta = DEFAULT_HALF_LIFE
) -> float:
    """The value of a score recorded ``as_of`` when read at ``now``."""
    if as_of is None or value == 0:
        return value
    elapsed = (now - as_of).total_seconds()
    if elapsed <= 0:
        return value
    return value * math.pow(2.0, -elapsed / half_life.total_seconds())
