"""Journey: a marketer watches a campaign, pauses and resumes it, and enrols a lead."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.campaigns_support import campaign_with_history
from tests.browser.web_support import LiveApp, check_page, on_desktop_and_phone, open_signed_in


@on_desktop_and_phone
def test_a_marketer_reads_a_campaigns_figures_pauses_resumes_and_enrols_a_lead(
    browser: Any, live_app: LiveApp, viewport: dict[str, int]
) -> None:
    campaign_with_history(live_app)
    page = open_signed_in(browser, live_app, "marketer", viewport=viewport)
    page.on("dialog", lambda dialog: dialog.accept())  # the pause button asks first

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns").click()
    expect(page.get_by_role("heading", name="Campaigns")).to_be_visible()
    check_page(page)

    page.get_by_role("link", name="Test drip").click()
    expect(page.get_by_role("heading", name="Flow", exact=True)).to_be_visible()
    welcome = page.locator("#step-cold-welcome")
    expect(welcome).to_contain_text("welcome-guide")
    expect(welcome.locator("dd").nth(2)).to_have_text("2")  # sent
    expect(welcome.locator("dd").nth(3)).to_contain_text("50.0%")  # opened by a person
    check_page(page)

    page.get_by_role("button", name="Pause campaign").click()
    expect(page.get_by_text("Paused. 2 live enrolments hold their place")).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="Resume campaign").click()
    expect(page.get_by_text("Resumed. 2 live enrolments continue")).to_be_visible()

    page.get_by_role("navigation", name="Campaign").get_by_role("link", name="Enrol leads").click()
    check_page(page)
    page.get_by_label("Lead's email address").fill("eve@acme.example")
    page.get_by_role("button", name="Enrol this lead").click()
    expect(page.get_by_text("Enrolled eve@acme.example")).to_be_visible()

    page.get_by_role("navigation", name="Campaign").get_by_role("link", name="Enrolments").click()
    expect(page.get_by_role("rowheader", name="eve@acme.example")).to_be_visible()
    check_page(page)
    page.get_by_role("navigation", name="Campaign").get_by_role("link", name="Versions").click()
    expect(page.get_by_role("row", name="1 running")).to_be_visible()
    check_page(page)
