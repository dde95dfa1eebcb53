"""Helpers for the privacy tests: two topic campaigns, an engine tick, message URLs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select

from nurture.models import AuditLog, Campaign, Lead, Message
from nurture.platform.runtime import Runtime
from nurture.sending.engine import Engine
from nurture.tracking.tokens import MessageSigner
from tests.integration.engine_support import enrol, sync_fixture_campaigns

PRIVACY_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "privacy"


def sync_topic_campaigns(runtime: Runtime) -> None:
    """Load the ``news`` (topic product-news) and ``education`` campaigns."""
    sync_fixture_campaigns(runtime, PRIVACY_FIXTURES)


def enrol_in_both(runtime: Runtime, lead_id: int) -> None:
    enrol(runtime, lead_id, "news")
    enrol(runtime, lead_id, "education")


def tick(runtime: Runtime, now: datetime, **overrides) -> None:
    rt = (
        Runtime.from_settings(runtime.settings.with_overrides(**overrides))
        if overrides
        else runtime
    )
    engine = Engine(rt)
    try:
        engine.tick(now)
    finally:
        engine.close()
        if overrides:
            rt.close()


def sent_campaigns(runtime: Runtime, lead_id: int) -> list[str]:
    """Campaign keys of the lead's sent campaign emails, in order."""

    with runtime.sessions() as session:
        rows = session.execute(
            select(Campaign.key)
            .join(Message, Message.campaign_id == Campaign.id)
            .where(Message.lead_id == lead_id, Message.status == "sent")
            .order_by(Message.id)
        )
        return list(rows.scalars())


def first_message(runtime: Runtime, lead_id: int, kind: str = "campaign") -> Message:
    with runtime.sessions() as session:
        return session.scalars(
            select(Message)
            .where(Message.lead_id == lead_id, Message.kind == kind)
            .order_by(Message.id)
        ).first()


def signed_path(runtime: Runtime, message: Message, suffix: str = "") -> str:
    signed = MessageSigner(runtime.settings.secret_key).sign(message.token)
    return f"/u/{signed}{suffix}"


def path_of(url: str) -> str:
    return urlsplit(url).path


def lead(runtime: Runtime, lead_id: int) -> Lead:
    with runtime.sessions() as session:
        return session.get(Lead, lead_id)


def audit_actions(runtime: Runtime, lead_id: int) -> list[str]:
    with runtime.sessions() as session:
        return list(
            session.scalars(
                select(AuditLog.action).where(AuditLog.lead_id == lead_id).order_by(AuditLog.id)
            )
        )


def csrf_of(html: str) -> str:
    import re

    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has a CSRF-protected form"
    return match.group(1)
