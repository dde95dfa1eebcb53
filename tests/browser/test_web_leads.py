"""Journey: find a lead and read its timeline, on a desktop and a phone."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.leads_support import lead_with_history
from tests.browser.web_support import LiveApp, check_page, on_desktop_and_phone, open_signed_in


@on_desktop_and_phone
def test_a_marketer_finds_a_lead_and_reads_its_timeline(
    browser: Any, live_app: LiveApp, viewport: dict[str, int]
) -> None:
    lead_with_history(live_app.runtime)
    page = open_signed_in(browser, live_app, "marketer", viewport=viewport)

    page.goto("/leads")
    page.get_by_role("searchbox", name="Search").fill("lovel")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("link", name="Ada Lovelace")).to_be_visible()
    check_page(page)

    page.get_by_role("link", name="Ada Lovelace").click()
    expect(page.get_by_role("heading", name="Ada Lovelace", level=1)).to_be_visible()
    timeline = page.locator("#timeline")
    expect(timeline.get_by_text("page.viewed")).to_be_visible()
    # The machine hit is shown apart, with its reason, and is not scored.
    expect(timeline.locator("li.machine")).to_contain_text("apple mail privacy protection")
    expect(timeline.locator("li.machine")).to_contain_text("Machine, not scored")
    check_page(page)

    # People only: the machine hit goes (the select applies itself; the button without JS).
    page.get_by_label("Show", exact=True).select_option("people")
    page.wait_for_url("**hits=people**")
    expect(page.locator("#timeline li.machine")).to_have_count(0)
    expect(page.locator("#timeline").get_by_text("page.viewed")).to_be_visible()
