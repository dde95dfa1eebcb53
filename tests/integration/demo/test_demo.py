"""The demo ends with leads handed to sales through the real intake, tracking, scoring and
readiness path, with notifications and auto-replies in the local outbox, and the sales
team's answers recorded through the handoff's use cases."""

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
                "form.submitted",
            )
            assert session.scalar(select(func.count()).where(Event.type.in_(tracked))) == sum(
                result.hits.values()
            )
            # People who filled in a website form came in as the API takes leads.
            from_forms = session.scalar(select(func.count()).where(Lead.source.like("form:%")))
            assert result.arrivals > 0 and from_forms
            handoffs = session.execute(
                select(Handoff, Lead).join(Lead, Lead.id == Handoff.lead_id)
            ).all()
            handed = [lead for _, lead in handoffs]
            # Readiness moved them, never a cold lead: a hand-raise (35 or 40 points) with a
            # reasonable fit, or heat and a strong fit.
            assert handoffs
            for handoff, lead in handoffs:
                assert handoff.temperature in ("warm", "hot"), lead.email
                if handoff.qualification_rule == "hand-raiser":
                    assert lead.hand_raised_at is not None and handoff.score >= 35
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
