"""Business-hours arithmetic and the SLA rules built on it, including DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from nurture.handoff.sla.business_hours import add_business_time, business_time_between
from nurture.handoff.sla.policy import Hours, clock_for, compliance, describe_deadline
from nurture.platform.config import ConfigError, Settings
from nurture.platform.policies import (
    SlaPolicy,
    parse_accept_within,
    parse_escalate,
    parse_remind_at,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = frozenset(range(5))


def office(zone: ZoneInfo, opens: time = time(9), closes: time = time(17, 30)) -> Hours:
    return Hours(WEEKDAYS, opens, closes, zone)


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone).astimezone(UTC)


def test_an_hour_inside_the_working_day_is_an_hour_later():
    start = local(BERLIN, 2026, 12, 1, 10, 0)
    assert office(BERLIN).add(start, timedelta(hours=1)) == local(BERLIN, 2026, 12, 1, 11, 0)


def test_time_after_closing_continues_the_next_working_morning():
    start = local(BERLIN, 2026, 12, 1, 17, 0)  # Tuesday, 30 minutes before closing
    assert office(BERLIN).add(start, timedelta(hours=1)) == local(BERLIN, 2026, 12, 2, 9, 30)


def test_a_lead_handed_off_on_friday_evening_is_due_on_monday_morning():
    start = local(BERLIN, 2026, 12, 4, 19, 0)  # Friday evening
    assert office(BERLIN).add(start, timedelta(hours=1)) == local(BERLIN, 2026, 12, 7, 10, 0)


def test_a_lead_handed_off_at_night_is_due_an_hour_after_opening():
    start = local(NEW_YORK, 2026, 12, 2, 3, 15)
    assert office(NEW_YORK).add(start, timedelta(hours=1)) == local(NEW_YORK, 2026, 12, 2, 10, 0)


def test_the_spring_dst_change_keeps_the_deadline_at_the_same_office_time():
    # Berlin moves from UTC+1 to UTC+2 on Sunday 29 March 2026: Friday 17:00 + 1 business
    # hour is Monday 09:30 local, which is 07:30 UTC (not 08:30).
    start = local(BERLIN, 2026, 3, 27, 17, 0)
    due = office(BERLIN).add(start, timedelta(hours=1))
    assert due == datetime(2026, 3, 30, 7, 30, tzinfo=UTC)
    assert due.astimezone(BERLIN).hour == 9


def test_the_autumn_dst_change_keeps_the_deadline_at_the_same_office_time():
    start = local(NEW_YORK, 2026, 10, 30, 17, 0)  # New York leaves DST on Sunday 1 November
    due = office(NEW_YORK).add(start, timedelta(hours=1))
    assert due == datetime(2026, 11, 2, 14, 30, tzinfo=UTC)


def test_a_round_the_clock_day_with_the_dst_change_is_23_hours_long():
    every_day = Hours(frozenset(range(7)), time(0), time.max, BERLIN)
    start = local(BERLIN, 2026, 3, 29, 0, 0)
    end = local(BERLIN, 2026, 3, 30, 0, 0)
    assert every_day.between(start, end) == timedelta(hours=23)
    assert every_day.add(start, timedelta(hours=23)) == end


def test_a_working_week_across_a_dst_change_has_its_usual_hours():
    start = local(BERLIN, 2026, 3, 23, 0, 0)
    end = local(BERLIN, 2026, 4, 4, 0, 0)  # two weeks, the change in between
    assert office(BERLIN).between(start, end) == timedelta(hours=85)


def test_time_between_counts_only_working_time_and_never_goes_negative():
    hours = office(BERLIN)
    start = local(BERLIN, 2026, 12, 4, 16, 30)  # Friday
    end = local(BERLIN, 2026, 12, 7, 9, 45)  # Monday
    assert hours.between(start, end) == timedelta(hours=1, minutes=45)
    assert hours.between(end, start) == timedelta(0)


def test_adding_then_measuring_gives_back_the_duration():
    hours = office(NEW_YORK, time(8, 30), time(17))
    start = local(NEW_YORK, 2026, 3, 6, 15, 12)
    for minutes in (1, 59, 60, 61, 600, 3000):
        due = hours.add(start, timedelta(minutes=minutes))
        assert hours.between(start, due) == timedelta(minutes=minutes)


def test_no_working_day_is_an_error_not_a_hang():
    with pytest.raises(ValueError):
        add_business_time(
            datetime(2026, 12, 1, tzinfo=UTC),
            timedelta(hours=1),
            days=frozenset(),
            opens=time(9),
            closes=time(17),
            zone=BERLIN,
        )
    assert business_time_between(
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2026, 12, 2, tzinfo=UTC),
        days=frozenset(),
        opens=time(9),
        closes=time(17),
        zone=BERLIN,
    ) == timedelta(0)


def test_the_reminder_comes_at_its_share_of_the_working_time():
    policy = SlaPolicy(accept_within=timedelta(hours=1), remind_at=0.75)
    start = local(BERLIN, 2026, 12, 4, 17, 15)  # 15 minutes before Friday's closing
    clock = clock_for(policy, office(BERLIN), start)
    assert clock.remind_at == local(BERLIN, 2026, 12, 7, 9, 30)
    assert clock.due_at == local(BERLIN, 2026, 12, 7, 9, 45)
    assert clock_for(SlaPolicy(remind_at=None), office(BERLIN), start).remind_at is None


def test_compliance_is_met_by_the_deadline_and_breached_after_it():
    hours = office(BERLIN)
    start = local(BERLIN, 2026, 12, 4, 17, 0)
    due = local(BERLIN, 2026, 12, 7, 9, 30)
    met = compliance(hours, start, due, local(BERLIN, 2026, 12, 7, 9, 10))
    assert met.status == "met"
    assert met.business_seconds == 40 * 60
    assert met.seconds == (local(BERLIN, 2026, 12, 7, 9, 10) - start).total_seconds()
    assert compliance(hours, start, due, due + timedelta(seconds=1)).status == "breached"


def test_the_deadline_reads_in_the_owners_time():
    due = local(NEW_YORK, 2026, 12, 1, 10, 35)
    text = describe_deadline(due, NEW_YORK, SlaPolicy())
    assert text == "by Tue 1 Dec, 10:35 (America/New_York time; 1 business hour)"
    assert SlaPolicy(accept_within=timedelta(minutes=30)).describe() == "30 business minutes"
    assert SlaPolicy(accept_within=timedelta(hours=2)).describe() == "2 business hours"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1h", timedelta(hours=1)), ("90m", timedelta(minutes=90)), ("off", None)],
)
def test_the_accept_setting_reads_durations_and_off(text, expected):
    assert parse_accept_within(text) == expected


def test_bad_sla_settings_say_what_to_write():
    with pytest.raises(ValueError, match="percentage"):
        parse_remind_at("soon")
    with pytest.raises(ValueError, match="between"):
        parse_remind_at("100%")
    with pytest.raises(ValueError, match="unknown escalation 'boss'"):
        parse_escalate("manager,boss")
    assert parse_remind_at("80%") == pytest.approx(0.8)
    assert parse_escalate("reassign, manager") == ("reassign", "manager")
    assert parse_escalate("none") == ()


def test_sla_settings_come_from_the_environment(tmp_path):
    env = {
        "NURTURE_INSTANCE_PATH": str(tmp_path),
        "NURTURE_SLA_ACCEPT": "2h",
        "NURTURE_SLA_REMIND": "50%",
        "NURTURE_SLA_ESCALATE": "manager,reassign",
    }
    policy = Settings.from_env(env).sla
    assert policy == SlaPolicy(timedelta(hours=2), 0.5, ("manager", "reassign"))
    assert Settings.from_env({**env, "NURTURE_SLA_ACCEPT": "off"}).sla is None
    with pytest.raises(ConfigError, match="NURTURE_SLA_REMIND"):
        Settings.from_env({**env, "NURTURE_SLA_REMIND": "often"})
