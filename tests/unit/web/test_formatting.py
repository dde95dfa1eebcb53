"""The shared formatting filters: one form for dates, numbers, shares and durations on every
page, in the reader's locale, a dash for a missing value."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from flask import Flask
from flask_babel import Babel

from nurture.web.ui.formatting import (
    datetime_text,
    duration_text,
    init_formatting,
    number_text,
    percent_text,
)


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    Babel(app, locale_selector=lambda: app.config["TEST_LOCALE"])
    app.config["TEST_LOCALE"] = "en"
    init_formatting(app)
    return app


@pytest.fixture
def english(app: Flask) -> Iterator[None]:
    with app.test_request_context():
        yield


def test_numbers_have_exactly_the_digits_asked_for(english: None) -> None:
    assert number_text(1234567) == "1,234,567"
    assert number_text(2.5, 1) == "2.5"
    assert number_text(3, 1) == "3.0"
    assert number_text(12.345, 2) == "12.35"
    assert number_text(Decimal("7.96")) == "8"


def test_a_missing_value_is_a_dash(english: None) -> None:
    assert number_text(None) == "—"
    assert percent_text(None) == "—"
    assert duration_text(None) == "—"
    assert datetime_text(None) == "—"
    assert datetime_text("") == "—"
    assert datetime_text(None, empty="never") == "never"


def test_shares_are_percentages_with_one_decimal(english: None) -> None:
    assert percent_text(0.25) == "25.0%"
    assert percent_text(2 / 3) == "66.7%"


def test_durations_are_words_in_the_largest_unit(english: None) -> None:
    assert duration_text(timedelta(days=3, hours=2)) == "3 days"
    assert duration_text(timedelta(hours=2)) == "2 hours"


def test_moments_in_the_chosen_style_and_iso_text_alike(english: None) -> None:
    moment = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)
    assert datetime_text(moment) == datetime_text("2026-03-04T15:30:00Z")
    assert "Mar 4, 2026" in datetime_text(moment)
    assert datetime_text(moment, "short").startswith("3/4/26")


def test_the_readers_locale_decides_separators(app: Flask) -> None:
    app.config["TEST_LOCALE"] = "de"
    with app.test_request_context():
        assert number_text(1234.5, 1) == "1.234,5"
        assert percent_text(0.25) == "25,0%"


def test_templates_read_them_as_filters(app: Flask) -> None:
    with app.test_request_context():
        rendered = app.jinja_env.from_string(
            "{{ 1234|number }} {{ 0.5|percent }} {{ none|datetime(empty='never') }}"
        ).render()
    assert rendered == "1,234 50.0% never"
