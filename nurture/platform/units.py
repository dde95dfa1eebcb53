"""Units that settings and marketer files are written in: durations (``3d``), times of day
(``09:30``) and weekdays (``mon-fri``). Pure parsing, shared by the configuration and every
file parser, so ``3d`` means the same everywhere."""

from __future__ import annotations

import re
from datetime import time, timedelta

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_duration(text: str) -> timedelta:
    """Parse ``90s``, ``15m``, ``4h``, ``3d`` or ``2w`` into a timedelta."""
    match = _DURATION_RE.match(str(text))
    if not match:
        raise ValueError(f"bad duration {text!r}: use a number and one of s, m, h, d, w (e.g. 3d)")
    return timedelta(seconds=float(match.group(1)) * _DURATION_UNITS[match.group(2)])


def parse_clock(text: str) -> time:
    """Parse ``HH:MM`` (24-hour clock)."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", str(text))
    if not match or int(match.group(1)) > 24 or int(match.group(2)) > 59:
        raise ValueError(f"bad time of day {text!r}: use HH:MM, e.g. 09:30")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour == 24:
        if minute:
            raise ValueError(f"bad time of day {text!r}: 24:00 is the latest")
        return time.max
    return time(hour, minute)


def parse_weekdays(text: str) -> frozenset[int]:
    """Parse ``mon-fri`` or ``mon,wed,fri`` into weekday numbers (Monday = 0)."""
    days: set[int] = set()
    for part in str(text).lower().replace(" ", "").split(","):
        if "-" in part:
            first, last = part.split("-", 1)
            if first not in _WEEKDAYS or last not in _WEEKDAYS:
                raise ValueError(f"bad weekday range {part!r}: use e.g. mon-fri")
            start, end = _WEEKDAYS.index(first), _WEEKDAYS.index(last)
            span = range(start, end + 1) if start <= end else [*range(start, 7), *range(0, end + 1)]
            days.update(span)
        elif part in _WEEKDAYS:
            days.add(_WEEKDAYS.index(part))
        else:
            raise ValueError(f"bad weekday {part!r}: use mon, tue, wed, thu, fri, sat or sun")
    return frozenset(days)


_SIZE_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(b|kb|k|mb|m|gb|g)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    "b": 1,
    "k": 1024,
    "kb": 1024,
    "m": 1024**2,
    "mb": 1024**2,
    "g": 1024**3,
    "gb": 1024**3,
}


def parse_size(text: str) -> int:
    """Parse ``500000``, ``512KB``, ``50MB`` or ``1GB`` (binary units) into bytes."""
    match = _SIZE_RE.match(str(text))
    if not match:
        raise ValueError(f"bad size {text!r}: use a number of bytes or e.g. 50MB")
    size = int(float(match.group(1)) * _SIZE_UNITS[(match.group(2) or "b").lower()])
    if size < 1:
        raise ValueError("a size must be at least 1 byte")
    return size
