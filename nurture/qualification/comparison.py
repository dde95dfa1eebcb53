"""One field compared with one expectation: the building block of ICP gates and criteria.

Pure. A comparison answers True, False, or None when the field has no value (the fit is
unknown there, which is not the same as "does not fit": it goes to the missing list).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

# Comparisons on numbers, on text, and on presence.
NUMERIC_OPS = ("gte", "gt", "lte", "lt", "between")
TEXT_OPS = ("eq", "ne", "in", "not_in", "matches", "words", "contains")
OPS = (*NUMERIC_OPS, *TEXT_OPS, "exists")

_SYMBOLS = {"gte": "≥", "gt": ">", "lte": "≤", "lt": "<"}
_NUMBER_TEXT = re.compile(r"^[+-]?\d+(\.\d+)?$")


def is_missing(value: Any) -> bool:
    """True for no value at all: None, blank text, an empty list or mapping."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | dict):
        return not value
    return False


def as_number(value: Any) -> float | None:
    """A number from a number or numeric text (``"1,200"``, ``"250"``); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        text = value.strip().replace(",", "").replace("_", "").replace(" ", "")
        if _NUMBER_TEXT.match(text):
            return float(text)
    return None


def _fold(value: Any) -> Any:
    # Text compares case-insensitively and ignoring outer spaces; numbers compare as numbers
    # whether they came as 50 or "50" (CSV attributes are text).
    number = as_number(value)
    if number is not None:
        return number
    if isinstance(value, str):
        return value.strip().casefold()
    return value


def _words(text: str) -> list[str]:
    return re.findall(r"[\w&+]+", text.casefold())


def _has_phrase(text: str, phrase: str) -> bool:
    """``phrase`` (one or more words) occurs in ``text`` as whole words."""
    words, wanted = _words(text), _words(phrase)
    if not wanted:
        return False
    size = len(wanted)
    return any(words[i : i + size] == wanted for i in range(len(words) - size + 1))


def shown(value: Any) -> str:
    """A value as people read it in reasons: text quoted, big numbers grouped."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,g}"
    if isinstance(value, list | tuple):
        return ", ".join(shown(item) for item in value)
    return repr(str(value))


@dataclass(frozen=True)
class Comparison:
    """``op`` with its expected ``value``: a number, a pair (between), a tuple of values
    (in, not_in, matches, words) or True/False (exists)."""

    op: str
    value: Any

    def test(self, actual: Any) -> bool | None:
        """Does ``actual`` satisfy it? None when ``actual`` is missing (except for exists)."""
        if self.op == "exists":
            return (not is_missing(actual)) == bool(self.value)
        if is_missing(actual):
            return None
        if isinstance(actual, list | tuple):
            # A multi-valued attribute (several departments, say) fits when any value does;
            # for the negative comparisons every value must.
            results = [self.test(item) for item in actual if not is_missing(item)]
            if self.op in ("ne", "not_in"):
                return all(r is True for r in results)
            return any(r is True for r in results)
        if self.op in NUMERIC_OPS:
            number = as_number(actual)
            if number is None:
                return None
            if self.op == "between":
                low, high = (float(bound) for bound in self.value)
                return low <= number <= high
            limit = float(self.value)
            return {
                "gte": number >= limit,
                "gt": number > limit,
                "lte": number <= limit,
                "lt": number < limit,
            }[self.op]
        folded = _fold(actual)
        if self.op == "eq":
            return bool(folded == _fold(self.value))
        if self.op == "ne":
            return bool(folded != _fold(self.value))
        if self.op in ("in", "not_in"):
            found = folded in {_fold(item) for item in self.value}
            return found if self.op == "in" else not found
        text = str(actual)
        if self.op == "matches":
            lowered = text.strip().casefold()
            return any(fnmatchcase(lowered, str(p).casefold()) for p in self.value)
        if self.op == "words":
            return any(_has_phrase(text, str(phrase)) for phrase in self.value)
        if self.op == "contains":
            return str(self.value).casefold() in text.casefold()
        raise ValueError(f"unknown comparison {self.op!r}")

    def describe(self) -> str:
        """The expectation for people: ``≥ 50``, ``one of 'DE', 'AT'``."""
        if self.op in _SYMBOLS:
            return f"{_SYMBOLS[self.op]} {shown(self.value)}"
        if self.op == "between":
            return f"between {shown(self.value[0])} and {shown(self.value[1])}"
        if self.op == "eq":
            return f"= {shown(self.value)}"
        if self.op == "ne":
            return f"not {shown(self.value)}"
        if self.op == "in":
            return f"one of {shown(self.value)}"
        if self.op == "not_in":
            return f"none of {shown(self.value)}"
        if self.op == "matches":
            return f"matching {shown(self.value)}"
        if self.op == "words":
            return f"with the word(s) {shown(self.value)}"
        if self.op == "contains":
            return f"containing {shown(self.value)}"
        return "known" if self.value else "unknown"


def field_value(facts: Mapping[str, Any], name: str) -> Any:
    """The value of ``name`` (``title``, ``account.employees``, ``attributes.budget``)."""
    return facts.get(name)
