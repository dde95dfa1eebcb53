"""Journey: a marketer finds two hand-raisers outside the ICP in the review queue, sends
one to sales anyway and keeps nurturing the other, saying why (a reason is required). On a
desktop and a phone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from nurture.models import Handoff, HandRaise
from nurture.platform.db import utcnow
from tests.browser.web_support import LiveApp, check_page, on_desktop_and_phone, open_signed_in
from tests.integration.qualification.hand_raise_support import hold_for_review
from tests.integration.sales_support import sync_sales_team


@on_desktop_and_phone
def test_a_marketer_sends_one_hand_raiser_to_sales_and_keeps_nurturing_another(
    browser: Any, live_app: LiveApp, viewport: dict[str, int], tmp_path: Path
) -> None:
    runtime = live_app.runtime
    now = utcnow()
    sync_sales_team(runtime, tmp_path, now - timedelta(days=1))
    first = hold_for_review(
        runtime, "olek@kwiatki.example", now - timedelta(minutes=9), first_name="Olek",
        last_name="Nowak",
    )  # fmt: skip
    second = hold_for_review(
        runtime, "ida@tiny.example", now - timedelta(minutes=2), first_name="Ida",
        last_name="Small",
    )  # fmt: skip
    page = open_signed_in(browser, live_app, "marketer", viewport=viewport)

    page.goto("/")
    page.get_by_role("link", name="Hand-raisers", exact=True).click()
    expect(page.get_by_role("heading", name="Hand-raisers in review")).to_be_visible()
    queue = page.get_by_role("table", name="In review")
    expect(queue.get_by_role("link", name="Olek Nowak")).to_be_visible()
    expect(queue.get_by_role("link", name="Ida Small")).to_be_visible()
    expect(queue.get_by_text("outside the ICP", exact=False)).to_have_count(2)
    check_page(page)

    queue.get_by_role("link", name="Olek Nowak").click()
    expect(page.get_by_role("heading", name="Olek Nowak")).to_be_visible()
    expect(page.get_by_text("fit grade D (12) is below C", exact=False)).to_be_visible()
    check_page(page)
    page.get_by_label("Note for sales (optional)").fill("A reseller for Poland")
    page.get_by_role("button", name="Send to sales").click()
    expect(page.get_by_text("Sent to sales: handoff", exact=False)).to_be_visible()
    check_page(page)

    page.get_by_role("link", name="Ida Small").click()
    page.get_by_role("button", name="Keep nurturing").click()
    expect(page.get_by_text("Say why the lead stays in nurture.")).to_be_visible()
    check_page(page)
    page.get_by_label("Why does this lead stay in nurture?").fill("A student project, not a buyer")
    page.get_by_role("button", name="Keep nurturing").click()
    expect(page.get_by_text("Dismissed: the lead stays in nurture", exact=False)).to_be_visible()
    expect(page.get_by_text("No hand-raiser is waiting for a review.")).to_be_visible()
    page.get_by_role("link", name="Dismissed").click()
    expect(page.get_by_text("A student project, not a buyer", exact=False)).to_be_visible()
    check_page(page)

    with runtime.sessions() as session:
        rows = {row.id: row for row in session.scalars(select(HandRaise))}
        handoff = session.scalar(select(Handoff).where(Handoff.id == rows[first].handoff_id))
    assert rows[first].review_status == "sent" and handoff is not None
    assert handoff.qualification_rule == "marketing-review" and handoff.fit_grade == "D"
    assert rows[second].review_status == "dismissed"
    assert rows[second].resolution_note == "A student project, not a buyer"
