"""The demo: a fresh embedded instance, the bundled campaign, sample leads, and simulated weeks.

It runs the real parts end to end — migrations, campaign sync, CSV import with rejects,
the engine's ticks on a simulated clock, the local outbox — so what it shows is what the
product does. Only the leads' reactions are simulated: a seeded random model opens and
clicks emails by each lead's ``interest`` and warms leads up as they engage.
"""

from __future__ import annotations

import random
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from nurture import migrate
from nurture.config import Settings
from nurture.db import transaction
from nurture.engine import Engine, TickReport
from nurture.enrolment import lead_changed
from nurture.models import Enrollment, Event, Lead, Message
from nurture.runtime import Runtime
from nurture.services import sync_campaign_files

DEMO_DATA = Path(__file__).resolve().parent / "demo_data"
# Chance that a lead of each interest opens an email, and clicks once it has opened.
_OPEN = {"high": 0.9, "medium": 0.6, "low": 0.2}
_CLICK = {"high": 0.7, "medium": 0.35, "low": 0.05}
# Human clicks that turn a lead warm, then hot (the scoring model will replace this).
_WARM_AT, _HOT_AT = 2, 4
# Share of opens made by a mail proxy (Apple Mail Privacy Protection) rather than a person.
_MACHINE_OPEN = 0.15


@dataclass
class DemoResult:
    """What the demo did, for the summary."""

    instance: Path
    start: datetime
    end: datetime
    import_summary: object
    sync_report: object
    ticks: int = 0
    totals: TickReport = field(default_factory=TickReport)
    opens: int = 0
    machine_opens: int = 0
    clicks: int = 0
    warmed: list[str] = field(default_factory=list)


def demo_settings(base: Settings) -> Settings:
    """The demo's own instance folder and SQLite database, beside the normal instance, so it
    never touches real data."""
    instance = base.instance_path / "demo"
    return base.with_overrides(
        instance_path=instance,
        database_url=f"sqlite:///{instance / 'nurture.db'}",
        smtp_url=None,
        tick_seconds=3600.0,
    )


def first_monday(today: datetime) -> datetime:
    """08:00 UTC on the Monday after ``today``: a repeatable start for the simulated weeks."""
    days = (7 - today.weekday()) % 7 or 7
    return datetime(today.year, today.month, today.day, 8, tzinfo=UTC) + timedelta(days=days)


def run_demo(
    settings: Settings,
    *,
    weeks: int,
    today: datetime,
    on_progress: Callable[[str], None] = lambda line: None,
    seed: int = 7,
) -> DemoResult:
    """Set up a fresh demo instance and simulate ``weeks`` of nurturing, hour by hour."""
    from nurture.lead_import import import_leads_csv

    if settings.instance_path.exists():
        shutil.rmtree(settings.instance_path)
    settings.instance_path.mkdir(parents=True)
    runtime = Runtime.from_settings(settings)
    try:
        migrate.upgrade(runtime.engine)
        start = first_monday(today)
        sync = sync_campaign_files(runtime, now=start)
        on_progress(f"campaigns: {sync}")
        summary = import_leads_csv(
            runtime.sessions,
            DEMO_DATA / "leads.csv",
            now=start,
            mapping=None,
            rejects_path=settings.instance_path / "leads.rejects.csv",
            default_timezone=settings.default_timezone,
            source="demo-import",
            extra_columns="attributes",
            progress=False,
        )
        on_progress(f"leads: {summary}")
        result = DemoResult(settings.instance_path, start, start, summary, sync)
        engine = Engine(runtime)
        rng = random.Random(seed)  # noqa: S311 -- a repeatable simulation, not security
        clicks_by_lead: Counter[int] = Counter()
        try:
            now = start
            end = start + timedelta(weeks=weeks)
            while now <= end:
                report = engine.tick(now)
                result.ticks += 1
                _add(result.totals, report)
                if report.sent:
                    _simulate_engagement(runtime, now, rng, clicks_by_lead, result)
                if now.weekday() == 0 and now.hour == 8:
                    on_progress(f"week of {now:%Y-%m-%d}: {result.totals.sent} emails so far")
                now += timedelta(hours=1)
            result.end = end
        finally:
            engine.close()
        return result
    finally:
        runtime.close()


def _simulate_engagement(
    runtime: Runtime,
    now: datetime,
    rng: random.Random,
    clicks_by_lead: Counter[int],
    result: DemoResult,
) -> None:
    """Leads react to the emails that just went out; engaged leads warm up."""
    with transaction(runtime.sessions) as session:
        rows = session.execute(
            select(Message, Lead)
            .join(Lead, Lead.id == Message.lead_id)
            .where(Message.sent_at == now, Message.status == "sent")
        ).all()
        for message, lead in rows:
            interest = str((lead.attributes or {}).get("interest", "low"))
            if rng.random() < _MACHINE_OPEN:
                result.machine_opens += 1
                session.add(
                    _event(lead, message, "email.opened", now + timedelta(seconds=2), machine=True)
                )
            if rng.random() >= _OPEN.get(interest, 0.2):
                continue
            result.opens += 1
            session.add(_event(lead, message, "email.opened", now + timedelta(minutes=40)))
            if rng.random() >= _CLICK.get(interest, 0.05):
                continue
            result.clicks += 1
            clicks_by_lead[lead.id] += 1
            session.add(
                _event(
                    lead,
                    message,
                    "email.clicked",
                    now + timedelta(minutes=42),
                    url="https://brightpath.example/resources",
                )
            )
            temperature = (
                "hot"
                if clicks_by_lead[lead.id] >= _HOT_AT
                else "warm"
                if clicks_by_lead[lead.id] >= _WARM_AT
                else "cold"
            )
            if temperature != lead.temperature:
                lead.temperature = temperature
                result.warmed.append(f"{lead.email} → {temperature} ({now:%a %d %b})")
                lead_changed(session, lead, now + timedelta(hours=1))


def _event(
    lead: Lead,
    message: Message,
    kind: str,
    at: datetime,
    *,
    machine: bool = False,
    url: str | None = None,
) -> Event:
    return Event(
        lead_id=lead.id,
        type=kind,
        message_id=message.id,
        campaign_id=message.campaign_id,
        step_key=message.step_key,
        occurred_at=at,
        recorded_at=at,
        is_machine=machine,
        machine_reasons=["demo: mail privacy proxy"] if machine else [],
        properties={"url": url, "simulated": True} if url else {"simulated": True},
    )


def _add(total: TickReport, report: TickReport) -> None:
    for name in (
        "claimed",
        "sent",
        "deferred",
        "failed",
        "retried",
        "completed",
        "exited",
        "batches",
    ):
        setattr(total, name, getattr(total, name) + getattr(report, name))


@dataclass(frozen=True)
class LeadRow:
    """One line of the demo's closing table."""

    email: str
    company: str
    timezone: str
    temperature: str
    stage: str
    position: str
    emails: list[str]


def lead_rows(settings: Settings) -> list[LeadRow]:
    """Where each demo lead ended up, and which emails it received."""
    runtime = Runtime.from_settings(settings)
    try:
        with runtime.sessions() as session:
            leads = session.scalars(select(Lead).order_by(Lead.id)).all()
            sent: dict[int, list[str]] = {}
            for lead_id, template in session.execute(
                select(Message.lead_id, Message.template)
                .where(Message.status == "sent")
                .order_by(Message.sent_at)
            ):
                sent.setdefault(lead_id, []).append(template)
            enrolments = {
                e.lead_id: e for e in session.scalars(select(Enrollment).order_by(Enrollment.id))
            }
            rows = []
            for lead in leads:
                enrolment = enrolments.get(lead.id)
                if enrolment is None:
                    position = "not enrolled"
                elif enrolment.status == "active":
                    position = f"{enrolment.track} · {enrolment.step or 'start'}"
                else:
                    position = f"{enrolment.status}: {enrolment.exit_reason}"
                rows.append(
                    LeadRow(
                        email=lead.email,
                        company=lead.account.name if lead.account and lead.account.name else "—",
                        timezone=lead.timezone or settings.default_timezone,
                        temperature=lead.temperature,
                        stage=lead.stage,
                        position=position,
                        emails=sent.get(lead.id, []),
                    )
                )
            return rows
    finally:
        runtime.close()
