"""On PostgreSQL the velocity's percentiles are computed in SQL (``percentile_cont``); the
spans read and summed up in Python (SQLite's way) must give the same figures on the same
history: the story of ``velocity_support``, whose hand-worked figures test_velocity.py
checks on both backends."""

from __future__ import annotations

import pytest

from nurture.analytics import parse_filter, velocity_report
from nurture.analytics.durations import STAY_STAGES
from nurture.analytics.filters import VELOCITY_GROUP_BY
from tests.integration.analytics.test_velocity import TODAY
from tests.integration.analytics.velocity_support import tell_velocity_story

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("by", [None, *VELOCITY_GROUP_BY])
def test_percentiles_in_sql_equal_the_percentiles_of_every_span(runtime, tmp_path, by):
    tell_velocity_story(runtime, tmp_path)
    for period in (
        ("2026-01-01", "2026-03-01"),
        ("2026-01-05", "2026-02-10"),
        ("2026-02-01", "2026-03-01"),
    ):
        report = parse_filter(
            start=period[0], end=period[1], group_by=by, today=TODAY,
            groupings=VELOCITY_GROUP_BY,
        )  # fmt: skip
        with runtime.sessions() as session:
            in_sql = velocity_report(session, report, percentiles_in_sql=True)
            in_python = velocity_report(session, report, percentiles_in_sql=False)
        assert in_sql.as_dict() == in_python.as_dict()
        # The story has stays to sum up in every period: not two empty reports.
        assert any(row.measures[stage].count for row in in_sql.rows for stage in STAY_STAGES)


def test_by_campaign_within_one_campaign_in_sql_equals_every_span(runtime, tmp_path):
    tell_velocity_story(runtime, tmp_path)
    report = parse_filter(
        start="2026-01-01", end="2026-03-01", group_by="campaign", campaign="test-drip",
        today=TODAY, groupings=VELOCITY_GROUP_BY,
    )  # fmt: skip
    with runtime.sessions() as session:
        in_sql = velocity_report(session, report, percentiles_in_sql=True)
        in_python = velocity_report(session, report, percentiles_in_sql=False)
    assert in_sql.as_dict() == in_python.as_dict()
    # The campaign's key names its row, in SQL as in Python.
    assert [row.group for row in in_sql.rows] == ["test-drip"]
