"""CSV cells that are safe to open in a spreadsheet (pure): every CSV the product writes from
data someone else typed (exports, import rejects) passes its cells through here.

Excel, LibreOffice and Google Sheets run a cell that starts with ``=``, ``+``, ``-`` or ``@``
(or a tab or carriage return before one) as a formula, so a value a lead typed into a form
could run ``=HYPERLINK(…)`` or worse on a marketer's computer ("CSV injection", OWASP). Such
cells get a leading apostrophe, which spreadsheets show as text. Plain numbers and phone
numbers (digits, spaces and ``+ - ( ) . /``) cannot hold a formula and are left as they are,
so "+48 22 123 45 67" survives a round trip.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_NUMBER_LIKE = re.compile(r"^[+-]?[0-9][0-9 ()./-]*$")


def safe_cell(value: object) -> str:
    """``value`` as text a spreadsheet will not run."""
    text = "" if value is None else str(value)
    stripped = text.lstrip(" ")
    if stripped.startswith(FORMULA_STARTS) and not _NUMBER_LIKE.match(stripped):
        return "'" + text
    return text


def safe_row(values: Iterable[object]) -> list[str]:
    """Every cell of a row through ``safe_cell``."""
    return [safe_cell(value) for value in values]
