"""Simulated time (``NURTURE_SIMULATED_TIME``): after ``nurture tick --now`` in the future,
a real click on the email it sent arrives through the tracking endpoints as ``nurture serve``
serves them (the app built from the environment, fast path included) and is a person's
click on the simulated clock, which the campaign's branch on ``clicked`` then takes; the
events API accepts an ``occurred_at`` up to the simulated now. Without the setting,
everything stays on the wall clock, as before: such a click is "too soon after delivery"
and a future ``occurred_at`` is refused.

Everything goes through what a user runs: the ``nurture`` commands, the HTTP endpoints.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from nurture.auth.apikeys import create_api_key
from nurture.cli import cli
from nurture.models import Event, Message, SimulatedClock
from nurture.platform.config import Settings
from nurture.platform.db import transaction, utcnow
from nurture.platform.runtime import Runtime
from nurture.web import create_app
from tests.integration.engine_support import add_lead
from tests.integration.tracking_support import CHROME

EMAIL = "ada@northwind.example"
# The campaign of docs/tracking.md's walkthrough: pricing guide, two days, then the demo
# invitation for those who clicked through to pricing and the customer story for the rest.
CAMPAIGN = """\
id: try-a-branch
name: Try a branch
entry: { manual: true }
tracks:
  everyone:
    steps:
      - id: pricing
        send: hot-pricing-guide
      - id: two-days
        wait: 2d
      - id: looked-at-pricing?
        if: { clicked: { step: pricing, url: pricing } }
        then: demo-invite
        else: customer-story
      - id: customer-story
        send: hot-customer-story
      - id: told-the-story
        exit: did not click
      - id: demo-invite
        send: hot-demo-invite
"""


def _simulated_monday() -> datetime:
    """A Monday at 15:00 UTC (office hours in London) at least a month after today: later
    than anything the wall clock can stamp during the test."""
    day = (utcnow() + timedelta(days=30)).date()
    day += timedelta(days=(7 - day.weekday()) % 7)
    return datetime(day.year, day.month, day.day, 15, 0, tzinfo=UTC)


def _at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


class Instance:
    """A test instance driven through its environment, as a user drives one."""

    def __init__(self, settings: Settings, tmp_path: Path, *, simulated: bool) -> None:
        campaigns = tmp_path / "campaigns"
        campaigns.mkdir()
        (campaigns / "try-a-branch.yaml").write_text(CAMPAIGN)
        self.env = {
            "NURTURE_DATABASE_URL": settings.database_url,
            "NURTURE_INSTANCE_PATH": str(settings.instance_path),
            "NURTURE_SECRET_KEY": settings.secret_key,
            "NURTURE_PUBLIC_URL": settings.public_url,
            "NURTURE_CAMPAIGNS_PATH": str(campaigns),
            "NURTURE_COMPANY_NAME": settings.company_name,
            "NURTURE_POSTAL_ADDRESS": settings.postal_address,
        }
        if simulated:
            self.env["NURTURE_SIMULATED_TIME"] = "1"
        self.runtime = Runtime.from_settings(Settings.from_env(self.env))
        self.apps: list[Flask] = []
        self.commands = self._app()

    def _app(self) -> Flask:
        """The app ``nurture`` and ``nurture serve`` build: settings read from the
        environment (kept here, so the test closes what it opened)."""
        app = create_app({"NURTURE_SETTINGS": Settings.from_env(self.env), "TESTING": True})
        self.apps.append(app)
        return app

    def nurture(self, *args: str) -> str:
        result = self.commands.test_cli_runner().invoke(cli, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    def client(self) -> FlaskClient:
        """A client of the web app, tracking endpoints included, as ``nurture serve``
        serves it."""
        return self._app().test_client()

    def close(self) -> None:
        for app in self.apps:
            app.extensions["nurture"].close()
        self.apps.clear()
        self.runtime.close()

    def messages(self) -> list[Message]:
        with self.runtime.sessions() as session:
            return list(session.scalars(select(Message).order_by(Message.id)))

    def clicks(self) -> list[Event]:
        with self.runtime.sessions() as session:
            return list(session.scalars(select(Event).where(Event.type == "email.clicked")))

    def pricing_link(self) -> str:
        """The tracked "See plans and pricing" link of the first email, as a path."""
        with self.runtime.sessions() as session:
            raw = session.scalars(select(Message.to_address)).first()
        assert raw == EMAIL
        html = self.nurture("outbox", "show", "1", "--html")
        links = re.findall(r'href="http://nurture\.test(/t/c/[^"]+)"', html)
        # v2.<token>.<index>.<count>.<destination>.<signature>: index -1 is the honeypot.
        (link,) = [path for path in links if ".-1." not in path]
        return link


@pytest.fixture
def instance(request, settings, tmp_path):
    made = Instance(settings, tmp_path, simulated=request.param)
    add_lead(made.runtime, EMAIL, timezone="Europe/London")
    made.nurture("campaigns", "sync")
    made.nurture("enrol", EMAIL, "try-a-branch")
    yield made
    made.close()


def _send_then_click(instance: Instance) -> datetime:
    """Send the pricing guide at a simulated Monday, read it an hour later, click."""
    sent = _simulated_monday()
    instance.nurture("tick", "--now", _at(sent))
    instance.nurture("tick", "--now", _at(sent + timedelta(hours=1)))
    (message,) = instance.messages()
    assert message.template == "hot-pricing-guide" and message.sent_at == sent
    answer = instance.client().get(instance.pricing_link(), headers={"User-Agent": CHROME})
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("https://brightpath.example/pricing")
    return sent


@pytest.mark.parametrize("instance", [True], indirect=True)
def test_a_click_after_a_simulated_send_is_a_persons_and_takes_the_clicked_branch(instance):
    sent = _send_then_click(instance)

    instance.nurture("tick", "--now", _at(sent + timedelta(days=2)))

    (click,) = instance.clicks()
    assert click.machine_reasons == [] and click.is_machine is False
    # Stamped on the simulated clock: an hour after the send, plus the test's own seconds.
    read = sent + timedelta(hours=1)
    assert read <= click.occurred_at < read + timedelta(minutes=5)
    assert [m.template for m in instance.messages()] == ["hot-pricing-guide", "hot-demo-invite"]


@pytest.mark.parametrize("instance", [False], indirect=True)
def test_without_simulated_time_the_click_keeps_the_wall_clock_and_is_too_soon(instance):
    sent = _send_then_click(instance)

    instance.nurture("tick", "--now", _at(sent + timedelta(days=2)))

    (click,) = instance.clicks()
    assert click.occurred_at < utcnow() < sent
    assert click.is_machine and "too-soon-after-delivery" in click.machine_reasons
    assert [m.template for m in instance.messages()] == [
        "hot-pricing-guide",
        "hot-customer-story",
    ]


def _api_key(instance: Instance) -> str:
    with transaction(instance.runtime.sessions) as session:
        _, key = create_api_key(session, "crm", now=utcnow())
    return key


def _post(client: FlaskClient, key: str, body: dict) -> tuple[int, dict]:
    answer = client.post(
        "/api/v1/events",
        data=json.dumps(body),
        headers={"Authorization": f"Bearer {key}"},
        content_type="application/json",
    )
    return answer.status_code, answer.get_json()


@pytest.mark.parametrize("instance", [True], indirect=True)
def test_the_events_api_takes_times_up_to_the_simulated_now(instance):
    key = _api_key(instance)
    clock = _simulated_monday() + timedelta(days=3)
    instance.nurture("tick", "--now", _at(clock))
    client = instance.client()

    demo = {"type": "demo.requested", "email": EMAIL, "occurred_at": _at(clock) + "Z"}
    assert _post(client, key, demo)[0] == 202
    trial = {"type": "trial.started", "email": EMAIL}  # no time: the simulated now
    assert _post(client, key, trial)[0] == 202
    later = {"type": "webinar.attended", "email": EMAIL}
    later["occurred_at"] = _at(clock + timedelta(days=1)) + "Z"
    status, body = _post(client, key, later)
    assert status == 422
    assert "simulated time is " + clock.strftime("%Y-%m-%dT%H:%M") in body["errors"]["occurred_at"]

    instance.nurture("tick")  # a bare tick goes on at the simulated clock
    with instance.runtime.sessions() as session:
        stamped = dict(
            session.execute(
                select(Event.type, Event.occurred_at).where(
                    Event.type.in_(("demo.requested", "trial.started"))
                )
            ).all()
        )
    assert stamped["demo.requested"] == clock
    assert clock <= stamped["trial.started"] < clock + timedelta(minutes=5)


@pytest.mark.parametrize("instance", [False], indirect=True)
def test_without_simulated_time_the_events_api_refuses_a_future_time(instance):
    key = _api_key(instance)
    future = _simulated_monday()
    instance.nurture("tick", "--now", _at(future))

    status, body = _post(
        instance.client(),
        key,
        {"type": "demo.requested", "email": EMAIL, "occurred_at": _at(future) + "Z"},
    )

    assert status == 422
    assert body["errors"]["occurred_at"] == "is in the future"
    with instance.runtime.sessions() as session:
        # Off, a tick --now leaves no clock behind for a later setting to pick up.
        assert session.scalar(select(func.count()).select_from(SimulatedClock)) == 0


@pytest.mark.parametrize("instance", [True], indirect=True)
def test_the_worker_goes_on_at_the_simulated_clock(instance):
    sent = _send_then_click(instance)
    worker = subprocess.Popen(
        [sys.executable, "-c", "from nurture.cli import main; main()", "worker"],
        env={**os.environ, **instance.env, "NURTURE_TICK_SECONDS": "0.5"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not instance.clicks():
            assert worker.poll() is None, "the worker stopped"
            assert time.monotonic() < deadline, "the worker did not process the click"
            time.sleep(0.3)
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=30)
    assert "Traceback" not in output, output

    (click,) = instance.clicks()
    # Judged and recorded at the simulated now, an hour and a few seconds after the send.
    read = sent + timedelta(hours=1)
    assert click.is_machine is False, click.machine_reasons
    assert read <= click.occurred_at <= click.recorded_at < read + timedelta(minutes=5)
