"""The dark colour scheme: every page an admin opens without arguments passes axe-core's
checks (contrast included) when the reader's system asks for dark."""

from __future__ import annotations

from typing import Any

from flask import url_for

from tests.browser.web_support import LiveApp, assert_accessible, open_signed_in

# Downloads and the brand's own assets are not pages.
NOT_PAGES = {"ui_settings.brand_css", "ui_settings.logo"}


def test_every_page_reads_in_the_dark_scheme(browser: Any, live_app: LiveApp) -> None:
    app = live_app.app
    with app.test_request_context():
        paths = sorted(
            url_for(rule.endpoint)
            for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("ui_")
            and rule.endpoint not in NOT_PAGES
            and "GET" in (rule.methods or ())
            and not rule.arguments
            and not rule.rule.endswith(".csv")
        )
    assert "/reports" in paths and "/leads" in paths
    page = open_signed_in(browser, live_app, "admin")
    page.emulate_media(color_scheme="dark")
    for path in paths:
        response = page.goto(path)
        assert response is not None
        if "text/html" not in (response.headers.get("content-type") or ""):
            continue
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(17, 22, 28)"
        assert_accessible(page)
