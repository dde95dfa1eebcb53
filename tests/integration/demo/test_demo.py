"""The demo ends with leads handed to sales through the real tracking, scoring and
readiness path, with notifications and auto-replies in the local outbox."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from nurture.demo import demo_settings, engagement_counts, handoff_rows, run_demo
from nurture.models import Event, Handoff, Lead, Message, TrackingHit
from nurture.platform.runtime import Runtime


def test_the_demo_hands_engaged_leads_to_sales_through_the_real_tracking_path(settings):
    demo = demo_settings(settings)
    result = run_demo(demo, weeks=2, today=datetime(2026, 11, 30, tzinfo=UTC))

    counts = engagement_counts(demo)
    assert counts["human"]["email.clicked"] > 0 and counts["machine"]["email.clicked"] > 0
    assert counts["machine"]["email.opened"] > 0
    assert result.demo_requests

    runtime = Runtime.from_settings(demo)
    try:
        with runtime.sessions() as session:
            # Every reaction went in as a raw hit and was processed, none set by hand.
            assert session.scalar(select(func.count()).where(TrackingHit.processed.is_(False))) == 0
            assert session.scalar(select(func.count()).select_from(TrackingHit)) == sum(
                result.hits.values()
            )
            # ... and became events by the processor: one per hit (none written directly).
            tracked = (
                "email.opened",
                "email.clicked",
                "page.viewed",
                "demo.requested",
                "content.downloaded",
                "webinar.attended",
            )
            assert session.scalar(select(func.count()).where(Event.type.in_(tracked))) == sum(
                result.hits.values()
            )
            handed = session.scalars(select(Lead).join(Handoff, Handoff.lead_id == Lead.id)).all()
            # The scoring model moved them: a demo request alone is 40 points.
            assert handed and all(lead.score_value >= 40 for lead in handed)
            assert all(lead.hand_raised_at is not None for lead in handed)
            sent = dict(
                session.execute(
                    select(Message.template, func.count())
                    .where(Message.status == "sent")
                    .group_by(Message.template)
                ).all()
            )
    finally:
        runtime.close()
    assert sent["sales-handoff"] >= len({lead.id for lead in handed})
    assert sent["handoff-auto-reply"] >= 1
    # Leads that warmed up without asking for a demo got warm-track emails on the way.
    assert sum(count for template, count in sent.items() if template.startswith("warm-")) >= 1
    rows = handoff_rows(demo)
    assert {row.status.split(":")[0] for row in rows} >= {"accepted"}
    assert any(row.sla.startswith("met") for row in rows)
