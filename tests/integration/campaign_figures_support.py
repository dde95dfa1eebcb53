"""A campaign with real history for the campaign pages' tests: the fixture campaign
``test-drip`` synced, leads enrolled and sent to by the engine, opens and clicks made
through the tracking endpoints (a person's and a machine's), an unsubscribe through its
link, and the engine's next pass that exits the unsubscribed lead.

What it builds, two hours before ``now``:

- ada (cold): welcome sent; opened by a person (Chrome) and a link clicked;
- bob (cold): welcome sent; opened by a machine only (a HEAD request); then unsubscribes,
  and the next tick exits him at the cold track's ``pause`` step ("unsubscribed");
- cat (warm): welcome and case sent (two steps of the warm track); nothing opened;
- dan (cold, no consent): refused at enrolment (not enrolled).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import select

from nurture.models import Lead, Message, OutboxMessage
from nurture.platform.db import transaction, utcnow
from nurture.platform.runtime import Runtime
from nurture.privacy.unsubscribe import unsubscribe_by_token
from nurture.sending.engine import Engine
from nurture.tracking.processing import process_pending_hits
from nurture.tracking.tokens import MessageSigner
from tests.integration.engine_support import add_lead, enrol, sync_fixture_campaigns

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
_CLICK = re.compile(rb"/t/c/[A-Za-z0-9_.\-=]+")


@dataclass(frozen=True)
class Story:
    start: datetime
    ada: int
    bob: int
    cat: int
    dan: int


def _message(runtime: Runtime, lead_id: int, step_key: str) -> Message:
    with transaction(runtime.sessions) as session:
        message = session.scalar(
            select(Message).where(Message.lead_id == lead_id, Message.step_key == step_key)
        )
        assert message is not None and message.status == "sent", step_key
        session.expunge(message)
        return message


def _click_path(runtime: Runtime, message_id: int) -> str:
    with transaction(runtime.sessions) as session:
        raw = session.scalar(
            select(OutboxMessage.raw).where(OutboxMessage.message_id == message_id)
        )
    assert raw is not None
    # Quoted-printable soft line breaks ("=\r\n") may split a long URL: join them first.
    links = _CLICK.findall(raw.replace(b"=\r\n", b"").replace(b"=3D", b"="))
    assert links, "the email has no tracked link"
    return links[-1].decode()


def build_story(app: Flask, now: datetime | None = None) -> Story:
    """The campaign history described above; returns the leads' ids."""
    runtime: Runtime = app.extensions["nurture"]
    now = now or utcnow()
    start = now - timedelta(hours=2)
    report = sync_fixture_campaigns(runtime, now=start - timedelta(minutes=5))
    assert report.ok, report.lines()
    ada = add_lead(runtime, "ada@acme.example")
    bob = add_lead(runtime, "bob@acme.example")
    cat = add_lead(runtime, "cat@acme.example", temperature="warm")
    dan = add_lead(runtime, "dan@acme.example", consent_status="unknown", lawful_basis=None)
    for lead_id in (ada, bob, cat):
        enrol(runtime, lead_id, now=start)
    engine = Engine(runtime)
    try:
        engine.tick(start)
        engine.tick(start + timedelta(minutes=2))  # cat's second warm email
    finally:
        engine.close()

    client = app.test_client()
    secret = runtime.settings.secret_key
    ada_welcome = _message(runtime, ada, "cold/welcome")
    bob_welcome = _message(runtime, bob, "cold/welcome")
    pixel = f"/t/o/{MessageSigner(secret).sign(ada_welcome.token)}.gif"
    assert client.get(pixel, headers={"User-Agent": CHROME}).status_code == 200
    assert client.get(pixel, headers={"User-Agent": CHROME}).status_code == 200  # twice: 1 open
    click = _click_path(runtime, ada_welcome.id)
    assert client.get(click, headers={"User-Agent": CHROME}).status_code in (302, 303)
    machine = f"/t/o/{MessageSigner(secret).sign(bob_welcome.token)}.gif"
    assert client.head(machine, headers={"User-Agent": CHROME}).status_code == 200
    process_pending_hits(runtime, utcnow())

    with transaction(runtime.sessions) as session:
        assert unsubscribe_by_token(
            session, bob_welcome.token, source="link", now=start + timedelta(minutes=30)
        )
    engine = Engine(runtime)
    try:
        engine.tick(start + timedelta(hours=1))  # bob is no longer mailable: exits
    finally:
        engine.close()
    with transaction(runtime.sessions) as session:
        assert session.get(Lead, dan) is not None
    return Story(start, ada, bob, cat, dan)
