"""The first pass's parsed rows come back to the second pass whole and in order, however
many chunks they were written in, and nothing is left behind once closed."""

from __future__ import annotations

from nurture.leads.parsed_rows import ParsedRow, ParsedRows
from nurture.leads.validation import validate_lead_data


def _rows(count: int) -> list[ParsedRow]:
    rows = []
    for i in range(count):
        if i % 4 == 3:
            rows.append(ParsedRow(i + 2, [f"bad{i}", "x"], None, "email: not an address"))
            continue
        fields, errors = validate_lead_data(
            {"email": f"Lead{i}@Example.com", "first_name": f"Ada {i}", "attributes": {"n": i}},
            default_timezone="UTC",
        )
        assert fields is not None, errors
        rows.append(ParsedRow(i + 2, [f"Lead{i}@Example.com", f"Ada {i}"], fields, None))
    return rows


def test_rows_written_in_chunks_are_read_back_whole_and_in_order_every_time():
    rows = _rows(10)
    with ParsedRows(chunk_rows=3) as parsed:
        for row in rows:
            parsed.append(row)
        assert list(parsed) == rows
        assert list(parsed) == rows  # a second pass sees the same
    assert rows[0].fields is not None and rows[0].fields.email == "lead0@example.com"


def test_fewer_rows_than_a_chunk_stay_in_memory_and_closing_forgets_them():
    rows = _rows(2)
    parsed = ParsedRows(chunk_rows=3)
    for row in rows:
        parsed.append(row)
    assert list(parsed) == rows
    parsed.close()
    assert list(parsed) == []
