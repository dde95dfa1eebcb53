"""Choosing the readiness rule for a target, and the figures of a choice (pure).

The proposed readiness rule is "engagement score ≥ S and fit grade G or better" on the
proposed points: the two conditions a readiness file can say. The choice is made on the
training leads and reported on the held-out ones, among every (G, S) the training leads'
scores allow, for one of three targets:

- ``precision=P`` (``precision=0.8`` or ``precision=80%``): of the rules whose precision is
  at least P, the one that catches the most converters (when none reaches P, the most
  precise one, and the report says the target was not met);
- ``top=K%`` (``top=20%`` or ``top=0.2``): of the rules handing over at most K % of the
  leads, the one that catches the most converters;
- ``balanced`` (the default): the best balance of precision and recall (their harmonic
  mean, F1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from nurture.backtest.report import Rates
from nurture.qualification.icp import GRADES

# A rule must hand over at least this many training leads to be chosen for its precision
# (three handovers that all converted are luck, not 100 % precision).
MIN_HANDED = 10

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int_]


class TargetError(ValueError):
    """A ``--target`` that is not one of the forms above."""


@dataclass(frozen=True)
class Target:
    """What the readiness rule is chosen for."""

    kind: str  # "precision", "top" or "balanced"
    value: float | None = None

    def __str__(self) -> str:
        if self.kind == "precision" and self.value is not None:
            return f"precision ≥ {self.value:.0%}"
        if self.kind == "top" and self.value is not None:
            return f"top {self.value:.0%} of leads"
        return "balanced precision and recall (F1)"


def parse_target(text: str) -> Target:
    """``precision=0.8``, ``precision=80%``, ``top=20%``, ``top=0.2`` or ``balanced``."""
    cleaned = text.strip().lower().replace(" ", "")
    if cleaned in ("balanced", "f1"):
        return Target("balanced")
    kind, _, raw = cleaned.partition("=")
    if kind not in ("precision", "top") or not raw:
        raise TargetError(f"--target {text!r}: use precision=0.8, top=20% or balanced")
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise TargetError(f"--target {text!r}: {raw!r} is not a number or a percentage") from None
    if not 0 < value < 1:
        raise TargetError(f"--target {text!r}: give a share between 0 and 1 (or 0 % and 100 %)")
    return Target(kind, value)


@dataclass(frozen=True)
class Figures(Rates):
    """How a selection of leads did: handed over, and of those converted."""

    leads: int
    converters: int
    handed_over: int
    caught: int

    @property
    def share(self) -> float | None:
        return self.handed_over / self.leads if self.leads else None

    def as_dict(self) -> dict[str, Any]:
        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 4)

        return {
            "leads": self.leads,
            "converters": self.converters,
            "handed_over": self.handed_over,
            "handed_over_converted": self.caught,
            "precision": rounded(self.precision),
            "recall": rounded(self.recall),
            "base_rate": rounded(self.base_rate),
            "lift": rounded(self.lift),
            "share_handed_over": rounded(self.share),
        }


def figures(selected: npt.NDArray[np.bool_], converted: Ints) -> Figures:
    """The figures of handing over the ``selected`` leads."""
    return Figures(
        leads=len(converted),
        converters=int(converted.sum()),
        handed_over=int(selected.sum()),
        caught=int(converted[selected].sum()),
    )


@dataclass(frozen=True)
class Choice:
    """The chosen rule, its figures on the leads it was chosen on, and whether the target
    was met there."""

    min_score: int | None
    min_grade: str | None
    chosen_on: Figures
    met: bool

    def selects(self, scores: Floats, grades: Ints) -> npt.NDArray[np.bool_]:
        """Which leads the rule hands over."""
        chosen = np.ones(len(scores), dtype=bool)
        if self.min_score is not None:
            chosen &= scores >= self.min_score
        if self.min_grade is not None:
            chosen &= grades <= GRADES.index(self.min_grade)
        return chosen


@dataclass(frozen=True)
class _Candidate:
    min_score: int | None
    min_grade: str | None
    handed: int
    caught: int


def _candidates(scores: Floats, grades: Ints, converted: Ints) -> list[_Candidate]:
    """Every (grade, whole-number score bar) the leads' scores allow, with its counts."""
    found: list[_Candidate] = []
    for index, grade in enumerate(GRADES):
        mask = grades <= index
        grade_name = None if grade == "D" else grade
        s, y = scores[mask], converted[mask]
        if not len(s):
            continue
        if grade_name is not None:
            found.append(_Candidate(None, grade_name, len(s), int(y.sum())))
        order = np.argsort(s, kind="stable")
        s, y = s[order], y[order]
        # Converters at or above each position, from the lowest score up.
        above = np.cumsum(y[::-1])[::-1]
        top = int(np.ceil(s[-1]))
        bars = np.arange(1, max(top, 0) + 1)
        starts = np.searchsorted(s, bars, side="left")
        for bar, start in zip(bars, starts, strict=True):
            if start < len(s):
                found.append(
                    _Candidate(int(bar), grade_name, len(s) - int(start), int(above[start]))
                )
    return found


def choose_rule(scores: Floats, grades: Ints, converted: Ints, target: Target) -> Choice:
    """The readiness rule for ``target`` on these leads (see the module's docstring)."""
    total = int(converted.sum())
    leads = len(converted)
    candidates = [c for c in _candidates(scores, grades, converted) if c.handed]
    if not candidates:
        raise ValueError(
            "no lead scores a point or grades above D with these files: there is no score "
            "or grade to draw a readiness line at"
        )
    met = True

    def precision(c: _Candidate) -> float:
        return c.caught / c.handed

    if target.kind == "precision" and target.value is not None:
        steady = [c for c in candidates if c.handed >= MIN_HANDED] or candidates
        good = [c for c in steady if precision(c) >= target.value]
        if good:
            best = max(good, key=lambda c: (c.caught, precision(c), -c.handed))
        else:
            met = False
            best = max(steady, key=lambda c: (precision(c), c.caught))
    elif target.kind == "top" and target.value is not None:
        allowed = [c for c in candidates if c.handed <= target.value * leads]
        if not allowed:
            met, allowed = False, [min(candidates, key=lambda c: c.handed)]
        best = max(allowed, key=lambda c: (c.caught, -c.handed))
    else:
        best = max(candidates, key=lambda c: 2 * c.caught / (c.handed + total) if total else 0.0)
    # The candidate's counts are the chosen rule's figures on these leads.
    chosen_on = Figures(leads, total, best.handed, best.caught)
    return Choice(best.min_score, best.min_grade, chosen_on, met)
