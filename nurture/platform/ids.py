"""Row ids and counts as clients write them: ASCII digits within the database's range.

Primary keys are ``INTEGER`` columns: 32 bits on PostgreSQL (64 on SQLite), and a number
outside them is not "not found" to PostgreSQL but an overflow error. Text from a URL or a
query string is checked here before it reaches a query.
"""

from __future__ import annotations

# The largest id a PostgreSQL INTEGER primary key holds.
MAX_ID = 2**31 - 1
# The largest count (offset, limit) a query takes: PostgreSQL's OFFSET is a bigint.
MAX_COUNT = 2**63 - 1


def parse_id(text: str | None) -> int | None:
    """The id ``text`` spells (ASCII digits, 1 to MAX_ID), or None when no row can have it.

    ``str.isdigit`` alone is not enough: it accepts "²" and "١", which ``int`` refuses or
    reads as digits a client did not mean.
    """
    value = parse_count(text)
    return value if value and value <= MAX_ID else None


def parse_count(text: str | None) -> int | None:
    """A whole number from 0 to MAX_COUNT written in ASCII digits, or None."""
    if text is None:
        return None
    text = text.strip()
    if not text or not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if value <= MAX_COUNT else None
