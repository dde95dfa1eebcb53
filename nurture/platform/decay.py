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


def score_rank(value: float, as_of: datetime | None, half_life: timedelta) -> float:
    """A number that orders scores by their decayed value at any one moment.

    ``value · 2^(−(now − as_of)/h)`` compares between two scores the same way at every
    ``now`` (both decay by the same factor), so its logarithm without the ``now`` term,
    ``log2(value) + as_of/h``, is a fixed sort key that can be stored and indexed: the lead
    list sorts a million leads by their score *now* without computing one of them. Negative
    scores mirror it below zero, and zero sits between. Scores kept with different
    half-lives are ordered by this key as if they shared ``half_life``.
    """
    if value == 0 or as_of is None:
        return 0.0
    key = math.log2(abs(value)) + as_of.timestamp() / half_life.total_seconds()
    # Keep every non-zero score on its own side of zero (a vanishing score's log is very
    # negative; its order among its side still holds).
    key = max(key, 1e-9)
    return key if value > 0 else -key
