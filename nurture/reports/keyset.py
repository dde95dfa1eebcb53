"""Keyset pages: a list ordered by ``(key, id)`` continues after the last row shown, with
``WHERE (key, id) < (:key, :id)`` on an index over both columns, so page 1,000 costs what
page 1 costs (an OFFSET would read and drop every row before it).

The row-value comparison is one range on the composite index in PostgreSQL and SQLite
alike; it also says "after this row" in one expression, where ``key < :key OR (key = :key
AND id < :id)`` repeats the key and is easy to get subtly wrong.

Cursors travel in URLs as text: ``<ISO 8601 moment>,<id>`` for a time-ordered list, a bare
id for a list ordered by id. Anything else in the parameter (a hand-edited link, a probe)
reads as no cursor: the list starts again at its first page."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, tuple_

# Longer ids than this are no row of ours (PostgreSQL's bigint has 19 digits), and a
# parameter this long is not worth converting.
MAX_ID_DIGITS = 18


def after_row(
    columns: Sequence[Any], values: Sequence[Any], *, descending: bool
) -> ColumnElement[bool]:
    """The rows after ``values`` in the order of ``columns`` (newest first when
    ``descending``)."""
    position, bound = tuple_(*columns), tuple_(*values)
    return position < bound if descending else position > bound


def parse_id(text: str | None) -> int | None:
    """The id a bare-id cursor names, or None."""
    # ASCII only: str.isdigit accepts "²", which int() refuses.
    if not text or not text.isascii() or not text.isdigit() or len(text) > MAX_ID_DIGITS:
        return None
    return int(text)


def moment_cursor(moment: datetime, row_id: int) -> str:
    """The cursor naming one row of a time-ordered list: ``<ISO 8601 moment>,<id>``."""
    return f"{moment.isoformat()},{row_id}"


def parse_moment_cursor(text: str | None) -> tuple[datetime, int] | None:
    """The (moment, id) a ``moment_cursor`` names, or None when ``text`` is not one (a
    moment without its zone cannot be compared with the stored ones, so it is not one)."""
    if not text:
        return None
    stamp, _, ident = text.rpartition(",")
    row_id = parse_id(ident)
    if row_id is None:
        return None
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return (moment, row_id) if moment.tzinfo is not None else None
