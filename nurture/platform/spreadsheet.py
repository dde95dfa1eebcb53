"""Cells of CSV files people open in spreadsheets, safe from formula injection (pure).

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by
Excel, LibreOffice and Google Sheets as a formula (``=HYPERLINK(...)`` can leak data or
run commands through DDE). OWASP's advice: prefix such a cell with a single quote, which
the spreadsheet shows as text and drops from the value.
"""

from __future__ import annotations

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """``value`` as CSV cell text that no spreadsheet runs as a formula (None → "")."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(_FORMULA_STARTS) or text.lstrip(" ").startswith(_FORMULA_STARTS):
        return "'" + text
    return text
