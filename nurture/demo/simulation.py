"""The simulated people of the demo: people who fill in the website's forms, leads that
open, click, browse and ask for a demo, the machines (mail privacy proxies, link scanners)
that fetch some emails, and the sales team (``nurture.demo.sales``). A seeded random model
decides; every reaction is captured as a tracking hit or an events-API call at its simulated
time and goes through the same processor as in production."""

from __future__ import annotations

import heapq
import random
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from nurture.demo.arrivals import FORM_EVENTS, Arrival, arrival_time, lead_data
from nurture.demo.report import DemoResult
from nurture.demo.sales import SalesTeam
from nurture.handoff.sla import run_due as run_sla
from nurture.leads import upsert_lead, validate_lead_data
from nurture.models import Handoff, Lead, Message
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime
from nurture.privacy.unsubscribe import unsubscribe_by_token
from nurture.tracking.capture import record_hit
from nurture.tracking.hit_rows import hit_row
from nurture.tracking.processing import process_pending_hits

# Chance that a lead of each interest opens an email, and clicks once it has opened.
_OPEN = {"high": 0.9, "medium": 0.6, "low": 0.2}
_CLICK = {"high": 0.7, "medium": 0.35, "low": 0.05}
# Share of emails fetched by a mail privacy proxy (Apple Mail Privacy Protection), and of
# emails whose every link a corporate security scanner follows seconds after delivery.
_MACHINE_OPEN = 0.15
_SCANNER = 0.08
# A high-interest lead asks for a demo after this many human clicks, with this chance.
_DEMO_AFTER_CLICKS, _DEMO_CHANCE = 2, 0.6
# One campaign email in this many to a lead of little interest ends with its one-click
# unsubscribe the next day, so the campaign results have unsubscribes. Picked by the message
# id, not drawn, so the other reactions keep their random numbers.
_UNSUBSCRIBE_EVERY = 15
_SITE = "https://brightpath.example"
_LINKS = (f"{_SITE}/pricing", f"{_SITE}/customers/northwind", f"{_SITE}/resources/benchmarks")
_BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15"
)
_SCANNER_AGENT = "Mozilla/5.0 (compatible; Mimecast URL protect)"
_APPLE_PROXY = ("Mozilla/5.0", "17.58.63.10")


class Simulation:
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
        self.last_message_id = 0
        self.last_handoff_id = 0
        self.sales = SalesTeam(runtime, rng, result, self.later)

    def later(self, at: datetime, action: str, **data: Any) -> None:
        """Queue ``action`` (a tracking hit, an arrival, or a sales action) for simulated
        time ``at``."""
        self.sequence += 1
        heapq.heappush(self.queue, (at, self.sequence, action, data))

    def expect(self, arrivals: list[Arrival], start: datetime, end: datetime) -> None:
        """Queue the people who will fill in a form between ``start`` and ``end``."""
        for arrival in arrivals:
            self.later(arrival_time(arrival, start, end, self.rng), "arrive", arrival=arrival)

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
            elif action == "arrive":
                self._arrive(at, data["arrival"])
            elif action == "unsubscribe":
                with transaction(self.runtime.sessions) as session:
                    unsubscribe_by_token(session, data["token"], source="one-click", now=at)
            else:
                self.sales.act(at, action, data)
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
            for handoff in session.scalars(
                select(Handoff).where(Handoff.id > self.last_handoff_id).order_by(Handoff.id)
            ):
                self.last_handoff_id = handoff.id
                self.handoffs_seen += 1
                self.sales.plan(session, handoff)
        for message, lead in rows:
            self.last_message_id = max(self.last_message_id, message.id)
            if message.kind == "campaign":
                self._react_to_email(message, lead, message.sent_at or now)

    # ------------------------------------------------------------ leads

    def _arrive(self, at: datetime, arrival: Arrival) -> None:
        """A person fills in a form: the website creates the lead through the API, then
        posts the form's event with the visitor id of the pages it browsed."""
        settings = self.runtime.settings
        fields, errors = validate_lead_data(
            lead_data(arrival, at), default_timezone=settings.default_timezone
        )
        if fields is None:
            raise ValueError(f"demo arrival {arrival.email}: {errors}")
        with transaction(self.runtime.sessions) as session:
            lead = upsert_lead(session, fields, now=at, source="api").lead
            session.flush()
            lead_id = lead.id
        self.result.arrivals += 1
        visitor = f"demo-visitor-{lead_id:04d}"
        event_type, form = FORM_EVENTS[arrival.form]
        page = f"{_SITE}/{form}"
        self.later(at, "hit", kind="page", visitor=visitor, url=page)
        self._api_event(at + timedelta(minutes=1), arrival.email, visitor, event_type, form)
        if event_type == "demo.requested" or form == "contact-sales":
            self.asked.add(lead_id)
            asked = "asked for a demo" if event_type == "demo.requested" else "asked sales to call"
            self.result.demo_requests.append(
                f"{arrival.email} {asked} on the website ({at:%a %d %b %H:%M} UTC)"
            )
        if arrival.form == "webinar" and arrival.interest != "low":
            # The webinar is two days later; the pricing slide sends some to the website.
            self.webinar.add(lead_id)
            webinar = at + timedelta(days=2)
            self._api_event(webinar, arrival.email, visitor, "webinar.attended", "forecasting-101")
            self.later(webinar + timedelta(hours=1), "hit", kind="page", visitor=visitor,
                       url=f"{_SITE}/pricing")  # fmt: skip

    def _react_to_email(self, message: Message, lead: Lead, sent: datetime) -> None:
        rng, token = self.rng, message.token
        interest = str((lead.attributes or {}).get("interest", "low"))
        if interest == "low" and message.id % _UNSUBSCRIBE_EVERY == 0:
            self.later(sent + timedelta(days=1), "unsubscribe", token=token)
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
        if interest != "low" and index == 2:
            # Reading the benchmark report from the email: a gated download (the form
            # posts to the events API, which also ties the visitor's pages to the lead).
            downloaded = clicked + timedelta(minutes=4)
            self._api_event(downloaded, lead.email, visitor, "content.downloaded", "benchmarks")
        if interest == "medium" and lead.id not in self.webinar:
            # Interested but not ready to buy: joins next week's webinar. With the reading
            # above this warms the lead, and its enrolment moves to the warm track.
            self.webinar.add(lead.id)
            webinar = clicked + timedelta(days=2)
            self._api_event(webinar, lead.email, visitor, "webinar.attended", "forecasting-101")
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
            self._api_event(at, lead.email, visitor, "demo.requested", "demo-request")
            self.result.demo_requests.append(
                f"{lead.email} asked for a demo ({at:%a %d %b %H:%M} UTC)"
            )

    def _api_event(
        self, at: datetime, email: str, visitor: str, event_type: str, name: str
    ) -> None:
        """A website form that posts ``event_type`` to the events API with the visitor id
        (which also ties the visitor's pages to the lead)."""
        self.later(
            at,
            "hit",
            kind="api",
            visitor=visitor,
            email=email,
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
