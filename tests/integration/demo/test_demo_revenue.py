"""After the demo's four weeks, the revenue reports have something to show: won deals with
their values, an upsell booked after each, and touches to credit."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from nurture.analytics import parse_filter
from nurture.analytics.attribution import ATTRIBUTION_BY, attribution_report
from nurture.analytics.clv import clv_report
from nurture.demo import demo_settings, run_demo
from nurture.models import Handoff, RevenueEntry
from nurture.platform.config import Settings
from nurture.platform.db import utcnow
from nurture.platform.runtime import Runtime


def test_the_demo_books_upsells_and_the_reports_credit_its_deals(tmp_path):
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
            won = session.scalars(
                select(Handoff).where(Handoff.outcome == "won", Handoff.deal_value.is_not(None))
            ).all()
            entries = session.scalars(select(RevenueEntry)).all()
            assert won and entries
            assert {e.kind for e in entries} == {"upsell"}
            report = parse_filter(
                today=now.date(), start=str(date(now.year - 1, now.month, 1)), end=None
            )
            clv = clv_report(session, report, now=now)
            [row] = clv.rows
            assert row.customers >= 1 and row.revenue > 0
            by_campaign = parse_filter(
                today=now.date(),
                start=str(date(now.year - 1, now.month, 1)),
                end=None,
                group_by="channel",
                groupings=ATTRIBUTION_BY,
            )
            credited = attribution_report(session, by_campaign)
            assert credited.deals == len(won)
            assert sum(r.revenue["linear"] for r in credited.rows) == credited.revenue
    finally:
        runtime.close()
