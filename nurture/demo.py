"""The demo: a fresh embedded instance, the bundled configuration, sample leads, and
simulated weeks.

It runs the real parts end to end — migrations, campaign, scoring, ICP, readiness and sales
team sync, CSV import with rejects and fit grading, the engine's ticks on a simulated clock,
the tracking capture and hit processor, scoring, readiness, the handoff with its
notifications and SLA, the local outbox — so what it shows is what the product does. Only
the people are simulated: a seeded random model has leads open and click emails (by each
lead's ``interest``), browse the website and ask for a demo, mail privacy proxies and link
scanners fetch some emails, and sales reps accept, reject or miss some handoffs. Every such
reaction is captured as a tracking hit or an events-API call at its simulated time and goes
through the same processor as in production, which classifies it human or machine and
scores it; readiness hands leads to sales from there.
"""

from __future__ import annotations

import heapq
import random
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from nurture import wiring
from nurture.campaigns.services import sync_campaign_files
from nurture.handoff import HandoffError, accept, reject
from nurture.handoff.sla import SlaPolicy
from nurture.handoff.sla import run_due as run_sla
from nurture.handoff.team_sync import sync_team_file
from nurture.leads.csv_import import import_leads_csv
from nurture.models import Enrollment, Event, Handoff, HandoffSla, Lead, Message, SalesRep
from nurture.platform import migrate
from nurture.platform.config import Settings
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime
from nurture.qualification.watch import sync_qualification_files
from nurture.scoring.watch import sync_scoring_file
from nurture.sending.engine import Engine
from nurture.sending.kinds import INTERNAL_KINDS
from nurture.sending.tick import TickReport
from nurture.tracking.capture import hit_row, record_hit
from nurture.tracking.processing import process_pending_hits

DEMO_DATA = Path(__file__).resolve().parent / "demo_data"
# Chance that a lead of each interest opens an email, and clicks once it has opened.
_OPEN = {"high": 0.9, "medium": 0.6, "low": 0.2}
_CLICK = {"high": 0.7, "medium": 0.35, "low": 0.05}
# Share of emails fetched by a mail privacy proxy (Apple Mail Privacy Protection), and of
# emails whose every link a corporate security scanner follows seconds after delivery.
_MACHINE_OPEN = 0.15
_SCANNER = 0.08
# A high-interest lead asks for a demo after this many human clicks, with this chance.
_DEMO_AFTER_CLICKS, _DEMO_CHANCE = 2, 0.6
_SITE = "https://brightpath.example"
_LINKS = (f"{_SITE}/pricing", f"{_SITE}/customers/northwind", f"{_SITE}/resources/benchmarks")
_BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15"
)
_SCANNER_AGENT = "Mozilla/5.0 (compatible; Mimecast URL protect)"
_APPLE_PROXY = ("Mozilla/5.0", "17.58.63.10")


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
    hits: Counter[str] = field(default_factory=Counter)
    human_events: int = 0
    machine_events: int = 0
    demo_requests: list[str] = field(default_factory=list)
    sales: list[str] = field(default_factory=list)
    setup: list[str] = field(default_factory=list)


def demo_settings(base: Settings) -> Settings:
    """The demo's own instance folder and SQLite database, beside the normal instance, so it
    never touches real data. A missed handoff is escalated to the manager and reassigned,
    so the simulated weeks show the whole SLA."""
    instance = base.instance_path / "demo"
    return base.with_overrides(
        instance_path=instance,
        database_url=f"sqlite:///{instance / 'nurture.db'}",
        smtp_url=None,
        tick_seconds=3600.0,
        webhook_urls=(),
        sla=SlaPolicy(escalate=("manager", "reassign")),
    )


def first_monday(today: datetime) -> datetime:
    """08:00 UTC on the Monday after ``today``: a repeatable start for the simulated weeks."""
    days = (7 - today.weekday()) % 7 or 7
    return datetime(today.year, today.month, today.day, 8, tzinfo=UTC) + timedelta(days=days)


def _sync_configuration(runtime: Runtime, now: datetime, result_lines: list[str]) -> object:
    """Campaigns, scoring model, sales team, ICP and readiness, as `nurture campaigns sync`
    loads them."""

    sync = sync_campaign_files(runtime, now=now)
    result_lines.append(f"campaigns: {sync}")
    for report in (
        sync_scoring_file(runtime, now=now),
        sync_team_file(runtime, now=now),
        *sync_qualification_files(runtime, now=now),
    ):
        result_lines.extend(report.lines())
    return sync


def run_demo(
    settings: Settings,
    *,
    weeks: int,
    today: datetime,
    on_progress: Callable[[str], None] = lambda line: None,
    seed: int = 7,
) -> DemoResult:
    """Set up a fresh demo instance and simulate ``weeks`` of nurturing, hour by hour."""
    wiring.connect()
    if settings.instance_path.exists():
        shutil.rmtree(settings.instance_path)
    settings.instance_path.mkdir(parents=True)
    runtime = Runtime.from_settings(settings)
    try:
        migrate.upgrade(runtime.engine)
        start = first_monday(today)
        setup: list[str] = []
        # The ICP first: imported leads are graded as they arrive.
        sync = _sync_configuration(runtime, start, setup)
        for line in setup:
            on_progress(line)
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
        result = DemoResult(settings.instance_path, start, start, summary, sync, setup=setup)
        simulation = _Simulation(runtime, random.Random(seed), result)  # noqa: S311
        engine = Engine(runtime)
        try:
            now = start
            end = start + timedelta(weeks=weeks)
            while now <= end:
                simulation.before_tick(now)
                report = engine.tick(now)
                result.ticks += 1
                _add(result.totals, report)
                simulation.after_tick(now)
                if now.weekday() == 0 and now.hour == 8:
                    on_progress(
                        f"week of {now:%Y-%m-%d}: {result.totals.sent} emails so far, "
                        f"{simulation.handoffs_seen} handed to sales"
                    )
                now += timedelta(hours=1)
            result.end = end
        finally:
            engine.close()
        return result
    finally:
        runtime.close()


class _Simulation:
    """The simulated people: reactions are queued at their simulated time and captured
    through the real tracking path when the clock reaches them."""

    def __init__(self, runtime: Runtime, rng: random.Random, result: DemoResult) -> None:
        self.runtime = runtime
        self.rng = rng
        self.result = result
        self.queue: list[tuple[datetime, int, str, dict[str, Any]]] = []
        self.sequence = 0
        self.clicks: Counter[int] = Counter()
        self.asked: set[int] = set()
        self.webinar: set[int] = set()
        self.handoffs_seen = 0
        self.fresh = 0
        self.last_message_id = 0
        self.last_handoff_id = 0

    def later(self, at: datetime, action: str, **data: Any) -> None:
        self.sequence += 1
        heapq.heappush(self.queue, (at, self.sequence, action, data))

    # ------------------------------------------------------------ each hour

    def before_tick(self, now: datetime) -> None:
        """Capture what happened since the last tick, process it as the worker does, let
        reps act, run the SLA; the engine's tick then sends what all that queued."""
        captured = 0
        while self.queue and self.queue[0][0] <= now:
            at, _, action, data = heapq.heappop(self.queue)
            if action == "hit":
                self._capture(at, data)
                captured += 1
            else:
                self._rep_acts(at, action, data)
        if captured:
            while process_pending_hits(self.runtime, now):
                pass
        run_sla(self.runtime, now)

    def after_tick(self, now: datetime) -> None:
        """React to the emails just sent and the handoffs just made."""
        with self.runtime.sessions() as session:
            rows = session.execute(
                select(Message, Lead)
                .join(Lead, Lead.id == Message.lead_id)
                .where(Message.id > self.last_message_id, Message.status == "sent")
                .order_by(Message.id)
            ).all()
            handoffs = session.scalars(
                select(Handoff).where(Handoff.id > self.last_handoff_id).order_by(Handoff.id)
            ).all()
        for message, lead in rows:
            self.last_message_id = max(self.last_message_id, message.id)
            if message.kind == "campaign":
                self._react_to_email(message, lead, message.sent_at or now)
        for handoff in handoffs:
            self.last_handoff_id = handoff.id
            self._plan_rep(handoff, now)

    # ------------------------------------------------------------ leads

    def _react_to_email(self, message: Message, lead: Lead, sent: datetime) -> None:
        rng, token = self.rng, message.token
        interest = str((lead.attributes or {}).get("interest", "low"))
        if rng.random() < _MACHINE_OPEN:
            agent, ip = _APPLE_PROXY
            self.later(
                sent + timedelta(seconds=3), "hit", kind="open", token=token, agent=agent, ip=ip
            )
        if rng.random() < _SCANNER:
            for index, url in enumerate(_LINKS):
                self.later(
                    sent + timedelta(seconds=6 + index), "hit", kind="click", token=token,
                    link_index=index, url=url, agent=_SCANNER_AGENT, ip="205.139.110.30",
                )  # fmt: skip
        if rng.random() >= _OPEN.get(interest, 0.2):
            return
        opened = sent + timedelta(minutes=rng.randint(20, 240))
        self.later(opened, "hit", kind="open", token=token)
        if rng.random() >= _CLICK.get(interest, 0.05):
            return
        index = 0 if interest == "high" and rng.random() < 0.6 else rng.randint(1, 2)
        clicked = opened + timedelta(minutes=2)
        self.later(clicked, "hit", kind="click", token=token, link_index=index, url=_LINKS[index])
        self.clicks[lead.id] += 1
        # On the website (the snippet's cookie; anonymous until the visitor is identified).
        visitor = f"demo-visitor-{lead.id:04d}"
        self.later(
            clicked + timedelta(seconds=5), "hit", kind="page", visitor=visitor, url=_LINKS[index]
        )
        if interest == "high":
            self.later(
                clicked + timedelta(minutes=3),
                "hit",
                kind="page",
                visitor=visitor,
                url=f"{_SITE}/pricing/enterprise",
            )
        if interest == "medium" and index == 2:
            # Reading the benchmark report from the email: a gated download (the form
            # posts to the events API).
            self._api_event(
                clicked + timedelta(minutes=4), lead, visitor, "content.downloaded", "benchmarks"
            )
        if interest == "medium" and lead.id not in self.webinar:
            # Interested but not ready to buy: joins next week's webinar. With the reading
            # above this warms the lead, and its enrolment moves to the warm track.
            self.webinar.add(lead.id)
            self._api_event(
                clicked + timedelta(days=2), lead, visitor, "webinar.attended", "forecasting-101"
            )
        if (
            interest == "high"
            and lead.id not in self.asked
            and self.clicks[lead.id] >= _DEMO_AFTER_CLICKS
            and rng.random() < _DEMO_CHANCE
        ):
            # The website's demo form posts to the events API with the visitor id, which
            # also ties the visitor's pages to the lead.
            self.asked.add(lead.id)
            at = clicked + timedelta(minutes=6)
            self._api_event(at, lead, visitor, "demo.requested", "demo-request")
            self.result.demo_requests.append(
                f"{lead.email} asked for a demo ({at:%a %d %b %H:%M} UTC)"
            )

    def _api_event(
        self, at: datetime, lead: Lead, visitor: str, event_type: str, name: str
    ) -> None:
        """A website form that posts ``event_type`` to the events API with the visitor id
        (which also ties the visitor's pages to the lead)."""
        self.later(
            at,
            "hit",
            kind="api",
            visitor=visitor,
            email=lead.email,
            type=event_type,
            name=name,
            url=f"{_SITE}/{name}",
        )

    def _capture(self, at: datetime, data: dict[str, Any]) -> None:
        settings = self.runtime.settings
        kind = data["kind"]
        fields: dict[str, Any] = {}
        if kind in ("open", "click"):
            fields["token"] = data["token"]
        if kind == "click":
            fields.update(link_index=data["link_index"], link_count=len(_LINKS), url=data["url"])
        if kind == "page":
            fields.update(
                visitor_id=data["visitor"], url=data["url"], payload={"title": "Brightpath"}
            )
        if kind == "api":
            fields.update(
                visitor_id=data["visitor"],
                url=data["url"],
                payload={
                    "type": data["type"],
                    "email": data["email"],
                    "occurred_at": at.isoformat(),
                    "properties": {"form": data.get("name", "demo-request")},
                },
            )
        row = hit_row(
            kind=kind,
            now=at,
            method="POST" if kind == "api" else "GET",
            user_agent=data.get("agent", _BROWSER),
            ip=data.get("ip", "198.51.100.23"),
            prefetch=False,
            ip_privacy=settings.ip_privacy,
            secret=settings.secret_key,
            **fields,
        )
        record_hit(self.runtime, row)
        self.result.hits[kind] += 1

    # ------------------------------------------------------------ sales

    def _plan_rep(self, handoff: Handoff, now: datetime) -> None:
        """Most reps accept within minutes; the second lead is given back (bad timing);
        the third is missed, so the SLA escalates it and the rep it is reassigned to
        accepts."""
        self.handoffs_seen += 1
        if handoff.rep_id is None:
            return
        if handoff.previous_id is None:
            self.fresh += 1
        if handoff.previous_id is None and self.fresh == 2:
            self.later(handoff.created_at + timedelta(minutes=40), "reject", handoff=handoff.id)
        elif handoff.previous_id is not None or self.fresh != 3:
            self.later(handoff.created_at + timedelta(minutes=25), "accept", handoff=handoff.id)

    def _rep_acts(self, at: datetime, kind: str, data: dict[str, Any]) -> None:
        try:
            with transaction(self.runtime.sessions) as session:
                if kind == "accept":
                    handoff = accept(session, data["handoff"], now=at)
                    verb = "accepted"
                else:
                    handoff = reject(
                        session, data["handoff"], reason="bad-timing",
                        note="Budget frozen until Q2; try again then.", now=at,
                    )  # fmt: skip
                    verb = "rejected (bad timing)"
                lead = session.get(Lead, handoff.lead_id)
                who = lead.email if lead else "?"
                self.result.sales.append(f"{at:%a %d %b %H:%M}: {handoff.decided_by} {verb} {who}")
        except HandoffError as exc:
            self.result.sales.append(f"{at:%a %d %b %H:%M}: {exc.message}")


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
                .where(Message.status == "sent", Message.kind.not_in(INTERNAL_KINDS))
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


def engagement_counts(settings: Settings) -> dict[str, Counter[str]]:
    """Events by type, human and machine apart (what reports show)."""
    from sqlalchemy import func

    runtime = Runtime.from_settings(settings)
    try:
        with runtime.sessions() as session:
            counts: dict[str, Counter[str]] = {"human": Counter(), "machine": Counter()}
            for kind, machine, count in session.execute(
                select(Event.type, Event.is_machine, func.count()).group_by(
                    Event.type, Event.is_machine
                )
            ):
                counts["machine" if machine else "human"][kind] = count
            return counts
    finally:
        runtime.close()


@dataclass(frozen=True)
class HandoffRow:
    """One line of the demo's handoff listing."""

    id: int
    created_at: datetime
    lead: str
    company: str
    owner: str
    why: str
    status: str
    sla: str


def handoff_rows(settings: Settings) -> list[HandoffRow]:
    """Every handoff, oldest first, as `nurture handoffs list` shows them."""
    runtime = Runtime.from_settings(settings)
    try:
        with runtime.sessions() as session:
            rows = session.execute(
                select(Handoff, Lead, SalesRep, HandoffSla)
                .join(Lead, Lead.id == Handoff.lead_id)
                .outerjoin(SalesRep, SalesRep.id == Handoff.rep_id)
                .outerjoin(HandoffSla, HandoffSla.handoff_id == Handoff.id)
                .order_by(Handoff.id)
            ).all()
            result = []
            for handoff, lead, rep, sla in rows:
                status = handoff.status
                if handoff.reject_reason:
                    status += f": {handoff.reject_reason}"
                sla_text = "—"
                if sla is not None:
                    sla_text = sla.status
                    if sla.response_business_seconds is not None:
                        sla_text += f" ({sla.response_business_seconds / 60:.0f} business min)"
                result.append(
                    HandoffRow(
                        id=handoff.id,
                        created_at=handoff.created_at,
                        lead=lead.email,
                        company=lead.account.name if lead.account and lead.account.name else "—",
                        owner=rep.name if rep else "nobody",
                        why=handoff.qualification_rule
                        + (f", fit {handoff.fit_grade}" if handoff.fit_grade else ""),
                        status=status,
                        sla=sla_text,
                    )
                )
            return result
    finally:
        runtime.close()
