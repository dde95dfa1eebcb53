"""Fixtures for the browser tests: Debian's chromium driven by Playwright (sync API), and
the web app served for one test (the helpers the journeys share are in ``web_support``).

The browser is the one the distribution ships (``apt-get install chromium``), never a build
downloaded by Playwright. Where it is missing the tests are skipped with the command to
install it, unless ``NURTURE_REQUIRE_BROWSER=1`` (CI) makes that a failure.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from nurture.platform.config import Settings
from nurture.web import create_app
from tests.browser.web_support import LiveApp

CHROMIUM = Path(os.environ.get("NURTURE_CHROMIUM", "/usr/bin/chromium"))
INSTALL_HINT = "install Debian's browser with `sudo apt-get install -y chromium`"


def _unavailable(reason: str) -> None:
    # Like the PostgreSQL pass: on a developer machine without the browser the tests say
    # so and are skipped, so `make test` works on a fresh machine; CI (.ci/run) installs
    # chromium and sets NURTURE_REQUIRE_BROWSER=1, where a missing browser is a failure.
    if os.environ.get("NURTURE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}: {INSTALL_HINT}", pytrace=False)
    pytest.skip(f"{reason}: {INSTALL_HINT} to run the browser tests")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless chromium for the session; each test opens its own contexts."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"no chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            # The marketer's website is served under its own name (a different site from
            # the Nurture instance, as in production); both resolve to this machine.
            args=["--host-resolver-rules=MAP *.brightpath.test 127.0.0.1"],
            # Playwright turns the back/forward cache off; people's browsers have it on, and
            # a page restored from it runs no script (the snippet must still count it).
            ignore_default_args=["--disable-back-forward-cache"],
        )
        try:
            yield browser
        finally:
            browser.close()


# ------------------------------------------------------------ the web app in a browser


@pytest.fixture
def live_app(settings: Settings) -> Iterator[LiveApp]:
    """The web app on a free port of 127.0.0.1 for one test."""
    app = create_app({"NURTURE_SETTINGS": settings})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    live = LiveApp(f"http://127.0.0.1:{server.server_port}", app)
    try:
        yield live
    finally:
        for context in live.contexts:
            context.close()
        server.shutdown()
        thread.join()
        # Request threads are daemons the server does not join: one still answering the
        # page's last request holds a pooled connection, which disposing the pool would
        # leave open (a ResourceWarning when it is collected). Let them finish first.
        runtime = app.extensions["nurture"]
        checked_out = getattr(runtime.engine.pool, "checkedout", lambda: 0)
        deadline = time.monotonic() + 10
        while checked_out() and time.monotonic() < deadline:
            time.sleep(0.02)
        runtime.close()
