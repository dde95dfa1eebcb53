"""Keyset cursors and the "after this row" condition every paged list shares."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import column

from nurture.reports.keyset import after_row, moment_cursor, parse_id, parse_moment_cursor

MOMENT = datetime(2026, 12, 6, 15, 0, 30, 123456, tzinfo=UTC)


def test_a_moment_cursor_reads_back_as_the_row_it_names() -> None:
    assert parse_moment_cursor(moment_cursor(MOMENT, 42)) == (MOMENT, 42)
    other_zone = MOMENT.astimezone(timezone(timedelta(hours=2)))
    assert parse_moment_cursor(moment_cursor(other_zone, 7)) == (other_zone, 7)


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "garbage",
        "nan,1",
        "2026-12-06T15:00:00+00:00,x",
        "2026-12-06T15:00:00+00:00,99999999999999999999",
        "2026-12-06T15:00:00,5",  # no zone: cannot be compared with stored moments
        "<script>,1",
        "2026-12-06T15:00:00+00:00,-1",
    ],
)
def test_anything_else_is_no_moment_cursor(text: str | None) -> None:
    assert parse_moment_cursor(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12),
        ("999999999999999999", 999999999999999999),
        (None, None),
        ("", None),
        ("99999999999999999999", None),
        ("-3", None),
        ("1e3", None),
        ("%00zz", None),
        ("١٢", None),  # other scripts' digits: no link of ours carries them
        ("²", None),  # str.isdigit says yes, int() refuses
    ],
)
def test_an_id_cursor_is_digits_of_a_possible_id(text: str | None, expected: int | None) -> None:
    assert parse_id(text) == expected


def test_after_row_compares_the_key_and_id_together() -> None:
    at, ident = column("at"), column("id")
    newest_first = after_row((at, ident), (MOMENT, 5), descending=True)
    oldest_first = after_row((at, ident), (MOMENT, 5), descending=False)
    assert str(newest_first) == "(at, id) < (:param_1, :param_2)"
    assert str(oldest_first) == "(at, id) > (:param_1, :param_2)"
