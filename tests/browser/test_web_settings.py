"""Journey: an admin invites a user, who sets a password from the link and signs in; the
admin creates an API key and sees it once. On a desktop and a phone."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.web_support import LiveApp, check_page, on_desktop_and_phone, open_signed_in


@on_desktop_and_phone
def test_an_admin_creates_a_user_and_an_api_key(
    browser: Any, live_app: LiveApp, viewport: dict[str, int]
) -> None:
    admin = open_signed_in(browser, live_app, "admin", viewport=viewport)
    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    expect(admin.get_by_role("heading", name="Settings", exact=True)).to_be_visible()
    check_page(admin)

    admin.get_by_role("navigation", name="Settings").get_by_role("link", name="Users").click()
    admin.get_by_label("Email").fill("kim@brightpath.example")
    admin.get_by_label("Name").fill("Kim Lee")
    admin.get_by_label("Role").select_option("viewer")
    check_page(admin)
    admin.get_by_role("button", name="Create the user").click()
    expect(admin.get_by_role("heading", name="The user is created")).to_be_visible()
    check_page(admin)
    link = admin.get_by_role("textbox", name="Set-password link").input_value()
    assert "/password/set/" in link

    # The new person, in a browser of their own, sets a password and signs in.
    guest = live_app.new_context(browser, viewport=viewport)
    kim = guest.new_page()
    kim.goto(link.replace("http://nurture.test", live_app.url))
    kim.get_by_label("New password", exact=True).fill("a long and winding road 42")
    kim.get_by_label("Repeat the new password").fill("a long and winding road 42")
    check_page(kim)
    kim.get_by_role("button", name="Set the password").click()
    kim.wait_for_url("**/login")
    kim.get_by_label("Email").fill("kim@brightpath.example")
    kim.get_by_label("Password").fill("a long and winding road 42")
    kim.get_by_role("button", name="Sign in").click()
    kim.wait_for_url(lambda url: "/login" not in url)
    expect(kim.get_by_role("link", name="Kim Lee")).to_be_visible()
    guest.close()

    admin.get_by_role("navigation", name="Settings").get_by_role("link", name="API keys").click()
    admin.get_by_label("Name").fill("zapier")
    admin.get_by_role("button", name="Create the key").click()
    expect(admin.get_by_role("heading", name="The key zapier is created")).to_be_visible()
    check_page(admin)
    key = admin.get_by_role("textbox", name="API key").input_value()
    assert key.startswith("nrt_")
    admin.get_by_role("link", name="Back to the API keys").click()
    expect(admin.get_by_role("cell", name="zapier")).to_be_visible()
    assert key not in admin.content()
    check_page(admin)
    admin.context.close()


@on_desktop_and_phone
def test_every_settings_page_is_accessible_and_fits(
    browser: Any, live_app: LiveApp, viewport: dict[str, int]
) -> None:
    admin = open_signed_in(browser, live_app, "admin", viewport=viewport)
    admin.goto("/settings/brand")
    admin.get_by_label("Primary colour").fill("#0a3d62")
    admin.get_by_role("button", name="Save the brand").click()
    expect(admin.get_by_text("The brand is saved.")).to_be_visible()
    check_page(admin)
    admin.get_by_label("Primary colour").fill("#ffee00")
    admin.get_by_role("button", name="Save the brand").click()
    expect(admin.get_by_text("contrast of 1.2:1")).to_be_visible()
    check_page(admin)
    for path in (
        "/settings/sending",
        "/settings/sending/suppressions?q=a",
        "/settings/webhooks",
        "/settings/audit",
        "/settings/users/1",
    ):
        admin.goto(path)
        check_page(admin)
    admin.context.close()
