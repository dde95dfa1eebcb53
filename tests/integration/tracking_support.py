"""Helpers for the tracking tests: a lead with a sent message, its tracked links, hits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from nurture.models import Event, Lead, Message, TrackingHit
from nurture.platform.db import transaction, utcnow
from nurture.platform.runtime import Runtime
from nurture.rendering.compiled import RenderedEmail
from nurture.scoring import sync_scoring
from nurture.tracking.links import LinkSigner, track_links
from nurture.tracking.processing import process_pending_hits
from nurture.tracking.tokens import MessageSigner, new_message_token

SCORING_FILE = Path(__file__).parent.parent / "fixtures" / "tracking" / "scoring.yaml"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
LINKS = (
    "https://brightpath.example/pricing",
    "https://brightpath.example/customers/ferrow",
    "https://elsewhere.example/report.pdf",
)


@dataclass
class Sent:
    """A sent message and the URLs a recipient could hit."""

    lead_id: int
    message_id: int
    token: str
    pixel: str
    clicks: list[str]
    honeypot: str


def send_message(
    runtime: Runtime, email: str = "ada@acme.example", *, sent_ago: timedelta = timedelta(hours=1)
) -> Sent:
    """A lead and a message sent ``sent_ago``, with its links rewritten as the engine does."""
    token = new_message_token()
    with transaction(runtime.sessions) as session:
        lead = session.scalar(select(Lead).where(Lead.email == email))
        if lead is None:
            lead = Lead(email=email, consent_status="granted")
            session.add(lead)
            session.flush()
        message = Message(
            lead_id=lead.id,
            kind="campaign",
            template="t",
            to_address=email,
            message_id=f"{token}@test",
            token=token,
            status="sent",
            sent_at=utcnow() - sent_ago,
        )
        session.add(message)
        session.flush()
        ids = lead.id, message.id
    html = "<html><body>" + "".join(f'<a href="{u}">x</a>' for u in LINKS) + "</body></html>"
    secret = runtime.settings.secret_key
    rendered = track_links(
        RenderedEmail("t", "v", "s", html, ""),
        token=token,
        signer=LinkSigner(secret),
        public_url="",
    )
    paths = [part.split('"')[0] for part in rendered.html.split('href="')[1:]]
    honeypot, *clicks = paths
    return Sent(
        lead_id=ids[0],
        message_id=ids[1],
        token=token,
        pixel=f"/t/o/{MessageSigner(secret).sign(token)}.gif",
        clicks=clicks,
        honeypot=honeypot,
    )


def process(runtime: Runtime, now: datetime | None = None) -> int:
    return process_pending_hits(runtime, now or utcnow())


def hits(runtime: Runtime) -> list[TrackingHit]:
    with transaction(runtime.sessions) as session:
        return list(session.scalars(select(TrackingHit).order_by(TrackingHit.id)))


def events(runtime: Runtime, *types: str) -> list[Event]:
    with transaction(runtime.sessions) as session:
        query = select(Event).order_by(Event.id)
        if types:
            query = query.where(Event.type.in_(types))
        return list(session.scalars(query))


def count(runtime: Runtime, model: type) -> int:
    with transaction(runtime.sessions) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def lead(runtime: Runtime, lead_id: int) -> Lead:
    with transaction(runtime.sessions) as session:
        found = session.get(Lead, lead_id)
        assert found is not None
        return found


def activate_scoring(runtime: Runtime) -> None:
    with transaction(runtime.sessions) as session:
        report = sync_scoring(session, SCORING_FILE, now=utcnow())
    assert report.ok, report
