"""A configured instance for hand-raise tests: the bundled campaigns, scoring, ICP,
readiness and sales team, a real SMTP server, a marketer to review, an API key; leads
arrive through the API and raise their hand the way a website does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from nurture.auth.apikeys import create_api_key
from nurture.auth.users import create_user
from nurture.campaigns.services import sync_campaign_files
from nurture.models import Event, Handoff, HandRaise, Lead, Message
from nurture.platform.config import Settings
from nurture.platform.db import transaction, utcnow
from nurture.platform.runtime import Runtime
from nurture.qualification.hand_raises import answer_hand_raises
from nurture.qualification.watch import sync_qualification_files
from nurture.scoring import sync_scoring
from nurture.sending.engine import Engine
from nurture.tracking.processing import process_pending_hits
from nurture.web import create_app
from tests.integration.engine_support import add_lead
from tests.integration.handoff_support import BUNDLED_TEAM, PROJECT, sync_team_file

MARKETER = "mia.marketing@brightpath.example"
# The bundled ICP's D: a four-person shop in a country Brightpath does not serve.
SMALL_SHOP = {
    "first_name": "Olek",
    "last_name": "Nowak",
    "title": "Owner",
    "company": "Kwiatki",
    "company_domain": "kwiatki.example",
    "industry": "retail",
    "employees": 4,
    "country": "PL",
    "consent_status": "granted",
    "lawful_basis": "consent",
}
# The bundled ICP's A: an enterprise in a served country, a VP of revenue.
GOOD_FIT = {
    "first_name": "Grace",
    "last_name": "Hopper",
    "title": "VP Revenue Operations",
    "company": "Northwind Logistics",
    "company_domain": "northwind.example",
    "industry": "software",
    "employees": 1500,
    "country": "US",
    "consent_status": "granted",
    "lawful_basis": "consent",
}


@dataclass
class Instance:
    runtime: Runtime
    app: Flask
    client: FlaskClient
    headers: dict[str, str]

    def engage(self, email: str, event: str = "demo.requested", **lead: Any) -> int:
        """The lead arrives through the API, views pricing and raises its hand; the hit
        processor (as ``nurture serve`` runs it) scores it and evaluates readiness."""
        created = self.client.post(
            "/api/v1/leads", json={"email": email, **lead}, headers=self.headers
        )
        assert created.status_code in (200, 201), created.json
        for body in (
            {"type": "page.viewed", "url": "https://brightpath.example/pricing"},
            {"type": event, "properties": {"form": "demo-request"}},
        ):
            answer = self.client.post(
                "/api/v1/events", json={"email": email, **body}, headers=self.headers
            )
            assert answer.status_code == 202, answer.json
        self.process()
        return int(created.json["id"])

    def event(self, email: str, body: dict[str, Any]) -> None:
        answer = self.client.post(
            "/api/v1/events", json={"email": email, **body}, headers=self.headers
        )
        assert answer.status_code == 202, answer.json
        self.process()

    def process(self) -> None:
        while process_pending_hits(self.runtime, utcnow()):
            pass

    def tick(self) -> None:
        engine = Engine(self.runtime)
        try:
            engine.tick(utcnow())
        finally:
            engine.close()

    def hand_raises(self, lead_id: int) -> list[HandRaise]:
        with self.runtime.sessions() as session:
            return list(
                session.scalars(
                    select(HandRaise).where(HandRaise.lead_id == lead_id).order_by(HandRaise.id)
                )
            )

    def handoffs(self, lead_id: int) -> list[Handoff]:
        with self.runtime.sessions() as session:
            return list(
                session.scalars(
                    select(Handoff).where(Handoff.lead_id == lead_id).order_by(Handoff.id)
                )
            )

    def messages(self, lead_id: int) -> list[Message]:
        with self.runtime.sessions() as session:
            return list(
                session.scalars(
                    select(Message).where(Message.lead_id == lead_id).order_by(Message.id)
                )
            )

    def lead(self, lead_id: int) -> Lead:
        with self.runtime.sessions() as session:
            lead = session.get(Lead, lead_id)
            assert lead is not None
            return lead


@contextmanager
def instance(
    settings: Settings, smtp_url: str, *, readiness: Path | None = None, marketer: bool = True
) -> Iterator[Instance]:
    """The instance, with ``readiness`` instead of the bundled readiness file if given."""
    overrides: dict[str, Any] = {"smtp_url": smtp_url, "sales_team_file": BUNDLED_TEAM}
    if readiness is not None:
        overrides["readiness_file"] = readiness
    configured = settings.with_overrides(**overrides)
    app = create_app({"NURTURE_SETTINGS": configured, "TESTING": True})
    runtime = app.extensions["nurture"]
    now = utcnow().replace(microsecond=0)
    try:
        sync_campaign_files(runtime, now=now, path=PROJECT / "campaigns" / "examples")
        with transaction(runtime.sessions) as session:
            assert sync_scoring(session, PROJECT / "campaigns" / "scoring.yaml", now=now).ok
            _, key = create_api_key(session, "website", now=now)
            if marketer:
                create_user(
                    session, email=MARKETER, name="Mia Marketing", role="marketer",
                    password="a long enough password", actor="test", now=now,
                )  # fmt: skip
        sync_team_file(runtime, BUNDLED_TEAM, now)
        assert all(report.ok for report in sync_qualification_files(runtime, now=now))
        yield Instance(runtime, app, app.test_client(), {"Authorization": f"Bearer {key}"})
    finally:
        runtime.close()


def readiness_with(tmp_path: Path, setting: str) -> Path:
    """The bundled readiness file with ``hand_raisers_outside_icp: <setting>``."""
    path = tmp_path / "readiness.yaml"
    text = (PROJECT / "campaigns" / "readiness.yaml").read_text()
    bundled = "hand_raisers_outside_icp: review"
    assert bundled in text
    path.write_text(text.replace(bundled, f"hand_raisers_outside_icp: {setting}", 1))
    return path


def hold_for_review(runtime: Runtime, email: str, now: datetime, **fields: Any) -> int:
    """A fit-D lead whose demo request (already scored: the ``lead.hand_raised`` event) is
    answered now, with the bundled readiness file active; returns the review item's id."""
    assert all(report.ok for report in sync_qualification_files(runtime, now=now))
    values: dict[str, Any] = {"fit_grade": "D", "fit_score": 12, "hand_raised_at": now, **fields}
    lead_id = add_lead(runtime, email, **values)
    with transaction(runtime.sessions) as session:
        session.add(
            Event(
                lead_id=lead_id,
                type="lead.hand_raised",
                occurred_at=now,
                recorded_at=now,
                is_machine=False,
                machine_reasons=[],
                properties={"event_type": "demo.requested", "raised_at": now.isoformat()},
            )
        )
        session.flush()
        [row] = answer_hand_raises(session, [lead_id], now)
        assert row.review_status == "open", row.reasons
        return row.id
