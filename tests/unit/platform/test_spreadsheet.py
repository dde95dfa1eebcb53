"""CSV cells that a spreadsheet would run as formulas are neutralised."""

import pytest

from nurture.platform.spreadsheet import safe_cell, safe_row


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("\t=1", "'\t=1"),
        ("  =1", "'  =1"),
        ("＝1", "'＝1"),
        ("+48 22 123 45 67", "+48 22 123 45 67"),
        ("-12.5", "-12.5"),
        ("Jan", "Jan"),
        ("", ""),
    ],
)
def test_formula_cells_get_an_apostrophe_numbers_do_not(value, expected):
    assert safe_cell(value) == expected


def test_rows_and_non_text_values():
    assert safe_row(["=x", 3, None]) == ["'=x", "3", ""]
