"""CSV cells that are safe to open in a spreadsheet.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by
Excel, LibreOffice and Google Sheets as a formula (``=HYPERLINK(...)`` leaks data when
clicked; DDE formulas run commands). Every CSV the product writes from data someone else
typed (exports, import rejects) passes its cells through :func:`safe_cell`, which prefixes
such a cell with an apostrophe, as OWASP's CSV-injection guidance recommends: the sheet
shows the text as typed, and the apostrophe is visible in a text editor. Leading spaces do
not hide a formula: some spreadsheets trim them before reading the cell.
"""

from __future__ import annotations

from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """``value``, with an apostrophe in front when it is text a spreadsheet would run."""
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable[object]) -> list[object]:
    """Every cell of a row through :func:`safe_cell`."""
    return [safe_cell(value) for value in values]
