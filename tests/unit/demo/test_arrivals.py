"""The people who arrive through the demo's website forms: valid lead data, on their day,
at office hours where they are."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from nurture.demo.arrivals import FORM_EVENTS, Arrival, arrival_time, lead_data, read_arrivals
from nurture.demo.run import DEMO_DATA
from nurture.leads import validate_lead_data

START = datetime(2026, 11, 2, 9, tzinfo=UTC)
ARRIVALS = read_arrivals(DEMO_DATA / "arrivals.csv")


@pytest.mark.parametrize("arrival", ARRIVALS, ids=lambda a: a.email)
def test_every_bundled_arrival_is_lead_data_the_api_accepts(arrival: Arrival) -> None:
    at = START + timedelta(days=3)
    fields, errors = validate_lead_data(lead_data(arrival, at), default_timezone="UTC")
    assert fields is not None, errors
    assert (fields.consent_status, fields.consent_at) == ("granted", at)
    assert fields.source == f"form:{arrival.form}" and arrival.form in FORM_EVENTS


def _person(day: str, timezone: str = "America/Chicago") -> Arrival:
    return Arrival(day, "ebook", "p@example.com", {"email": "p@example.com", "timezone": timezone})


def test_a_person_arrives_on_their_day_at_an_office_hour_where_they_are() -> None:
    rng = random.Random(1)
    end = START + timedelta(weeks=4)
    for _ in range(50):
        at = arrival_time(_person("10"), START, end, rng)
        local = at.astimezone(ZoneInfo("America/Chicago"))
        assert local.date() == datetime(2026, 11, 12).date()
        assert 8 <= local.hour < 18


def test_the_days_of_four_weeks_are_scaled_to_the_weeks_simulated() -> None:
    rng = random.Random(2)
    end = START + timedelta(weeks=1)
    last = arrival_time(_person("27", "UTC"), START, end, rng)
    # Day 27 of four weeks is the last day of one week, never after the end.
    assert START + timedelta(days=6) <= last < end


def test_the_last_hours_people_arrive_just_before_the_end() -> None:
    rng = random.Random(3)
    end = START + timedelta(weeks=4)
    for _ in range(20):
        at = arrival_time(_person("end"), START, end, rng)
        assert end - timedelta(hours=1) < at < end


def test_a_form_or_day_the_simulation_does_not_know_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "arrivals.csv"
    path.write_text("day,form,email\n3,fax,x@example.com\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"arrivals\.csv:2: unknown form .fax."):
        read_arrivals(path)
