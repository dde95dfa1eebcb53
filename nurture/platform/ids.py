"""Row ids and counts as clients write them: ASCII digits within the database's range.

Every table's primary key is a signed 64-bit integer (PostgreSQL ``bigint``, SQLite
``INTEGER``): a number outside it is not "not found" to the database but an overflow
error. Text from a URL or a query string is checked here before it reaches a query.
"""

from __future__ import annotations

# The largest value a signed 64-bit column holds.
MAX_ID = 2**63 - 1


def parse_id(text: str | None) -> int | None:
    """The id ``text`` spells (ASCII digits, 1 to MAX_ID), or None when it spells none.

    ``str.isdigit`` alone is not enough: it accepts "²" and "١", which ``int`` refuses or
    reads as digits a client did not mean.
    """
    value = parse_count(text)
    return value if value else None


def parse_count(text: str | None) -> int | None:
    """A whole number from 0 to MAX_ID written in ASCII digits, or None."""
    if text is None:
        return None
    text = text.strip()
    if not text or not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if value <= MAX_ID else None
