"""CSV cells that a spreadsheet would run as formulas are neutralised."""

import csv
import io

import pytest

from nurture.platform.csv_safety import safe_cell, safe_row


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("\t=1", "'\t=1"),
        ("  =1", "'  =1"),
        ("\r=1", "'\r=1"),
        ("+1", "+1"),
        ("=cmd|'/C calc'!A0", "'=cmd|'/C calc'!A0"),
        ("ada@example.com", "ada@example.com"),
        ("a=b", "a=b"),
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


def test_a_written_row_reads_back_with_the_prefix():
    buffer = io.StringIO()
    csv.writer(buffer).writerow(safe_row(["=1+1", "ok"]))

    assert next(csv.reader(io.StringIO(buffer.getvalue()))) == ["'=1+1", "ok"]
