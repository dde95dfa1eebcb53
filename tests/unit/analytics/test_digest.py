"""The weekly digest's rules: the week it reports, and which moves it points out."""

from __future__ import annotations

from datetime import UTC, date, datetime

from nurture.analytics.digest import Change, changes, notable, reported_week


def at(day: int, hour: int) -> datetime:
    # December 2026: Monday 7th, Monday 14th.
    return datetime(2026, 12, day, hour, tzinfo=UTC)


def test_from_monday_seven_oclock_the_digest_reports_the_week_that_just_ended():
    assert reported_week(at(14, 7)) == (date(2026, 12, 7), date(2026, 12, 14))
    assert reported_week(at(16, 12)) == (date(2026, 12, 7), date(2026, 12, 14))
    assert reported_week(at(20, 23)) == (date(2026, 12, 7), date(2026, 12, 14))


def test_before_seven_on_monday_it_is_still_the_week_before():
    assert reported_week(at(14, 6)) == (date(2026, 11, 30), date(2026, 12, 7))


def test_a_count_is_pointed_out_when_it_moved_by_three_leads_and_a_fifth():
    assert Change("mql", 13.0, 10.0).notable  # +3, +30 %
    assert not Change("mql", 12.0, 10.0).notable  # +2: small numbers swing by chance
    assert not Change("leads", 110.0, 100.0).notable  # +10 but +10 %
    assert Change("leads", 4.0, 0.0).notable  # from nothing to 4
    assert Change("won", 0.0, 5.0).notable  # -5, -100 %


def test_a_rate_is_pointed_out_when_it_moved_by_five_points():
    assert Change("win_rate", 0.30, 0.25, rate=True).notable
    assert not Change("win_rate", 0.29, 0.25, rate=True).notable
    assert not Change("win_rate", None, 0.25, rate=True).notable
    assert Change("win_rate", 0.30, 0.25, rate=True).delta == 0.30 - 0.25


def test_changes_list_the_counts_then_the_rates_and_notable_keeps_that_order():
    counts_now = dict(leads=20, mql=8, sal=4, sql=2, opportunity=1, won=1, lost=0)
    counts_before = dict(leads=10, mql=8, sal=1, sql=2, opportunity=0, won=1, lost=3)
    rates_now = {"lead_to_mql": 0.4, "mql_to_sal": 0.5, "win_rate": 1.0}
    rates_before = {"lead_to_mql": 0.8, "mql_to_sal": 0.125, "win_rate": 0.25}
    found = changes(counts_now, rates_now, counts_before, rates_before)
    assert [c.name for c in found] == [
        "leads", "mql", "sal", "sql", "won", "lost", "lead_to_mql", "mql_to_sal", "win_rate",
    ]  # fmt: skip
    assert [c.name for c in notable(found)] == [
        "leads", "sal", "lost", "lead_to_mql", "mql_to_sal", "win_rate",
    ]  # fmt: skip
