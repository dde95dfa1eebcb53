"""Journey: a sales manager books a renewal on an account's page, after a mistake the form
points out."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.web_support import LiveApp, check_page, on_desktop_and_phone, open_signed_in
from tests.integration.reports.test_accounts import build


@on_desktop_and_phone
def test_booking_revenue_on_an_account(
    browser: Any, live_app: LiveApp, viewport: dict[str, int]
) -> None:
    accounts = build(live_app.runtime)
    page = open_signed_in(browser, live_app, "sales-manager", viewport=viewport)
    page.goto(f"/accounts/{accounts['gamma.org']}")
    expect(page.get_by_role("heading", name="Revenue after the won deal")).to_be_visible()
    expect(page.get_by_text("No revenue booked after the won deal yet.")).to_be_visible()
    check_page(page)

    page.get_by_label("Amount").fill("-40")
    page.get_by_label("Currency").fill("EUR")
    page.get_by_label("Booked on").fill("2026-03-01")
    page.get_by_label("Kind").select_option("renewal")
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.get_by_text("The amount must be above zero.")).to_be_visible()
    check_page(page)

    page.get_by_label("Amount").fill("1200.50")
    page.get_by_label("Note (optional)").fill("invoice 114")
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.get_by_text("Booked 1,200.50 EUR.")).to_be_visible()
    expect(page.get_by_role("cell", name="invoice 114")).to_be_visible()
    check_page(page)
