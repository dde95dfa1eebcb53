"""Helpers for the browser journeys: the app served over HTTP, the two screen sizes every
journey runs at, signing in through the form, and the checks every page passes (no serious
accessibility violation, no sideways scrolling)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from nurture.platform.runtime import Runtime
from tests.integration.web.ui_support import PASSWORD, make_user


@dataclass
class LiveApp:
    """The app served by a real (werkzeug, threaded) HTTP server on 127.0.0.1."""

    url: str
    app: Any
    # Browser contexts opened on this app, closed before the server stops so that no
    # keep-alive request is still running when the connection pool is released.
    contexts: list[Any] = field(default_factory=list)

    def new_context(self, browser: Any, **options: Any) -> Any:
        """A browser context on this app, closed when the app stops."""
        context = browser.new_context(base_url=self.url, **options)
        self.contexts.append(context)
        return context

    @property
    def runtime(self) -> Runtime:
        return self.app.extensions["nurture"]


DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
# Every journey runs on a desktop and on a phone: a page that works on one only is broken.
on_desktop_and_phone = pytest.mark.parametrize(
    "viewport", [DESKTOP, PHONE], ids=["desktop", "phone"]
)


def open_signed_in(
    browser: Any,
    live: LiveApp,
    role: str,
    *,
    viewport: dict[str, int] | None = None,
    email: str | None = None,
) -> Any:
    """A new browser page of a new account with ``role``, signed in through the form."""
    address = make_user(live.app, role, email)
    context = live.new_context(browser, viewport=viewport or DESKTOP)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def assert_accessible(page: Any) -> None:
    """axe-core finds no serious or critical violation on the page once it has loaded."""
    # Stylesheets and scripts first: contrast and scrolling boxes depend on them.
    page.wait_for_load_state("load")
    results = Axe().run(page)
    bad = [
        violation
        for violation in results.response["violations"]
        if violation.get("impact") in ("serious", "critical")
    ]
    details = "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] for node in v["nodes"][:5])
        for v in bad
    )
    assert not bad, f"accessibility violations on {page.url}:\n{details}"


def assert_fits(page: Any) -> None:
    """Nothing makes the page scroll sideways (tables scroll inside their own box)."""
    page.wait_for_load_state("load")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"{page.url} is {overflow}px wider than the viewport"


def check_page(page: Any) -> None:
    """The page as it is now is accessible and fits the screen."""
    assert_accessible(page)
    assert_fits(page)
