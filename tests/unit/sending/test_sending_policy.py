"""Sending policy rules: quiet hours in the lead's timezone, per-domain throttles and the
warm-up cap (pure: no database, no clock)."""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from nurture.campaigns.drip import Position, advance
from nurture.campaigns.schedule import quiet_hours_end, zone
from nurture.platform.config import ConfigError, Settings, parse_quiet_hours
from nurture.platform.policies import DomainLimit, parse_domain_limits, parse_warmup_schedule
from nurture.sending.policy import SendBudget, SendingPolicy, WarmUp
from tests.unit.campaigns.test_drip import DEFAULTS, campaign, facts

BERLIN = zone("Europe/Berlin")
START = Position("cold", None)


def test_quiet_hours_wrapping_midnight_end_the_next_local_morning():
    late = datetime(2026, 11, 24, 21, 30, tzinfo=UTC)  # 22:30 in Berlin
    assert quiet_hours_end(late, time(21), time(8), BERLIN) == datetime(
        2026, 11, 25, 7, 0, tzinfo=UTC
    )
    early = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)  # 06:00 in Berlin
    assert quiet_hours_end(early, time(21), time(8), BERLIN) == datetime(
        2026, 11, 25, 7, 0, tzinfo=UTC
    )
    assert quiet_hours_end(datetime(2026, 11, 25, 9, tzinfo=UTC), time(21), time(8), BERLIN) is None


def test_quiet_hours_beat_a_campaign_window_that_allows_any_time():
    quiet = replace(DEFAULTS, quiet_hours=(time(21), time(8)))
    night = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)  # 23:00 in Berlin
    decision = advance(campaign(), START, facts(timezone="Europe/Berlin"), night, quiet)
    assert decision.send is None
    assert decision.next_due_at == datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
    assert decision.history[-1].detail["reason"] == "quiet hours"
    # The same moment is 17:00 in New York: the email goes.
    new_york = advance(campaign(), START, facts(timezone="America/New_York"), night, quiet)
    assert new_york.send is not None


def test_blocked_send_is_deferred_with_the_policy_reason_and_keeps_its_step():
    until = datetime(2026, 11, 24, 10, 5, tzinfo=UTC)
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    blocked = facts(send_blocked_until=until, send_blocked_reason="throttle for gmail.com")
    decision = advance(campaign(), START, blocked, now, DEFAULTS)
    assert decision.send is None and decision.next_due_at == until
    assert decision.history[-1].detail["reason"] == "throttle for gmail.com"
    later = advance(campaign(), decision.position, facts(), until, DEFAULTS)
    assert later.send is not None and later.send.template == "welcome-guide"


def test_domain_throttle_counts_subdomains_and_frees_later():
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    policy = SendingPolicy(domain_limits=(DomainLimit("gmail.com", 2, timedelta(hours=1)),))
    budget = SendBudget(policy, now)
    assert budget.blocked("a@gmail.com") is None
    budget.take("a@gmail.com")
    budget.take("b@mail.gmail.com")
    retry, reason = budget.blocked("c@GMAIL.com")
    assert retry == now + timedelta(minutes=5) and "gmail.com" in reason
    assert budget.blocked("d@acme.example") is None


def test_warm_up_cap_grows_daily_and_lifts_after_the_schedule():
    warmup = WarmUp(date(2026, 12, 1), (2, 4))
    assert [warmup.cap_on(date(2026, 12, d)) for d in (1, 2, 3)] == [2, 4, None]
    assert warmup.cap_on(date(2026, 11, 30)) is None
    now = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    budget = SendBudget(SendingPolicy(warmup=warmup), now, today_used=2)
    retry, reason = budget.blocked("x@acme.example")
    assert retry == datetime(2026, 12, 2, tzinfo=UTC) and "warm-up" in reason


def test_settings_parse_the_policy_variables(tmp_path):
    settings = Settings.from_env(
        {
            "NURTURE_QUIET_HOURS": "21:00-08:00",
            "NURTURE_DOMAIN_THROTTLE": "gmail.com=2000/1h, yahoo.com=500/30m",
            "NURTURE_WARMUP_START": "2026-12-01",
            "NURTURE_WARMUP_SCHEDULE": "50,100",
        },
        instance_path=tmp_path,
    )
    assert settings.quiet_hours == (time(21), time(8))
    assert settings.domain_throttle == (
        DomainLimit("gmail.com", 2000, timedelta(hours=1)),
        DomainLimit("yahoo.com", 500, timedelta(minutes=30)),
    )
    assert (settings.warmup_start, settings.warmup_schedule) == (date(2026, 12, 1), (50, 100))
    with pytest.raises(ConfigError, match="NURTURE_DOMAIN_THROTTLE"):
        Settings.from_env({"NURTURE_DOMAIN_THROTTLE": "gmail.com:2000"}, instance_path=tmp_path)
    with pytest.raises(ValueError):
        parse_quiet_hours("21:00")
    with pytest.raises(ValueError):
        parse_warmup_schedule("50,-1")
    assert parse_domain_limits("") == ()
