"""The generic field readers every kind of marketer-edited file is parsed with.

A file kind's parser (campaigns, the scoring model, the sales team, the ICP and readiness files)
subclasses :class:`Parser` and walks its data, line-annotated by ``nurture.files.yaml_lines``
or plain JSON from a stored version, field by field. The readers here check what every kind
shares (a mapping, known and required fields, text, ids, numbers, durations, clock times,
names from a list, weekdays), record each problem with its line instead of stopping at the
first, and return ``None`` for a value that is not valid.

The words a file may use belong to its own parser: the field lists are passed to the readers,
and the synonyms that make "did you mean" suggestions are the subclass's ``synonyms``.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time, timedelta
from types import MappingProxyType
from typing import Any, ClassVar

from nurture.files.problems import Problem, kind_name
from nurture.files.yaml_lines import line_of, own_line
from nurture.platform.event_types import ANY_CUSTOM, CUSTOM_PREFIX, EventCatalogue
from nurture.platform.units import parse_clock, parse_duration, parse_weekdays

# The id form most files use for themselves and their parts: lower-case letters, digits, dashes.
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# The longest id and name a file may use: the sizes of the columns they are stored in.
MAX_KEY = 100
MAX_NAME = 200

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_WEEKDAYS = {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}

NO_SYNONYMS: Mapping[str, str] = MappingProxyType({})


def suggest(
    name: Any, valid: Iterable[str], synonyms: Mapping[str, str] = NO_SYNONYMS
) -> str | None:
    """The valid name closest to ``name`` (one of its ``synonyms`` or a likely typo), if any."""
    options = list(valid)
    text = str(name)
    synonym = synonyms.get(text.lower())
    if synonym in options:
        return synonym
    lowered = {option.lower(): option for option in options}
    if text.lower() in lowered:
        return lowered[text.lower()]
    close = difflib.get_close_matches(text.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None


def human_list(names: Iterable[str]) -> str:
    """``a, b or c``: a list of options as a sentence reads it."""
    items = list(names)
    return ", ".join(items[:-1]) + f" or {items[-1]}" if len(items) > 1 else "".join(items)


def weekday_token(token: str) -> str:
    """A weekday as written (``Monday``, ``mon``) as its three-letter name."""
    token = token.strip().lower()
    return _FULL_WEEKDAYS.get(token, token)


@dataclass
class Parser:
    """Turns plain or line-annotated YAML data into values, collecting problems."""

    path: str
    problems: list[Problem] = field(default_factory=list)
    # The event types the file may name (``nurture.files.event_catalogue`` reads a team's
    # own); by default every built-in type and any custom.NAME.
    catalogue: EventCatalogue = ANY_CUSTOM

    # Words people reach for that mean one of the file's field names. difflib only catches
    # typos ("wiat"), not synonyms ("delay"), so each file kind lists its common ones.
    synonyms: ClassVar[Mapping[str, str]] = NO_SYNONYMS

    def error(self, line: int, message: str) -> None:
        """Record a problem at ``line`` of this file."""
        self.problems.append(Problem(self.path, line, message))

    def did_you_mean(
        self, name: Any, valid: Iterable[str], synonyms: Mapping[str, str] | None = None
    ) -> str:
        """`` (did you mean 'x'?)`` for the valid name closest to ``name``, or nothing.

        ``synonyms`` replaces the parser's own for names that belong to another grammar.
        """
        guess = suggest(name, valid, self.synonyms if synonyms is None else synonyms)
        return f" (did you mean {guess!r}?)" if guess else ""

    def known_event_type(self, name: str, line: int) -> bool:
        """True for a type in the event catalogue; otherwise a problem naming the closest one.

        A misspelt type is not a syntax error, yet a rule naming it would never match (a goal
        that never fires), so every kind of file refuses it here.
        """
        if self.catalogue.knows(name):
            return True
        guess = suggest(name, self.catalogue.names())
        hint = f" (did you mean {guess!r}?)" if guess else ""
        if self.catalogue.strict and name.startswith(CUSTOM_PREFIX):
            advice = f"declare it in {self.catalogue.source} (docs/events.md)"
        else:
            advice = f"use a recorded type (docs/events.md) or {CUSTOM_PREFIX}NAME for your own"
        self.error(line, f"unknown event type {name!r}{hint}: {advice}")
        return False

    def known_property(self, event_type: str, name: str, line: int) -> bool:
        """Whether an event of ``event_type`` can carry property ``name``: always, unless its
        declaration lists the only properties it carries; otherwise a problem."""
        allowed = self.catalogue.closed_properties(event_type)
        if allowed is None or name in allowed:
            return True
        listed = ", ".join(allowed) or "none"
        self.error(
            line,
            f"{event_type} events have no property {name!r}{self.did_you_mean(name, allowed)} "
            f"(declared in {self.catalogue.source}: {listed})",
        )
        return False

    # -------------------------------------------------------- generic field checks

    def mapping(self, value: Any, line: int, what: str) -> Mapping[Any, Any] | None:
        """``value`` when it is a mapping; otherwise a problem and ``None``."""
        if isinstance(value, Mapping):
            return value
        self.error(own_line(value, line), f"{what} must be a mapping, not {kind_name(value)}")
        return None

    def fields(self, mapping: Mapping[Any, Any], allowed: Sequence[str], line: int) -> None:
        """Report every key of ``mapping`` that is not in ``allowed``."""
        for key in mapping:
            if key not in allowed:
                self.error(
                    line_of(mapping, key, line),
                    f"unknown field {key!r}{self.did_you_mean(key, allowed)}",
                )

    def required(self, mapping: Mapping[Any, Any], key: str, line: int, what: str) -> bool:
        """Whether ``key`` is set in ``mapping``; a problem naming ``what`` when it is not."""
        if key in mapping and mapping[key] is not None:
            return True
        self.error(
            line_of(mapping, key, own_line(mapping, line)), f"missing field {key!r} in {what}"
        )
        return False

    def name_and_description(
        self,
        data: Mapping[Any, Any],
        line: int,
        owner: str,
        *,
        description_length: int | None = None,
    ) -> tuple[str | None, str]:
        """The file's ``name`` (required, at most ``MAX_NAME`` characters) and its
        ``description`` (empty when unset); every kind of file starts with both."""
        name = None
        if self.required(data, "name", line, owner):
            name = self.text(data["name"], line_of(data, "name", line), "name", max_length=MAX_NAME)
        description = ""
        if data.get("description") is not None:
            description = (
                self.text(
                    data["description"],
                    line_of(data, "description", line),
                    "description",
                    max_length=description_length,
                )
                or ""
            )
        return name, description

    def text(
        self, value: Any, line: int, what: str, *, max_length: int | None = None
    ) -> str | None:
        """Non-blank text of at most ``max_length`` characters."""
        if not isinstance(value, str) or not value.strip():
            shown = "empty" if isinstance(value, str) else kind_name(value)
            self.error(line, f"{what} must be text, not {shown}")
            return None
        if max_length is not None and len(value) > max_length:
            self.error(line, f"{what} is too long ({len(value)} characters; at most {max_length})")
            return None
        return value

    def identifier(
        self, value: Any, line: int, what: str, pattern: re.Pattern[str], rule: str
    ) -> str | None:
        """An id matching ``pattern`` (``rule`` says in words what it allows)."""
        # Numbers are accepted as ids (`id: 1` reads naturally) but stored as text.
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        name = self.text(value, line, what, max_length=MAX_KEY)
        if name is None:
            return None
        if not pattern.match(name):
            self.error(line, f"{what} {name!r} may only use {rule}")
            return None
        return name

    def boolean(self, value: Any, line: int, what: str) -> bool | None:
        """``true`` or ``false``."""
        if isinstance(value, bool):
            return value
        self.error(line, f"{what} must be true or false, not {value!r}")
        return None

    def number(self, value: Any, line: int, what: str) -> float | None:
        """A finite number (true/false is not one)."""
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return value
        self.error(line, f"{what} must be a number, not {kind_name(value)} {value!r}")
        return None

    def duration(self, value: Any, line: int, what: str) -> timedelta | None:
        """A duration longer than zero, such as ``3d``, ``12h`` or ``2w``."""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.error(line, f"{what}: bad duration {value!r}: use e.g. 3d, 12h or 2w")
            return None
        try:
            parsed = parse_duration(str(value))
        except ValueError as exc:
            self.error(line, f"{what}: {exc}")
            return None
        if parsed <= timedelta(0):
            self.error(line, f"{what} must be longer than zero")
            return None
        return parsed

    def clock(self, value: Any, line: int, what: str) -> time | None:
        """A time of day such as ``09:30``."""
        try:
            return parse_clock(str(value))
        except ValueError as exc:
            self.error(line, f"{what}: {exc}")
            return None

    def names(
        self, value: Any, line: int, what: str, valid: Sequence[str], noun: str
    ) -> frozenset[str] | None:
        """A name or list of names, each one of ``valid``; ``noun`` names one in messages."""
        items = value if isinstance(value, list) else [value]
        if not items:
            self.error(line, f"{what} needs at least one {noun}")
            return None
        found: set[str] = set()
        ok = True
        for index, item in enumerate(items):
            item_line = line_of(value, index, line)
            if not isinstance(item, str):
                self.error(item_line, f"{what}: a {noun} must be text, not {kind_name(item)}")
                ok = False
            elif item.lower() not in valid:
                self.error(
                    item_line,
                    f"unknown {noun} {item!r}{self.did_you_mean(item, valid)}: "
                    f"use {human_list(valid)}",
                )
                ok = False
            else:
                found.add(item.lower())
        return frozenset(found) if ok else None

    def weekdays(self, value: Any, line: int, what: str) -> frozenset[int] | None:
        """``mon-fri``, ``mon,wed,fri`` or a list of such; full day names are accepted."""
        parts = value if isinstance(value, list) else [value]
        days: set[int] = set()
        ok = bool(parts)
        if not parts:
            self.error(line, f"{what} needs at least one day")
        for index, part in enumerate(parts):
            part_line = line_of(value, index, line)
            if not isinstance(part, str) or not part.strip():
                self.error(part_line, f"{what}: a day must be text like mon or mon-fri")
                ok = False
                continue
            tokens = [weekday_token(token) for token in re.split(r"[,-]", part)]
            bad = [token for token in tokens if token not in WEEKDAY_NAMES]
            for token in bad:
                self.error(
                    part_line,
                    f"unknown weekday {token!r}{self.did_you_mean(token, WEEKDAY_NAMES)}: "
                    f"use {human_list(WEEKDAY_NAMES)}",
                )
            if bad:
                ok = False
                continue
            normal = re.sub(
                r"[A-Za-z]+", lambda match: weekday_token(match.group(0)), part.replace(" ", "")
            )
            try:
                days |= parse_weekdays(normal)
            except ValueError as exc:
                self.error(part_line, f"{what}: {exc}")
                ok = False
        return frozenset(days) if ok else None
