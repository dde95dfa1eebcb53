"""The sales notification on a phone: the HTML a real SMTP server received from the engine,
opened at 375 px in chromium. A rep must see who, company, role, why now, the next step and
the accept/reject buttons without scrolling, and the whole email stays short (details are
one link away), in words rather than field and event names."""

from __future__ import annotations

from datetime import timedelta

import pytest

from nurture.campaigns.services import sync_campaign_files
from nurture.models import Lead
from nurture.platform.db import transaction, utcnow
from nurture.platform.runtime import Runtime
from nurture.scoring import sync_scoring
from nurture.sending.engine import Engine
from tests.integration.engine_support import add_lead
from tests.integration.handoff_support import (
    BUNDLED_TEAM,
    PROJECT,
    add_account,
    add_event,
    qualify,
    sync_team_file,
)

PHONE = {"width": 375, "height": 667}
MARIA = "maria.lopez@brightpath.example"


@pytest.fixture
def notified(settings, smtp_sink):  # type: ignore[no-untyped-def]
    """A busy hand-raiser at a big account handed to Maria; the notification's HTML as the
    SMTP server received it at the engine's next tick."""
    configured = settings.with_overrides(smtp_url=smtp_sink.url, sales_team_file=BUNDLED_TEAM)
    runtime = Runtime.from_settings(configured)
    try:
        now = utcnow().replace(microsecond=0)
        sync_campaign_files(runtime, now=now, path=PROJECT / "campaigns" / "examples")
        with transaction(runtime.sessions) as session:
            assert sync_scoring(session, PROJECT / "campaigns" / "scoring.yaml", now=now).ok
        sync_team_file(runtime, BUNDLED_TEAM, now)
        lead_id = _busy_hand_raiser(runtime, now)
        qualify(
            runtime,
            lead_id,
            now,
            rule="hand-raiser-good-fit",
            reasons=("raised a hand: demo.requested 4 min ago", "fit grade B (62), C or better"),
        )
        engine = Engine(runtime)
        try:
            engine.tick(now + timedelta(seconds=1))
        finally:
            engine.close()
        [note] = [m for m in smtp_sink.received if m["To"] == MARIA]
        yield note.get_body(("html",)).get_content()
    finally:
        runtime.close()


def _busy_hand_raiser(runtime: Runtime, now) -> int:  # type: ignore[no-untyped-def]
    account = add_account(
        runtime,
        "northwind.example",
        name="Northwind Logistics International Holdings",
        country="US",
        employees=4200,
        industry="Logistics",
    )
    lead_id = add_lead(
        runtime,
        "grace.hopper-winthrop@northwind.example",
        first_name="Grace",
        last_name="Hopper-Winthrop",
        title="Senior Vice President, Global Revenue Operations and Planning",
        phone="+1 312 555 0199",
        timezone="America/Chicago",
        account_id=account,
        source="webinar",
        temperature="hot",
        hand_raised_at=now - timedelta(minutes=4),
    )
    with transaction(runtime.sessions) as session:
        lead = session.get(Lead, lead_id)
        # As the ICP grader stores them: reasons and the fields nobody has filled in yet.
        lead.fit_score, lead.fit_grade = 62, "B"
        lead.fit_reasons = [
            {"kind": "criterion", "field": "account.employees", "points": 15, "text": "x"},
            {"kind": "criterion", "field": "account.industry", "points": 12, "text": "y"},
        ]
        lead.fit_missing = [
            {
                "field": field,
                "used_by": [used_by],
                "points_at_stake": points,
                "text": f"{field} (for {used_by}, up to {points} points)",
            }
            for field, used_by, points in (
                ("account.annual_revenue", "revenue", 10),
                ("attributes.budget", "budget", 15),
                ("attributes.timing", "timing", 10),
            )
        ]
    for name, title in (
        ("Sam Okafor", "Senior Data Engineer"),
        ("Vera Lindqvist", "VP Finance"),
        ("Priya Raman", "Marketing Operations Manager"),
        ("Tom Becker", "Business Analyst"),
        ("Ana Costa", "IT Architect"),
        ("Li Wei", "Procurement Specialist"),
    ):
        first, last = name.split()
        add_lead(
            runtime,
            f"{first.lower()}@northwind.example",
            first_name=first,
            last_name=last,
            title=title,
            account_id=account,
            score_value=30.0,
            score_as_of=now,
        )
    site = "https://brightpath.example"
    add_event(runtime, lead_id, "demo.requested", now - timedelta(minutes=4), form="demo")
    add_event(runtime, lead_id, "fit.changed", now - timedelta(minutes=3), to="B")
    for hours, path in ((1, "/pricing"), (2, "/pricing/enterprise"), (5, "/customers"), (26, "/")):
        add_event(
            runtime, lead_id, "page.viewed", now - timedelta(hours=hours), url=f"{site}{path}"
        )
    for days in (1, 3, 6, 9, 13):
        add_event(runtime, lead_id, "email.opened", now - timedelta(days=days), subject="News")
        add_event(
            runtime, lead_id, "email.clicked", now - timedelta(days=days, minutes=-2),
            url=f"{site}/guides/{days}",
        )  # fmt: skip
    add_event(runtime, lead_id, "webinar.attended", now - timedelta(days=8))
    add_event(runtime, lead_id, "custom.price_calculator", now - timedelta(hours=3))
    return lead_id


def test_the_notification_fits_a_phone_with_the_essentials_first(browser, notified) -> None:
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.set_content(notified)

        # The words first: a missing line then fails with the text the rep would read,
        # not with a locator's timeout.
        shown = page.inner_text("body")
        for raw in ("account.annual_revenue", "attributes.budget", "fit.changed", "demo.requested",
                    "page.viewed", "custom.price_calculator"):  # fmt: skip
            assert raw not in shown, shown
        assert "Ask about: annual revenue, budget, timing" in shown, shown
        assert "Requested a demo · 4 min ago" in shown, shown

        height = page.evaluate("document.documentElement.scrollHeight")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert height <= 1200, f"the notification is {height} px tall at 375 px"
        assert width <= PHONE["width"], f"it scrolls sideways ({width} px)"

        def bottom(locator) -> float:  # type: ignore[no-untyped-def]
            box = locator.first.bounding_box()
            assert box is not None, locator
            return box["y"] + box["height"]

        first_screen = {
            "who": page.get_by_text("Grace Hopper-Winthrop", exact=True),
            "company": page.get_by_text("Northwind Logistics International Holdings").first,
            "role": page.get_by_text("decision maker", exact=True),
            "why now": page.get_by_text("Why now", exact=True),
            "the hand-raise": page.get_by_role("listitem").filter(has_text="4 min ago"),
            "next step": page.get_by_text("Next step", exact=True),
            "accept": page.get_by_role("link", name="Accept"),
            "reject": page.get_by_role("link", name="Reject…"),
        }
        for what, locator in first_screen.items():
            assert bottom(locator) <= PHONE["height"], f"{what} is below the first screen"

        details = page.get_by_role("link", name="All details on the lead's page")
        assert details.get_attribute("href").startswith("http://nurture.test/leads/")
    finally:
        context.close()
