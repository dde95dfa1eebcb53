"""The small field kinds of the sales team file, shared by all of its sections.

Email addresses, ids, optional text, country codes or region names, segment names, and the
``mon-fri 09:00-17:30`` working hours text (which the handoff and its SLA clock also read
from a rep's stored row). :class:`TeamFieldParser` is the base of the team file's grammar;
it brings the team file's synonyms for "did you mean" suggestions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from nurture.files.parser import KEY_RE, Parser
from nurture.files.problems import kind_name
from nurture.files.yaml_lines import line_of
from nurture.handoff.team import WorkingHours
from nurture.platform.units import parse_clock, parse_weekdays

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
_HOURS_RE = re.compile(
    r"^\s*(?P<days>[A-Za-z,\- ]+?)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$"
)
# Words people reach for that mean one of the team file's field names (see Parser.synonyms).
SYNONYMS = {
    "field": "name",
    "title": "name",
    "tz": "timezone",
    "zone": "timezone",
    "stages": "stage",
    "lifecycle": "stage",
}


def parse_working_hours(text: str) -> WorkingHours:
    """``mon-fri 09:00-17:30`` → WorkingHours; raises ValueError with a helpful message."""

    match = _HOURS_RE.match(str(text))
    if not match:
        raise ValueError(
            f"working hours {text!r}: use days and a time range, e.g. mon-fri 09:00-17:30"
        )
    days = parse_weekdays(match.group("days").lower())
    start, end = parse_clock(match.group("start")), parse_clock(match.group("end"))
    if end <= start:
        raise ValueError(f"working hours {text!r}: the end must be after the start")
    return WorkingHours(days=days, start=start, end=end, text=str(text).strip())


class TeamFieldParser(Parser):
    """The generic field checks, with the field kinds every section of a team file uses."""

    synonyms = SYNONYMS

    def optional_text(self, spec: Mapping[Any, Any], key: str, line: int) -> str | None:
        """The text at ``key`` when set (a number is taken as written), else ``None``."""
        if spec.get(key) is None:
            return None
        if isinstance(spec[key], int | float) and not isinstance(spec[key], bool):
            return str(spec[key])  # a phone number written without quotes
        return self.text(spec[key], line_of(spec, key, line), key)

    def email(self, value: Any, line: int, what: str) -> str | None:
        """An email address, lower-cased."""
        text = self.text(value, line, what, max_length=320)
        if text is None:
            return None
        if not _EMAIL_RE.match(text.strip()):
            self.error(line, f"{what} {text!r} is not an email address")
            return None
        return text.strip().lower()

    def key(self, value: Any, line: int, what: str) -> str | None:
        """An id of lower-case letters, digits and dashes."""
        return self.identifier(value, line, what, KEY_RE, "lower-case letters, digits and dashes")

    def countries_or_regions(
        self, value: Any, line: int, what: str, regions: Mapping[str, frozenset[str]]
    ) -> tuple[tuple[str, ...], frozenset[str]] | None:
        """Country codes and region names → (as written, expanded country codes)."""
        items = value if isinstance(value, list) else [value]
        written: list[str] = []
        countries: set[str] = set()
        ok = True
        for index, item in enumerate(items):
            item_line = line_of(value, index, line)
            if not isinstance(item, str) or not item.strip():
                self.error(
                    item_line, f"{what}: a country or region must be text, not {kind_name(item)}"
                )
                ok = False
                continue
            token = item.strip()
            if token.lower() in regions:
                written.append(token.lower())
                countries |= regions[token.lower()]
            elif _COUNTRY_RE.match(token.upper()) and len(token) == 2:
                written.append(token.upper())
                countries.add(token.upper())
            else:
                hint = self.did_you_mean(token, list(regions))
                self.error(
                    item_line,
                    f"{what}: {token!r} is neither a two-letter country code nor a region "
                    f"defined under regions{hint}",
                )
                ok = False
        return (tuple(written), frozenset(countries)) if ok else None

    def segment_names(
        self, value: Any, line: int, what: str, known: set[str]
    ) -> frozenset[str] | None:
        """A segment name or list of them, each one defined under ``segments``."""
        items = value if isinstance(value, list) else [value]
        found: set[str] = set()
        ok = True
        for index, item in enumerate(items):
            item_line = line_of(value, index, line)
            if not isinstance(item, str) or item.strip().lower() not in known:
                hint = self.did_you_mean(item, sorted(known)) if isinstance(item, str) else ""
                defined = ", ".join(sorted(known)) or "none"
                self.error(item_line, f"{what}: unknown segment {item!r}{hint}; defined: {defined}")
                ok = False
                continue
            found.add(item.strip().lower())
        return frozenset(found) if ok else None
