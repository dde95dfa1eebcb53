"""The website snippet in a real browser: Debian's chromium, driven by Playwright.

The Nurture app runs on a real HTTP server (werkzeug) with the hit processor thread that
``nurture serve`` starts; a second server plays the marketer's website, under its own name
(``www.brightpath.test``, mapped to 127.0.0.1 by the browser) and port, so the snippet works
cross-site as it does in production. Its pages load the snippet as docs/tracking.md tells
marketers to. Every outcome is read back from the database.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from nurture.models import Event, Lead, Message, TrackingHit
from nurture.models.tracking import Visitor
from nurture.platform.config import Settings
from nurture.platform.db import transaction, utcnow
from nurture.platform.runtime import Runtime
from nurture.rendering.compiled import RenderedEmail
from nurture.tracking.links import LinkSigner, track_links
from nurture.tracking.processing import HitProcessor
from nurture.tracking.tokens import new_message_token
from nurture.web import create_app

SITE_HOST = "www.brightpath.test"
T = TypeVar("T")

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title><link rel="icon" href="data:,">
<script>window.nurture = {{ cookieDomain: "brightpath.test" }};</script>
<script async src="{app}/t/snippet.js"></script>
</head><body><h1>{title}</h1>{body}</body></html>
"""
PAGES = {
    "index.html": ("Brightpath — Home", '<a id="pricing" href="/pricing.html">Pricing</a>'),
    "pricing.html": ("Brightpath — Pricing", '<a href="/contact.html">Talk to sales</a>'),
    "customers/ferrow.html": ("Ferrow cut reporting time by 80%", "<p>Case study</p>"),
    "contact.html": (
        "Brightpath — Contact sales",
        # As form builders write them: a hidden field named "id" (which shadows form.id
        # in the DOM) and a text input named "Email".
        '<form name="contact-sales" method="post" action="/thanks.html">'
        '<input type="hidden" name="id" value="4711">'
        '<input type="text" name="Email" aria-label="Work email">'
        '<input name="company" aria-label="Company">'
        '<button type="submit">Send</button></form>',
    ),
    "thanks.html": ("Brightpath — Thank you", "<p>We will be in touch.</p>"),
    "trial.html": (
        "Brightpath — Start a trial",
        # Sent by the page's own script: form.submit() fires no submit event. The
        # newsletter form validates in its submit handler, then calls form.submit().
        '<form id="trial" method="post" action="/thanks.html">'
        '<input type="email" name="work_email" aria-label="Work email"></form>'
        '<button id="start" onclick="document.getElementById(\'trial\').submit()">'
        "Start</button>"
        '<form name="newsletter" method="post" action="/thanks.html"'
        ' onsubmit="event.preventDefault(); this.submit()">'
        '<input type="email" name="email" aria-label="Newsletter email">'
        '<button type="submit">Subscribe</button></form>',
    ),
}


class _SiteHandler(SimpleHTTPRequestHandler):
    """The marketer's static site; a POSTed form is answered with a redirect (303)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(303)
        self.send_header("Location", self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Stack:
    runtime: Runtime
    app_url: str
    site_url: str


@pytest.fixture
def stack(settings: Settings, tmp_path: Path) -> Iterator[Stack]:
    """The Nurture app with its hit processor, and the marketer's website, both serving."""
    with contextlib.ExitStack() as cleanup:
        # The app's address is its public URL (the snippet posts there), so the server is
        # bound first and given the app once the app exists.
        app_server = make_server("127.0.0.1", 0, app=None, threaded=True)  # type: ignore[arg-type]
        cleanup.callback(app_server.server_close)
        app_url = f"http://127.0.0.1:{app_server.server_port}"
        site_root = tmp_path / "site"
        site_server = ThreadingHTTPServer(
            ("127.0.0.1", 0), partial(_SiteHandler, directory=str(site_root))
        )
        cleanup.callback(site_server.server_close)
        site_url = f"http://{SITE_HOST}:{site_server.server_address[1]}"
        for name, (title, body) in PAGES.items():
            path = site_root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(_PAGE.format(title=title, body=body, app=app_url), encoding="utf-8")

        settings = dataclasses.replace(
            settings, public_url=app_url, site_domains=("brightpath.test",)
        )
        app = create_app({"NURTURE_SETTINGS": settings, "TESTING": True})
        runtime: Runtime = app.extensions["nurture"]
        cleanup.callback(runtime.close)
        # As `nurture serve` does: captured hits become events at once, in this process.
        processor = HitProcessor(runtime).start()
        cleanup.callback(processor.stop)
        app.extensions["nurture.hit_processor"] = processor
        app_server.app = app
        for server in (app_server, site_server):
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
            thread.start()
            cleanup.callback(thread.join, 5)
            cleanup.callback(server.shutdown)
        yield Stack(runtime=runtime, app_url=app_url, site_url=site_url)


@pytest.fixture
def human(browser: Any) -> Iterator[Callable[[], Any]]:
    """New browser contexts (one per visitor) with a desktop Chrome user agent.

    Headless chromium says "HeadlessChrome", which the machine rules rightly flag as
    automation; the people these tests play use an ordinary browser.
    """
    probe = browser.new_page()
    agent = probe.evaluate("navigator.userAgent").replace("HeadlessChrome", "Chrome")
    probe.close()
    contexts: list[Any] = []

    problems: list[str] = []

    def new_visitor() -> Any:
        context = browser.new_context(user_agent=agent)
        context.set_default_timeout(5000)
        contexts.append(context)
        page = context.new_page()
        # The snippet must never break the marketer's page or fill its console with errors
        # (a refused CORS request, a blocked cookie, an exception).
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on(
            "console",
            lambda message: (
                problems.append(f"console {message.type}: {message.text}")
                if message.type in ("error", "warning")
                else None
            ),
        )
        return page

    yield new_visitor
    for context in contexts:
        context.close()
    assert problems == []


# ---------------------------------------------------------------- helpers


def wait_until(check: Callable[[], T | None], what: str, timeout: float = 5.0) -> T:
    """Poll ``check`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def web_events(runtime: Runtime, **where: Any) -> list[Event]:
    with transaction(runtime.sessions) as session:
        query = select(Event).where(Event.type.in_(("page.viewed", "form.submitted")))
        for name, value in where.items():
            query = query.where(getattr(Event, name) == value)
        return list(session.scalars(query.order_by(Event.occurred_at, Event.id)))


def events_of(runtime: Runtime, type_: str, count: int, **where: Any) -> list[Event]:
    """Wait for exactly ``count`` events of ``type_`` matching ``where``."""

    def check() -> list[Event] | None:
        with transaction(runtime.sessions) as session:
            query = select(Event).where(Event.type == type_)
            for name, value in where.items():
                query = query.where(getattr(Event, name) == value)
            found = list(session.scalars(query.order_by(Event.occurred_at, Event.id)))
        return found if len(found) >= count else None

    found = wait_until(check, f"{count} {type_} event(s) with {where}")
    assert len(found) == count, found
    return found


def unprocessed_hits(runtime: Runtime) -> int:
    with transaction(runtime.sessions) as session:
        return len(
            session.scalars(select(TrackingHit.id).where(TrackingHit.processed.is_(False))).all()
        )


def add_lead(runtime: Runtime, email: str) -> int:
    with transaction(runtime.sessions) as session:
        lead = Lead(email=email, consent_status="granted")
        session.add(lead)
        session.flush()
        return lead.id


def send_email(runtime: Runtime, lead_id: int, links: list[str], public_url: str) -> list[str]:
    """A message sent an hour ago to the lead, its links rewritten as the engine does;
    returns the click URLs in the order of ``links``."""
    token = new_message_token()
    with transaction(runtime.sessions) as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None
        session.add(
            Message(
                lead_id=lead_id,
                kind="campaign",
                template="t",
                to_address=lead.email,
                message_id=f"{token}@test",
                token=token,
                status="sent",
                sent_at=utcnow() - timedelta(hours=1),
            )
        )
    html = "<html><body>" + "".join(f'<a href="{u}">x</a>' for u in links) + "</body></html>"
    rendered = track_links(
        RenderedEmail("t", "v", "s", html, ""),
        token=token,
        signer=LinkSigner(runtime.settings.secret_key),
        public_url=public_url,
        utm={"source": "nurture", "medium": "email"},
    )
    # The first rewritten link is the hidden honeypot; the rest follow ``links``.
    return [part.split('"')[0] for part in rendered.html.split('href="')[2:]]


def visitor(runtime: Runtime, visitor_id: str) -> Visitor | None:
    with transaction(runtime.sessions) as session:
        return session.get(Visitor, visitor_id)


# ---------------------------------------------------------------- the tests


def test_anonymous_visitor_page_views_carry_url_title_referrer_and_one_visitor_id(
    stack: Stack, human: Callable[[], Any]
) -> None:
    page = human()
    page.goto(f"{stack.site_url}/index.html")
    vid = page.evaluate("window.nurture.visitorId")
    events_of(stack.runtime, "page.viewed", 1, anonymous_id=vid)

    page.click("#pricing")
    page.wait_for_url("**/pricing.html")
    assert page.evaluate("window.nurture.visitorId") == vid

    home, pricing = events_of(stack.runtime, "page.viewed", 2, anonymous_id=vid)
    # Back to the home page: restored from the back/forward cache, no script runs again,
    # and no load event fires (so wait for the navigation to commit only).
    page.go_back(wait_until="commit")
    again = events_of(stack.runtime, "page.viewed", 3, anonymous_id=vid)[2]
    assert again.properties["url"] == f"{stack.site_url}/index.html"
    assert page.evaluate("performance.getEntriesByType('navigation')[0].type") == "navigate"
    assert home.lead_id is None and pricing.lead_id is None
    assert not home.is_machine and not pricing.is_machine, (home.machine_reasons,)
    assert home.properties == {"url": f"{stack.site_url}/index.html", "title": "Brightpath — Home"}
    assert pricing.properties == {
        "url": f"{stack.site_url}/pricing.html",
        "title": "Brightpath — Pricing",
        "referrer": f"{stack.site_url}/index.html",
    }
    # The id lives in a first-party cookie on the marketer's domain (cookieDomain), so it
    # survives page loads; Nurture's own origin sets no cookie at all.
    cookies = {c["name"]: c for c in page.context.cookies(stack.site_url)}
    assert cookies["nurture_vid"]["value"] == vid
    assert cookies["nurture_vid"]["domain"] == ".brightpath.test"
    assert cookies["nurture_vid"]["sameSite"] == "Lax"
    assert page.context.cookies(stack.app_url) == []
    anonymous = visitor(stack.runtime, vid)
    assert anonymous is None or anonymous.lead_id is None


def test_tracked_email_click_identifies_the_visitor_and_merges_its_history(
    stack: Stack, human: Callable[[], Any]
) -> None:
    lead_id = add_lead(stack.runtime, "ada@acme.example")
    (click_url,) = send_email(
        stack.runtime, lead_id, [f"{stack.site_url}/customers/ferrow.html"], stack.app_url
    )
    page = human()
    # Anonymous browsing first (a visit before the email was opened)...
    page.goto(f"{stack.site_url}/pricing.html")
    vid = page.evaluate("window.nurture.visitorId")
    events_of(stack.runtime, "page.viewed", 1, anonymous_id=vid, lead_id=None)

    # ... then the click in the email: the redirect lands on the site with nv=.
    landing = page.goto(click_url)
    assert landing.request.redirected_from is not None
    redirect = landing.request.redirected_from.response()
    assert redirect.status == 302
    assert "nv=" in redirect.headers["location"]
    assert page.evaluate("window.nurture.visitorId") == vid
    # The snippet took the identity parameter out of the address bar; UTM stays.
    query = parse_qs(urlsplit(page.url).query)
    assert "nv" not in query
    assert query["utm_source"] == ["nurture"]

    (clicked,) = events_of(stack.runtime, "email.clicked", 1, lead_id=lead_id)
    assert not clicked.is_machine, clicked.machine_reasons
    pages = events_of(stack.runtime, "page.viewed", 2, anonymous_id=vid, lead_id=lead_id)
    assert [urlsplit(e.properties["url"]).path for e in pages] == [
        "/pricing.html",
        "/customers/ferrow.html",
    ]
    assert "nv=" not in pages[1].properties["url"]
    assert "referrer" not in pages[1].properties  # the redirect says no-referrer
    assert all(not e.is_machine for e in pages)
    identified = visitor(stack.runtime, vid)
    assert identified is not None and identified.lead_id == lead_id
    assert web_events(stack.runtime, lead_id=None) == []
    wait_until(lambda: unprocessed_hits(stack.runtime) == 0, "every hit processed")


def test_form_submission_identifies_the_visitor_by_its_email_field(
    stack: Stack, human: Callable[[], Any]
) -> None:
    lead_id = add_lead(stack.runtime, "bob@acme.example")
    page = human()
    page.goto(f"{stack.site_url}/contact.html")
    vid = page.evaluate("window.nurture.visitorId")
    events_of(stack.runtime, "page.viewed", 1, anonymous_id=vid, lead_id=None)

    page.fill("input[name=Email]", "Bob@Acme.example")
    page.fill("input[name=company]", "Zephyr Widgets")
    page.click("button[type=submit]")
    page.wait_for_url("**/thanks.html")

    (form,) = events_of(stack.runtime, "form.submitted", 1, lead_id=lead_id)
    assert form.anonymous_id == vid
    assert not form.is_machine, form.machine_reasons
    assert form.properties == {
        "url": f"{stack.site_url}/contact.html",
        "form": "contact-sales",
    }
    pages = events_of(stack.runtime, "page.viewed", 2, anonymous_id=vid, lead_id=lead_id)
    assert [urlsplit(e.properties["url"]).path for e in pages] == ["/contact.html", "/thanks.html"]
    identified = visitor(stack.runtime, vid)
    assert identified is not None and identified.lead_id == lead_id
    # Only the email field is read: the company the visitor typed never left the page.
    with transaction(stack.runtime.sessions) as session:
        payloads = [h.payload for h in session.scalars(select(TrackingHit))]
    assert not any("Zephyr" in str(p) for p in payloads if p)


@pytest.mark.parametrize(
    ("fill", "press", "form_name"),
    [
        ("input[name=work_email]", "#start", "trial"),
        ("input[name=email]", "form[name=newsletter] button", "newsletter"),
    ],
    ids=["script-calls-submit", "handler-then-submit"],
)
def test_a_form_sent_by_script_is_recorded_once(
    stack: Stack, human: Callable[[], Any], fill: str, press: str, form_name: str
) -> None:
    lead_id = add_lead(stack.runtime, "carol@acme.example")
    page = human()
    page.goto(f"{stack.site_url}/trial.html")
    vid = page.evaluate("window.nurture.visitorId")
    page.fill(fill, "carol@acme.example")
    page.click(press)
    page.wait_for_url("**/thanks.html")

    events_of(stack.runtime, "page.viewed", 2, anonymous_id=vid, lead_id=lead_id)
    wait_until(lambda: unprocessed_hits(stack.runtime) == 0, "every hit processed")
    (form,) = events_of(stack.runtime, "form.submitted", 1, lead_id=lead_id)
    assert form.properties["form"] == form_name
