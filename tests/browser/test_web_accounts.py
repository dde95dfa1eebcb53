"""Journey: someone in sales finds an account and reads its buying committee."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.web_support import LiveApp, check_page, on_desktop_and_phone, open_signed_in
from tests.integration.reports.test_accounts import build


@on_desktop_and_phone
def test_finding_an_account_and_reading_its_committee(
    browser: Any, live_app: LiveApp, viewport: dict[str, int]
) -> None:
    build(live_app.runtime)
    page = open_signed_in(browser, live_app, "sales-manager", viewport=viewport)
    page.goto("/accounts")
    expect(page.get_by_role("heading", name="Accounts")).to_be_visible()
    check_page(page)

    page.get_by_label("Search name or domain").fill("acme")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("link", name="Beta")).to_have_count(0)
    page.get_by_role("link", name="Acme").click()
    expect(page.get_by_role("heading", name="Buying committee")).to_be_visible()
    expect(page.get_by_text("missing: find someone").first).to_be_visible()
    check_page(page)
