"""Screenshots of the web app's main pages for docs/web.md, taken from a fresh demo.

    .venv/bin/python scripts/web_screenshots.py [--out docs/web/img] [--weeks 4]

Runs the demo (as ``nurture demo --no-serve`` does) in a temporary folder, serves its app on
a free port of 127.0.0.1, signs in as the role each page is for, in Debian's chromium
(Playwright), and saves one PNG per page at desktop width and a few at phone width. Pages
the app does not serve are skipped and named. Detail pages (a campaign, a lead, …) are
found by following the first matching link of their list page.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from nurture.demo import DemoLogin, create_demo_users, demo_settings, run_demo  # noqa: E402
from nurture.platform.config import Settings  # noqa: E402
from nurture.platform.db import utcnow  # noqa: E402
from nurture.platform.runtime import Runtime  # noqa: E402
from nurture.web import create_app  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 800}


@dataclass(frozen=True)
class Shot:
    """One page to photograph: its file name, the role that sees it, and where it is (a
    path, or a list page and the pattern of the first link to follow from it)."""

    name: str
    role: str
    path: str
    follow: str | None = None
    phone: bool = False
    # The whole page rather than the first screen; in the dark colour scheme.
    full: bool = False
    dark: bool = False


SHOTS = (
    Shot("home", "marketer", "/", phone=True),
    Shot("campaigns", "marketer", "/campaigns"),
    Shot("campaign", "marketer", "/campaigns", follow=r"^/campaigns/[\w-]+$", phone=True),
    Shot("authoring", "marketer", "/authoring"),
    Shot("editor", "marketer", "/authoring", follow=r"^/authoring/campaigns/[\w-]+$"),
    Shot("template-editor", "marketer", "/authoring", follow=r"^/authoring/templates/[\w-]+$"),
    Shot("leads", "marketer", "/leads", phone=True),
    Shot("lead", "marketer", "/leads", follow=r"^/leads/\d+$", phone=True),
    Shot("accounts", "marketer", "/accounts"),
    Shot("account", "marketer", "/accounts", follow=r"^/accounts/\d+$"),
    Shot("import", "marketer", "/import"),
    Shot("sales-inbox", "sales", "/sales", phone=True),
    Shot("sales-handoff", "sales", "/sales", follow=r"^/sales/handoffs/\d+$"),
    Shot("sales-team", "sales-manager", "/sales/team"),
    Shot("reports", "marketer", "/reports", phone=True, full=True),
    Shot("reports-dark", "marketer", "/reports", dark=True),
    Shot("settings", "admin", "/settings"),
    Shot("settings-users", "admin", "/settings/users"),
    Shot("settings-sending", "admin", "/settings/sending"),
)


@contextmanager
def served(settings: Settings) -> Iterator[str]:
    """The app on a free port of 127.0.0.1 while the block runs; yields its base URL."""
    app = create_app({"NURTURE_SETTINGS": settings})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        app.extensions["nurture"].close()


def sign_in(page: Page, email: str, password: str) -> None:
    """Through the sign-in form, as a person would."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def target_of(page: Page, shot: Shot) -> str | None:
    """The path to photograph, or None when the app does not serve it."""
    response = page.goto(shot.path)
    if response is None or response.status != 200:
        return None
    if shot.follow is None:
        return shot.path
    pattern = re.compile(shot.follow)
    for href in page.eval_on_selector_all("main a[href]", "links => links.map(a => a.pathname)"):
        if pattern.match(href):
            return str(href)
    return None


def photograph(
    browser: object, base: str, logins: dict[str, str], password: str, out: Path
) -> None:
    """Every shot of :data:`SHOTS` into ``out``; prints what was skipped."""
    for viewport, suffix in ((DESKTOP, ""), (PHONE, "-phone")):
        contexts = {}
        for shot in SHOTS:
            if suffix and not shot.phone:
                continue
            if shot.role not in contexts:
                context = browser.new_context(viewport=viewport, base_url=base)  # type: ignore[attr-defined]
                page = context.new_page()
                sign_in(page, logins[shot.role], password)
                contexts[shot.role] = page
            page = contexts[shot.role]
            path = target_of(page, shot)
            if path is None:
                print(f"skipped {shot.name}{suffix}: not served, or nothing to follow")
                continue
            page.emulate_media(color_scheme="dark" if shot.dark else "light")
            page.goto(path)
            file = out / f"{shot.name}{suffix}.png"
            page.screenshot(path=str(file), full_page=shot.full)
            print(f"{file.relative_to(ROOT) if file.is_relative_to(ROOT) else file}  ← {path}")
        for page in contexts.values():
            page.context.close()


def main() -> None:
    """Build the demo, serve it, photograph its pages."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "web" / "img")
    parser.add_argument("--weeks", type=int, default=4)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as folder:
        base_settings = Settings.from_env({}, instance_path=Path(folder))
        settings = demo_settings(base_settings)
        run_demo(settings, weeks=args.weeks, today=utcnow())
        runtime = Runtime.from_settings(settings)
        try:
            logins_list, password = create_demo_users(runtime, now=utcnow())
        finally:
            runtime.close()
        logins = {login.role: login.email for login in logins_list}
        _check_roles(logins_list)
        with served(settings) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM)
            try:
                photograph(browser, base, logins, password, args.out)
            finally:
                browser.close()


def _check_roles(logins: list[DemoLogin]) -> None:
    needed = {shot.role for shot in SHOTS}
    missing = needed - {login.role for login in logins}
    if missing:
        sys.exit(f"the demo has no account for: {', '.join(sorted(missing))}")


if __name__ == "__main__":
    main()
