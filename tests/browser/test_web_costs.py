"""Journey: a marketer adds a cost, is told what is wrong with a bad amount, edits the cost
and deletes it, beside the costs file's entry (read-only, with its line). On a desktop and
a phone."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from nurture.analytics.costs import sync_costs_file
from nurture.platform.db import utcnow
from tests.browser.web_support import LiveApp, check_page, on_desktop_and_phone, open_signed_in
from tests.integration.engine_support import sync_fixture_campaigns

FILE = "currency: EUR\ncosts:\n  - { month: 2026-01, source: webinar, amount: 600 }\n"


@on_desktop_and_phone
def test_a_marketer_adds_edits_and_deletes_a_cost(
    browser: Any, live_app: LiveApp, viewport: dict[str, int], tmp_path: Any
) -> None:
    sync_fixture_campaigns(live_app.runtime)
    path = tmp_path / "costs.yaml"
    path.write_text(FILE, encoding="utf-8")
    assert sync_costs_file(live_app.runtime, now=utcnow(), path=path).ok

    page = open_signed_in(browser, live_app, "marketer", viewport=viewport)
    page.goto("/reports/costs")
    expect(page.get_by_role("heading", name="Costs", exact=True)).to_be_visible()
    expect(page.get_by_text(f"{path.resolve()}:3")).to_be_visible()
    check_page(page)

    # A negative amount: the form says why, beside the field.
    page.get_by_label("Month (YYYY-MM)").fill("2026-02")
    page.get_by_label("Source", exact=True).fill("ads")
    page.get_by_label("Amount").fill("-5")
    page.get_by_role("button", name="Save the cost").click()
    expect(page.get_by_text("the amount -5 is negative")).to_be_visible()
    expect(page.get_by_label("Amount")).to_have_attribute("aria-invalid", "true")
    check_page(page)

    page.get_by_label("Amount").fill("120.50")
    page.get_by_label("Campaign").select_option("test-drip")
    page.get_by_label("Note").fill("Spring ads")
    page.get_by_role("button", name="Save the cost").click()
    expect(page.get_by_text("The cost was saved.")).to_be_visible()
    expect(page.get_by_role("cell", name="120.50")).to_be_visible()
    check_page(page)

    page.get_by_role("link", name="Edit 2026-02 ads test-drip").click()
    expect(page.get_by_role("heading", name="Edit a cost")).to_be_visible()
    check_page(page)
    page.get_by_label("Amount").fill("150")
    page.get_by_role("button", name="Save the cost").click()
    expect(page.get_by_role("cell", name="150.00")).to_be_visible()

    page.get_by_role("button", name="Delete 2026-02 ads test-drip").click()
    expect(page.get_by_text("The cost was deleted.")).to_be_visible()
    expect(page.get_by_role("cell", name="150.00")).to_have_count(0)
    check_page(page)
