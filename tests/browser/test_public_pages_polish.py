"""A Polish lead follows the links of an email in a real browser: the unsubscribe page and
the preference centre are in Polish, say so (``<html lang="pl">``), pass the accessibility
checks and fit a phone, and the Polish buttons work."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.web_support import LiveApp, check_page, on_desktop_and_phone
from tests.integration.engine_support import T0, add_lead
from tests.integration.privacy_support import (
    enrol_in_both,
    first_message,
    lead,
    signed_path,
    sync_topic_campaigns,
    tick,
)


@on_desktop_and_phone
def test_a_polish_lead_unsubscribes_in_polish(
    browser: Any, live_app: LiveApp, viewport: dict[str, int]
) -> None:
    runtime = live_app.runtime
    sync_topic_campaigns(runtime)
    lead_id = add_lead(runtime, "jan.kowalski@firma.example", locale="pl")
    enrol_in_both(runtime, lead_id)
    tick(runtime, T0)
    path = signed_path(runtime, first_message(runtime, lead_id))
    # A browser set to English: the lead's own language still wins.
    context = live_app.new_context(browser, viewport=viewport, locale="en-US")
    page = context.new_page()

    page.goto(path + "/preferences")
    assert page.locator("html").get_attribute("lang") == "pl"
    expect(page.get_by_role("heading", name="Twoje ustawienia wiadomości")).to_be_visible()
    check_page(page)

    page.goto(path)
    expect(page.get_by_role("heading", name="Wypisać Cię z wiadomości od")).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="Wypisz mnie").click()

    expect(page.get_by_role("heading", name="Wypisano Cię")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "pl"
    assert lead(runtime, lead_id).unsubscribed_at is not None
