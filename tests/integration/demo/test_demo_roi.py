"""After the demo's four weeks, the ROI report has something to show: costs and won revenue
in one currency, and a source whose cost bought a won deal."""

from __future__ import annotations

from datetime import date

from nurture.analytics import parse_filter
from nurture.analytics.roi import ROI_BY, roi_report
from nurture.demo import demo_settings, run_demo
from nurture.platform.config import Settings
from nurture.platform.db import utcnow
from nurture.platform.runtime import Runtime


def test_the_demo_has_a_source_with_a_cost_and_revenue(tmp_path):
    base = Settings(
        instance_path=tmp_path,
        database_url="sqlite://",
        secret_key="test-secret-key-not-for-production",
        public_url="http://nurture.test",
        default_timezone="UTC",
    )
    settings = demo_settings(base)
    now = utcnow()
    run_demo(settings, weeks=4, today=now)
    runtime = Runtime.from_settings(settings)
    try:
        with runtime.sessions() as session:
            start = str(date(now.year - 1, now.month, 1))
            report = parse_filter(
                today=now.date(), start=start, end=None, group_by="source", groupings=ROI_BY
            )
            result = roi_report(session, report)
        assert result.total.cost > 0 and result.total.revenue["u-shaped"] > 0
        # The demo's won deals came through its forms, whose sources have costs.
        assert any(row.roi["u-shaped"] is not None and row.deals for row in result.rows)
    finally:
        runtime.close()
