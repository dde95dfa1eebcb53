"""A backtest's figures from the replays of a history (pure).

Which leads count: those created in the window (``--from``, ``--to``); the rule may hand
them over until the window's end, and their outcome is the one the history records. A
lead handed over *converted* when its outcome is a conversion (replays stop at the
conversion, so every such conversion came after the handover).

- precision: the share of the leads handed over that converted;
- recall: the share of all converters the rule handed over;
- base rate: the share of all leads that converted; lift: precision ÷ base rate;
- days to conversion: from the handover to the conversion, for the converters caught;
- missed converters: each with the first condition it did not meet, per readiness rule.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nurture.backtest.history import HistoryLead
from nurture.backtest.replay import Model, Replay, replay

# How a readiness condition's "not met" text begins, and the condition it is about
# (the texts are ``nurture.qualification.readiness``'s).
_CONDITION_OF = (
    ("has not raised a hand", "hand_raised"),
    ("latest hand-raise", "hand_raised"),
    ("not graded yet", "min_grade"),
    ("fit grade", "min_grade"),
    ("engagement is not", "temperature"),
    ("engagement score", "min_score"),
    ("no account", "account"),
)


def condition_of(text: str) -> str:
    """The readiness condition a "not met" text is about (``account`` for the rest: the
    account condition's texts begin with the account's name)."""
    return next((name for start, name in _CONDITION_OF if text.startswith(start)), "account")


@dataclass(frozen=True)
class Window:
    """Leads created in [start, end); None is open."""

    start: datetime | None = None
    end: datetime | None = None

    def holds(self, lead: HistoryLead) -> bool:
        """True when ``lead`` was created in the window."""
        if self.start is not None and lead.created_at < self.start:
            return False
        return self.end is None or lead.created_at < self.end


@dataclass(frozen=True)
class Month:
    """Handovers in one calendar month (UTC) and how many of them converted."""

    month: str
    handed_over: int
    converted: int


@dataclass(frozen=True)
class Missed:
    """A converter the rule did not hand over, and why (per rule, the first unmet
    condition at the last moment the rule was asked before the conversion)."""

    key: str
    converted_at: datetime | None
    deal_value: float | None
    unmet: tuple[tuple[str, str], ...]

    @property
    def why(self) -> str:
        return "; ".join(f"{rule}: {text}" for rule, text in self.unmet) or "never asked"


class Rates:
    """Precision, recall, base rate and lift of a selection of leads, from its counts (a
    backtest's, or a calibrated rule's on the held-out leads)."""

    leads: int
    converters: int
    handed_over: int
    caught: int

    @property
    def precision(self) -> float | None:
        return self.caught / self.handed_over if self.handed_over else None

    @property
    def recall(self) -> float | None:
        return self.caught / self.converters if self.converters else None

    @property
    def base_rate(self) -> float | None:
        return self.converters / self.leads if self.leads else None

    @property
    def lift(self) -> float | None:
        precision, base = self.precision, self.base_rate
        return precision / base if precision is not None and base else None


@dataclass(frozen=True)
class Backtest(Rates):
    """What one readiness model would have done with a history."""

    name: str
    leads: int
    converters: int
    handed_over: int
    caught: int
    months: tuple[Month, ...]
    days_to_conversion: tuple[float, ...]
    missed: tuple[Missed, ...]
    by_rule: tuple[tuple[str, int], ...]
    caught_value: float
    missed_value: float

    @property
    def median_days(self) -> float | None:
        return statistics.median(self.days_to_conversion) if self.days_to_conversion else None

    def missed_conditions(self) -> list[tuple[str, int]]:
        """How many missed converters failed each condition kind (in any rule), most first."""
        counts: Counter[str] = Counter()
        for missed in self.missed:
            counts.update({condition_of(text) for _, text in missed.unmet})
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    def as_dict(self, *, missed: int = 50) -> dict[str, Any]:
        """Plain data for JSON: the figures, the months, and up to ``missed`` missed."""
        return {
            "name": self.name,
            "leads": self.leads,
            "converters": self.converters,
            "handed_over": self.handed_over,
            "handed_over_converted": self.caught,
            "precision": _round(self.precision),
            "recall": _round(self.recall),
            "base_rate": _round(self.base_rate),
            "lift": _round(self.lift),
            "median_days_to_conversion": _round(self.median_days),
            "deal_value_caught": round(self.caught_value, 2),
            "deal_value_missed": round(self.missed_value, 2),
            "by_rule": dict(self.by_rule),
            "months": [
                {"month": m.month, "handed_over": m.handed_over, "converted": m.converted}
                for m in self.months
            ],
            "missed_converters": len(self.missed),
            "missed_conditions": dict(self.missed_conditions()),
            "missed": [
                {
                    "key": m.key,
                    "converted_at": m.converted_at.isoformat() if m.converted_at else None,
                    "deal_value": m.deal_value,
                    "unmet": dict(m.unmet),
                }
                for m in self.missed[:missed]
            ],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def backtest(
    model: Model, leads: Iterable[HistoryLead], window: Window = Window(), name: str = ""
) -> Backtest:
    """Replay every lead of ``leads`` created in ``window`` through ``model`` and count."""
    return summarise(
        (replay(model, lead, until=window.end) for lead in leads if window.holds(lead)),
        name or model.readiness.name,
    )


def summarise(replays: Iterable[Replay], name: str) -> Backtest:
    """The figures of a set of replays."""
    leads = converters = handed = caught = 0
    caught_value = missed_value = 0.0
    months: dict[str, list[int]] = {}
    days: list[float] = []
    missed: list[Missed] = []
    rules: Counter[str] = Counter()
    for result in replays:
        leads += 1
        outcome = result.lead.outcome
        converters += outcome.converted
        at = result.handed_over_at
        if at is not None:
            handed += 1
            rules[result.rule or ""] += 1
            month = months.setdefault(f"{at:%Y-%m}", [0, 0])
            month[0] += 1
            if outcome.converted:
                caught += 1
                month[1] += 1
                caught_value += outcome.deal_value or 0.0
                if outcome.converted_at is not None:
                    days.append((outcome.converted_at - at).total_seconds() / 86400)
        elif outcome.converted:
            missed_value += outcome.deal_value or 0.0
            missed.append(
                Missed(
                    result.lead.key,
                    outcome.converted_at,
                    outcome.deal_value,
                    tuple(result.unmet.items()),
                )
            )
    missed.sort(key=lambda m: (-(m.deal_value or 0.0), m.key))
    return Backtest(
        name=name,
        leads=leads,
        converters=converters,
        handed_over=handed,
        caught=caught,
        months=tuple(Month(month, n, c) for month, (n, c) in sorted(months.items())),
        days_to_conversion=tuple(days),
        missed=tuple(missed),
        by_rule=tuple(sorted(rules.items(), key=lambda item: (-item[1], item[0]))),
        caught_value=caught_value,
        missed_value=missed_value,
    )
