"""Send windows, waits and caps, computed in the lead's timezone."""

from datetime import UTC, datetime, time, timedelta

from nurture.campaigns.schedule import (
    cap_frees_at,
    in_window,
    next_window_opening,
    wait_until,
    zone,
)
from nurture.campaigns.spec import FrequencyCap, SendWindow, WaitStep

WEEKDAYS_9_TO_5 = SendWindow(days=frozenset(range(5)), start=time(9), end=time(17))
BERLIN = zone("Europe/Berlin")
NEW_YORK = zone("America/New_York")


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_inside_the_window_sends_now():
    now = utc(2026, 11, 24, 10, 0)  # Tuesday 11:00 in Berlin
    assert next_window_opening(now, WEEKDAYS_9_TO_5, BERLIN) == now


def test_after_hours_waits_for_next_morning_local_time():
    now = utc(2026, 11, 24, 17, 30)  # Tuesday 18:30 in Berlin
    assert next_window_opening(now, WEEKDAYS_9_TO_5, BERLIN) == utc(2026, 11, 25, 8, 0)


def test_friday_evening_waits_for_monday():
    now = utc(2026, 11, 27, 20, 0)  # Friday 15:00 in New York: inside
    assert next_window_opening(now, WEEKDAYS_9_TO_5, NEW_YORK) == now
    later = utc(2026, 11, 27, 23, 0)  # Friday 18:00 in New York: closed till Monday 9:00
    assert next_window_opening(later, WEEKDAYS_9_TO_5, NEW_YORK) == utc(2026, 11, 30, 14, 0)


def test_same_instant_is_open_in_one_zone_and_closed_in_another():
    moment = utc(2026, 11, 24, 15, 0)  # 16:00 Berlin, 10:00 New York, 00:00 Tokyo
    assert in_window(moment, WEEKDAYS_9_TO_5, BERLIN)
    assert in_window(moment, WEEKDAYS_9_TO_5, NEW_YORK)
    assert not in_window(moment, WEEKDAYS_9_TO_5, zone("Asia/Tokyo"))


def test_window_follows_daylight_saving_change():
    # Europe springs forward on 2026-03-29: 09:00 local is 08:00 UTC before, 07:00 after.
    saturday = utc(2026, 3, 28, 12, 0)
    assert next_window_opening(saturday, WEEKDAYS_9_TO_5, BERLIN) == utc(2026, 3, 30, 7, 0)


def test_unknown_timezone_falls_back_to_default():
    assert zone("Mars/Olympus", "Europe/Berlin") == BERLIN
    assert zone(None, "UTC").key == "UTC"


def test_duration_wait():
    started = utc(2026, 11, 24, 10, 0)
    assert wait_until(started, WaitStep("w", duration=timedelta(days=3)), BERLIN) == utc(
        2026, 11, 27, 10, 0
    )


def test_wait_until_weekday_and_time_in_lead_zone():
    started = utc(2026, 11, 24, 10, 0)  # Tuesday
    step = WaitStep("w", weekday=3, at=time(9, 30))  # next Thursday 09:30 local
    assert wait_until(started, step, NEW_YORK) == utc(2026, 11, 26, 14, 30)


def test_wait_until_clock_time_later_same_day_counts():
    started = utc(2026, 11, 24, 6, 0)  # 07:00 Berlin
    assert wait_until(started, WaitStep("w", at=time(10, 0)), BERLIN) == utc(2026, 11, 24, 9, 0)


def test_duration_then_clock_time():
    started = utc(2026, 11, 24, 15, 0)  # 16:00 Berlin; +1d = Wed 16:00, next 09:00 is Thu
    step = WaitStep("w", duration=timedelta(days=1), at=time(9, 0))
    assert wait_until(started, step, BERLIN) == utc(2026, 11, 26, 8, 0)


def test_cap_allows_until_full_then_names_when_room_frees():
    cap = FrequencyCap(max_emails=2, per=timedelta(days=7))
    now = utc(2026, 11, 24, 12)
    one = [now - timedelta(days=1)]
    assert cap_frees_at(one, now, cap) == now
    two = [now - timedelta(days=5), now - timedelta(days=1)]
    assert cap_frees_at(two, now, cap) == now - timedelta(days=5) + timedelta(days=7)
    old = [now - timedelta(days=9), now - timedelta(days=8)]
    assert cap_frees_at(old, now, cap) == now
