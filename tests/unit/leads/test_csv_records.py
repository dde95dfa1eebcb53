"""Reading a lead CSV file record by record: a quote left open never takes rows with it."""

import io

import pytest

from nurture.leads.csv_rows import NEVER_CLOSED, RUNS_INTO_ROWS, read_records

HEADER = "email,first_name,company\n"


def records(text: str) -> list[tuple[int, list[str], str | None]]:
    return [tuple(r) for r in read_records(io.StringIO(text, newline=""), ",")]


@pytest.mark.parametrize(
    "closing_row",
    ['c@x.com,Cy,"Gamma"\n', 'c@x.com,Cy,Gamma"\n', 'c@x.com,"Cy",Gamma\n'],
)
def test_a_quote_closed_by_a_later_row_rejects_only_the_row_that_opened_it(closing_row):
    text = HEADER + 'a@x.com,Ann,"Acme\nb@x.com,Bob,Beta\n' + closing_row + "d@x.com,Di,Delta\n"

    read = records(text)

    assert read[1] == (2, ["a@x.com", "Ann", "Acme"], RUNS_INTO_ROWS)
    assert [(line, values[0], problem) for line, values, problem in read[2:]] == [
        (3, "b@x.com", None),
        (4, "c@x.com", None),
        (5, "d@x.com", None),
    ]


def test_a_quote_open_at_the_end_of_the_file_rejects_its_line_and_rereads_the_rest():
    read = records(HEADER + 'a@x.com,Ann,"Acme\nb@x.com,Bob,Beta\nc@x.com,Cy,Gamma\n')

    assert read[1] == (2, ["a@x.com", "Ann", "Acme"], NEVER_CLOSED)
    assert [(line, problem) for line, _, problem in read[2:]] == [(3, None), (4, None)]


def test_a_value_that_spans_lines_legitimately_is_kept_whole():
    text = (
        "email,first_name,notes\n"
        'a@x.com,Ann,"Met at the fair, Berlin\n\nCall back, in May"\n'
        "b@x.com,Bob,x\n"
    )

    read = records(text)

    assert read[1] == (2, ["a@x.com", "Ann", "Met at the fair, Berlin\n\nCall back, in May"], None)
    assert read[2] == (5, ["b@x.com", "Bob", "x"], None)


def test_a_note_whose_lines_hold_commas_is_not_taken_for_rows():
    text = 'email,notes\na@x.com,"Berlin, then Munich\nCall back, in May"\nb@x.com,x\n'

    read = records(text)

    assert read[1] == (2, ["a@x.com", "Berlin, then Munich\nCall back, in May"], None)
    assert read[2] == (4, ["b@x.com", "x"], None)
