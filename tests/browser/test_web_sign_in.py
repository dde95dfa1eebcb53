"""Journey: signing in and out of the web app, on a desktop and a phone."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.web_support import (
    LiveApp,
    assert_accessible,
    check_page,
    on_desktop_and_phone,
    open_signed_in,
)


@on_desktop_and_phone
def test_a_marketer_signs_in_sees_the_overview_and_signs_out(
    browser: Any, live_app: LiveApp, viewport: dict[str, int]
) -> None:
    page = open_signed_in(browser, live_app, "marketer", viewport=viewport)

    expect(page.get_by_role("heading", name="At a glance")).to_be_visible()
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Home")
    ).to_be_visible()
    check_page(page)

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    # Signed out means out: the overview asks to sign in again.
    page.goto("/")
    assert "/login" in page.url


def test_the_sign_in_page_is_accessible_works_by_keyboard_and_refuses_a_wrong_password(
    browser: Any, live_app: LiveApp
) -> None:
    page = open_signed_in(browser, live_app, "viewer", email="viewer@example.com")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    assert_accessible(page)

    # Keyboard only: the skip link first, then the form's fields in order.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.get_by_label("Email").focus()
    page.keyboard.type("viewer@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type("not the password at all")
    page.keyboard.press("Enter")
    expect(page.get_by_text("The email or password is not right.")).to_be_visible()
    assert "/login" in page.url
