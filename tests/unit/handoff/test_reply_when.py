"""The auto-reply's "when" in the hand-raiser's language: English as before, Polish from
the catalogue with the day written by Babel, English for a language nobody translated."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from nurture.handoff.reply_when import when_text

WARSAW = ZoneInfo("Europe/Warsaw")
# Monday 7 December 2026, 08:00 in Warsaw.
NOW = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)


def test_english_reads_as_before():
    assert when_text(NOW, NOW, "Europe/Warsaw", "en") == "within the hour"
    later = datetime(2026, 12, 7, 14, 0, tzinfo=WARSAW)
    assert when_text(NOW, later, "Europe/Warsaw", None) == "today from 14:00 (Europe/Warsaw time)"
    wednesday = datetime(2026, 12, 9, 9, 0, tzinfo=WARSAW)
    assert when_text(NOW, wednesday, "Europe/Warsaw", "en-GB") == (
        "on Wednesday from 09:00 (Europe/Warsaw time)"
    )
    assert when_text(NOW, None, "", "en") == "shortly"


def test_polish_reads_polish_with_a_polish_date():
    assert when_text(NOW, NOW, "Europe/Warsaw", "pl-PL") == "w ciągu godziny"
    later = datetime(2026, 12, 7, 14, 0, tzinfo=WARSAW)
    assert when_text(NOW, later, "Europe/Warsaw", "pl") == "dziś od 14:00 (czas Europe/Warsaw)"
    wednesday = datetime(2026, 12, 9, 9, 0, tzinfo=WARSAW)
    assert when_text(NOW, wednesday, "Europe/Warsaw", "pl") == (
        "9 grudnia od 09:00 (czas Europe/Warsaw)"
    )
    assert when_text(NOW, None, "", "pl") == "wkrótce"


def test_a_language_nobody_translated_reads_english():
    assert when_text(NOW, NOW, "Europe/Berlin", "de") == "within the hour"
