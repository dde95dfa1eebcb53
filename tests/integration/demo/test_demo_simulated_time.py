"""The demo is a simulated-time instance: its clock is left at the end of the simulated
weeks, so a reader's click on one of its emails, served by the demo's web app, lands after
the send on that clock and counts as a person's, even when the weeks lie in the future."""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

from sqlalchemy import select

from nurture.cli import cli
from nurture.demo import demo_settings, run_demo
from nurture.models import Event, Message, OutboxMessage
from nurture.platform.config import Settings
from nurture.platform.db import utcnow
from nurture.platform.runtime import Runtime
from nurture.web import create_app
from tests.integration.tracking_support import CHROME


def test_a_click_on_a_demo_email_after_the_demo_is_a_person_on_the_demo_clock(settings):
    demo = demo_settings(settings)
    assert demo.simulated_time
    # Simulated weeks that end two months from now: the wall clock is before every send.
    result = run_demo(demo, weeks=1, today=utcnow() + timedelta(days=60))

    runtime = Runtime.from_settings(demo)
    app = create_app({"NURTURE_SETTINGS": demo, "TESTING": True})
    try:
        with runtime.sessions() as session:
            # A campaign email sent well before the end, so only the reader's timing counts.
            message = session.scalars(
                select(Message)
                .where(
                    Message.kind == "campaign",
                    Message.status == "sent",
                    Message.sent_at < result.end - timedelta(hours=1),
                )
                .order_by(Message.sent_at.desc())
            ).first()
            assert message is not None
            raw = session.scalars(
                select(OutboxMessage.raw).where(OutboxMessage.message_id == message.id)
            ).one()
        email = message_from_bytes(raw, policy=policy.default)
        assert isinstance(email, EmailMessage)
        html = email.get_body(preferencelist=("html",))
        assert html is not None
        # Its first tracked link that is not the honeypot (link index -1).
        links = re.findall(r'href="http://nurture\.test(/t/c/[^"]+)"', html.get_content())
        link = next(path for path in links if ".-1." not in path)

        answer = app.test_client().get(link, headers={"User-Agent": CHROME})
        assert answer.status_code == 302
        # `nurture tick` on the demo's instance, as the demo's closing lines suggest.
        env = {
            "NURTURE_INSTANCE_PATH": str(demo.instance_path),
            "NURTURE_SECRET_KEY": demo.secret_key,
            "NURTURE_SIMULATED_TIME": "1",
        }
        ticked = create_app({"NURTURE_SETTINGS": Settings.from_env(env), "TESTING": True})
        try:
            result_of_tick = ticked.test_cli_runner().invoke(cli, ["tick"])
        finally:
            ticked.extensions["nurture"].close()
        assert result_of_tick.exit_code == 0, result_of_tick.output

        with runtime.sessions() as session:
            click = session.scalars(
                select(Event)
                .where(Event.message_id == message.id, Event.type == "email.clicked")
                .order_by(Event.occurred_at.desc())
            ).first()
        assert click is not None
        assert result.end <= click.occurred_at < result.end + timedelta(minutes=5)
        assert click.is_machine is False, click.machine_reasons
    finally:
        app.extensions["nurture"].close()
        runtime.close()
