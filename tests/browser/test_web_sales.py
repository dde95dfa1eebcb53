"""Journey: a rep accepts one handoff and rejects another with a reason and a note; the
sales manager sees the rejection in the team's view. On a desktop and a phone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.sales_support import two_handoffs_for_ann
from tests.browser.web_support import LiveApp, check_page, on_desktop_and_phone, open_signed_in
from tests.integration.sales_support import ANN, handoff


@on_desktop_and_phone
def test_a_rep_accepts_one_handoff_and_rejects_another_and_the_manager_sees_why(
    browser: Any, live_app: LiveApp, viewport: dict[str, int], tmp_path: Path
) -> None:
    first, second = two_handoffs_for_ann(live_app, tmp_path)
    page = open_signed_in(browser, live_app, "sales", viewport=viewport, email=ANN)

    # A rep lands on the inbox: both leads wait, each with its deadline.
    expect(page.get_by_role("heading", name="Your handoffs")).to_be_visible()
    expect(page.get_by_text("due in", exact=False)).to_have_count(2)
    check_page(page)

    page.get_by_role("link", name="Ada Tester").click()
    expect(page.get_by_role("heading", name="Ada Tester · Acme Robotics")).to_be_visible()
    expect(page.get_by_role("heading", name="Suggested next step")).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="Accept", exact=True).click()
    expect(page.get_by_text("Accepted: Ada Tester is yours.", exact=False)).to_be_visible()
    expect(page.get_by_role("group", name="Record the outcome")).to_be_visible()
    check_page(page)

    page.get_by_role("link", name="My handoffs").click()
    page.get_by_role("link", name="Bo Tester").click()
    page.get_by_text("Reject…").click()
    page.get_by_label("Reason").select_option(label="No budget")
    page.get_by_label("Note for marketing (optional)").fill("Budget frozen until Q3")
    check_page(page)
    page.get_by_role("button", name="Reject the lead").click()
    expect(page.get_by_text("Rejected: the lead is back with marketing")).to_be_visible()
    expect(page.get_by_text("Nothing is waiting for you.", exact=False)).to_be_visible()
    check_page(page)
    assert handoff(live_app.runtime, first).status == "accepted"
    assert handoff(live_app.runtime, second).reject_reason == "no-budget"

    manager = open_signed_in(browser, live_app, "sales-manager", viewport=viewport)
    manager.goto("/sales/team")
    expect(manager.get_by_role("heading", name="Why sales gives leads back")).to_be_visible()
    reasons = manager.get_by_role("table", name="Rejections by reason, last 30 days")
    expect(reasons.get_by_role("link", name="No budget")).to_be_visible()
    expect(manager.get_by_text("Budget frozen until Q3", exact=False)).to_be_visible()
    check_page(manager)
    # The accepted lead is still open, with its owner and a reassign form.
    manager.get_by_role("link", name="Open handoffs", exact=True).click()
    expect(manager.get_by_label("New owner of Ada Tester")).to_be_visible()
    check_page(manager)
