"""Spreadsheet formulas in CSV cells are neutralised; everything else is left alone."""

from __future__ import annotations

import csv
import io

import pytest

from nurture.platform.csv_safety import safe_cell, safe_row


@pytest.mark.parametrize(
    "hostile",
    [
        '=HYPERLINK("http://x.example","y")',
        "+1",
        "-2+3",
        "@SUM(A1)",
        "\t=1",
        "\r=1",
        "=cmd|'/C calc'!A0",
    ],
)
def test_a_cell_a_spreadsheet_would_run_is_kept_as_text(hostile: str) -> None:
    assert safe_cell(hostile) == "'" + hostile


@pytest.mark.parametrize("harmless", ["ada@example.com", "Ada Lovelace", "", "1+1", "café", "a=b"])
def test_ordinary_text_is_unchanged(harmless: str) -> None:
    assert safe_cell(harmless) == harmless


def test_numbers_and_empty_values_are_not_text_and_stay_as_they_are() -> None:
    assert safe_row([-2, 3.5, None, "-2"]) == [-2, 3.5, None, "'-2"]


def test_a_written_row_reads_back_with_the_prefix() -> None:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(safe_row(["=1+1", "ok"]))

    assert next(csv.reader(io.StringIO(buffer.getvalue()))) == ["'=1+1", "ok"]
