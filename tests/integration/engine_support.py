"""Helpers for engine tests: campaigns from fixture files, leads, and reading results."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, select

from nurture.campaigns.enrolment import enrol_lead
from nurture.campaigns.services import sync_campaign_files
from nurture.campaigns.sync import campaign_spec_for_version
from nurture.models import Campaign, Enrollment, Lead, Message
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime
from nurture.sending.engine import Engine

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "engine"
# A Tuesday morning, inside any office-hours window in Europe.
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def sync_fixture_campaigns(runtime: Runtime, folder: Path = FIXTURES, now: datetime = T0):
    """Load the fixture campaigns into the database through the real sync."""

    report = sync_campaign_files(runtime, now=now, path=folder)
    return report


def add_lead(runtime: Runtime, email: str, **fields) -> int:
    values = dict(
        email=email,
        first_name=email.split("@")[0].title(),
        stage="lead",
        temperature="cold",
        consent_status="granted",
        lawful_basis="consent",
        timezone="Europe/Berlin",
    )
    values.update(fields)
    with transaction(runtime.sessions) as session:
        lead = Lead(**values)
        session.add(lead)
        session.flush()
        return lead.id


def enrol(runtime: Runtime, lead_id: int, campaign_key: str = "test-drip", now: datetime = T0):
    with transaction(runtime.sessions) as session:
        lead = session.get(Lead, lead_id)
        campaign = session.scalar(select(Campaign).where(Campaign.key == campaign_key))
        spec = campaign_spec_for_version(session, campaign.active_version_id)
        outcome = enrol_lead(session, lead, campaign, spec, now)
        assert outcome.enrolled, outcome.reason
        return outcome.enrollment.id


def messages_for(runtime: Runtime, lead_id: int) -> list[Message]:
    with runtime.sessions() as session:
        return list(
            session.scalars(select(Message).where(Message.lead_id == lead_id).order_by(Message.id))
        )


def templates_sent(runtime: Runtime, lead_id: int) -> list[str]:
    return [m.template for m in messages_for(runtime, lead_id) if m.status == "sent"]


def enrollment(runtime: Runtime, enrollment_id: int) -> Enrollment:
    with runtime.sessions() as session:
        return session.get(Enrollment, enrollment_id)


def tick_hourly_until_sent(runtime: Runtime, lead_id: int, start: datetime, hours: int = 96):
    """Tick once an hour from ``start`` until the lead has a sent email (send windows and
    weekends can push the first email a few days out); returns the sent templates."""

    engine = Engine(runtime)
    try:
        for hour in range(hours):
            engine.tick(start + timedelta(hours=hour))
            if sent := templates_sent(runtime, lead_id):
                return sent
    finally:
        engine.close()
    return []


@contextmanager
def statements(runtime: Runtime) -> Iterator[list[str]]:
    """The SQL statements the runtime's engine sends while the block runs, in order."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(runtime.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(runtime.engine, "before_cursor_execute", record)
