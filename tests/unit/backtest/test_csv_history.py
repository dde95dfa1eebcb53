"""Reading a history from CSV files: mappings that cannot work stop before any row is
read, with a message naming the fix; files that are not CSV text say so."""

from datetime import UTC, datetime

import pytest

from nurture.backtest import HistoryImportError, read_csv_history


def write(tmp_path, name, data):
    path = tmp_path / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


def test_headers_in_other_words_and_languages_are_recognised(tmp_path):
    leads = write(
        tmp_path,
        "leads.csv",
        "Lead key,Created on,Won,Won on,Deal size,Stanowisko\n"
        "k1,2026-01-01,tak,2026-02-01T10:00+01:00,5000,Prezes\n",
    )
    read = read_csv_history(leads)
    assert read.problems == []
    (lead,) = read.history.leads
    assert lead.outcome.converted_at == datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
    assert lead.outcome.deal_value == 5000
    assert lead.fields["title"] == "Prezes"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("email,converted\n", "no creation time"),
        ("created,converted\n", "no lead key"),
        ("key,created\n", "no outcome"),
    ],
)
def test_a_file_without_a_needed_column_stops_with_the_fix(tmp_path, header, message):
    with pytest.raises(HistoryImportError, match=message):
        read_csv_history(write(tmp_path, "leads.csv", header))


def test_a_mapping_to_a_column_the_file_lacks_or_to_nothing_known_stops(tmp_path):
    leads = write(tmp_path, "leads.csv", "key,created,won\n")
    with pytest.raises(HistoryImportError, match="does not have"):
        read_csv_history(leads, mapping={"Visits": "history.visits"})
    with pytest.raises(HistoryImportError, match="not a lead field"):
        read_csv_history(leads, mapping={"won": "victory"})


def test_a_file_that_is_not_utf8_text_stops_with_its_name(tmp_path):
    leads = write(tmp_path, "leads.csv", b"key,created,won\nk\xff,2026-01-01,no\n")
    with pytest.raises(HistoryImportError, match=r"leads\.csv: not UTF-8 text"):
        read_csv_history(leads)


def test_cells_that_look_like_formulas_stay_data(tmp_path):
    leads = write(tmp_path, "leads.csv", 'key,created,won\n"=HYPERLINK(""x"")",2026-01-01,no\n')
    (lead,) = read_csv_history(leads).history.leads
    assert lead.key == '=HYPERLINK("x")'
