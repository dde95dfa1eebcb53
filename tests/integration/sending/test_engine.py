"""The drip engine end to end: claim, decide, render, deliver, record — on a real database,
with the local outbox or a real SMTP server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from nurture.campaigns.enrolment import enrol_lead, lead_changed
from nurture.campaigns.sync import campaign_spec_for_version
from nurture.models import (
    Campaign,
    Enrollment,
    EnrollmentHistory,
    Event,
    Lead,
    Message,
    OutboxMessage,
)
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime
from nurture.sending.engine import Engine
from nurture.sending.policy import DomainLimit
from nurture.sending.smtp import SmtpTransport
from nurture.sending.tick import TickReport
from tests.integration.engine_support import (
    FIXTURES,
    T0,
    add_lead,
    enrol,
    enrollment,
    messages_for,
    sync_fixture_campaigns,
    templates_sent,
)


def test_first_email_lands_in_outbox_with_rendered_subject_and_headers(drip):
    lead = add_lead(drip, "ada@acme.example", first_name="Ada")
    enrol(drip, lead)
    engine = Engine(drip)
    report = engine.tick(T0)
    assert report.sent == 1
    [message] = messages_for(drip, lead)
    assert (message.status, message.template, message.step_key) == (
        "sent",
        "welcome-guide",
        "cold/welcome",
    )
    with drip.sessions() as session:
        stored = session.scalars(select(OutboxMessage)).one()
        event = session.scalars(select(Event).where(Event.type == "email.sent")).one()
    raw = stored.raw.decode()
    assert "To: ada@acme.example" in raw
    assert f"Message-ID: <{message.message_id}>" in raw
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in raw
    assert "Ada" in raw
    assert event.message_id == message.id and event.lead_id == lead


def test_second_tick_at_same_time_sends_nothing_more(drip):
    enrol(drip, add_lead(drip, "bo@acme.example"))
    engine = Engine(drip)
    engine.tick(T0)
    again = engine.tick(T0)
    assert (again.claimed, again.sent) == (0, 0)


def test_wait_then_branch_on_human_open(drip):
    opener = add_lead(drip, "opener@acme.example")
    ignorer = add_lead(drip, "ignorer@acme.example")
    for lead in (opener, ignorer):
        enrol(drip, lead)
    engine = Engine(drip)
    engine.tick(T0)
    # Only a human open counts: a machine open on the ignorer's email must not.
    with transaction(drip.sessions) as session:
        for lead, machine in ((opener, False), (ignorer, True)):
            message = session.scalars(select(Message).where(Message.lead_id == lead)).one()
            session.add(
                Event(
                    lead_id=lead,
                    type="email.opened",
                    message_id=message.id,
                    occurred_at=T0 + timedelta(hours=2),
                    is_machine=machine,
                )
            )
    assert engine.tick(T0 + timedelta(days=2)).sent == 0  # still waiting
    engine.tick(T0 + timedelta(days=3))
    assert templates_sent(drip, opener) == ["welcome-guide", "cold-benchmark-report"]
    assert templates_sent(drip, ignorer) == ["welcome-guide", "cold-five-mistakes"]


def test_warming_up_mid_wait_switches_track_without_repeating_an_email(drip):
    lead = add_lead(drip, "warming@acme.example")
    enrollment_id = enrol(drip, lead)
    engine = Engine(drip)
    engine.tick(T0)
    with transaction(drip.sessions) as session:
        row = session.get(Lead, lead)
        row.temperature = "warm"
        assert lead_changed(session, row, T0 + timedelta(hours=1)) == 1
    # The switch is immediate (no tick needed): the enrolment is on the warm track, due now.
    switched = enrollment(drip, enrollment_id)
    assert (switched.track, switched.step) == ("warm", None)
    assert switched.next_due_at == T0 + timedelta(hours=1)
    engine.tick(T0 + timedelta(hours=1))
    assert templates_sent(drip, lead) == ["welcome-guide", "warm-case-study"]
    state = enrollment(drip, enrollment_id)
    assert (state.track, state.step) == ("warm", "pause")
    with drip.sessions() as session:
        actions = session.scalars(
            select(EnrollmentHistory.action).where(EnrollmentHistory.enrollment_id == enrollment_id)
        ).all()
    assert "switched" in actions and "skipped" in actions


def test_reaching_sales_stage_exits_before_the_next_email(drip):
    lead = add_lead(drip, "mql@acme.example")
    enrollment_id = enrol(drip, lead)
    engine = Engine(drip)
    engine.tick(T0)
    with transaction(drip.sessions) as session:
        session.execute(update(Lead).where(Lead.id == lead).values(stage="mql"))
    engine.tick(T0 + timedelta(days=3))
    assert templates_sent(drip, lead) == ["welcome-guide"]
    state = enrollment(drip, enrollment_id)
    assert (state.status, state.next_due_at) == ("exited", None)
    assert state.exit_reason


def test_unsubscribed_lead_gets_nothing_more(drip):
    lead = add_lead(drip, "gone@acme.example")
    enrol(drip, lead)
    engine = Engine(drip)
    engine.tick(T0)
    with transaction(drip.sessions) as session:
        session.execute(update(Lead).where(Lead.id == lead).values(unsubscribed_at=T0))
    engine.tick(T0 + timedelta(days=10))
    assert templates_sent(drip, lead) == ["welcome-guide"]


def test_send_window_in_lead_timezone(drip, tmp_path):
    folder = tmp_path / "campaigns"
    folder.mkdir()
    source = (FIXTURES / "drip.yaml").read_text()
    office_hours = source.replace(
        'days: mon-sun, hours: "00:00-24:00"', 'days: mon-fri, hours: "09:00-17:00"'
    )
    assert office_hours != source
    (folder / "drip.yaml").write_text(office_hours)
    sync_fixture_campaigns(drip, folder)
    tokyo = add_lead(drip, "tokyo@acme.example", timezone="Asia/Tokyo")
    enrol(drip, tokyo)
    engine = Engine(drip)
    evening_in_tokyo = T0 + timedelta(hours=1)  # 10:00 UTC = 19:00 JST
    assert engine.tick(evening_in_tokyo).sent == 0
    assert engine.tick(T0 + timedelta(hours=14, minutes=59)).sent == 0  # 08:59 JST
    assert engine.tick(T0 + timedelta(hours=15)).sent == 1  # 09:00 JST


def test_frequency_cap_counts_emails_from_other_campaigns(drip):
    lead = add_lead(drip, "busy@acme.example")
    with transaction(drip.sessions) as session:
        for days_ago in (1, 2, 3, 4, 5):
            session.add(
                Message(
                    lead_id=lead,
                    template="other",
                    to_address="busy@acme.example",
                    message_id=f"m{days_ago}@x",
                    token=f"t{days_ago}",
                    status="sent",
                    queued_at=T0 - timedelta(days=days_ago),
                    kind="campaign",
                )
            )
    enrol(drip, lead)
    engine = Engine(drip)
    assert engine.tick(T0).sent == 0
    # The oldest of the five leaves the 7-day window two days later.
    assert engine.tick(T0 + timedelta(days=2, minutes=1)).sent == 1


def test_re_entry_after_finish_respects_cool_down(drip):
    lead = add_lead(drip, "again@acme.example")
    first = enrol(drip, lead)
    with transaction(drip.sessions) as session:
        session.execute(
            update(Enrollment)
            .where(Enrollment.id == first)
            .values(status="completed", finished_at=T0, next_due_at=None)
        )

    def try_enrol(now):
        with transaction(drip.sessions) as session:
            campaign = session.scalar(select(Campaign).where(Campaign.key == "test-drip"))
            spec = campaign_spec_for_version(session, campaign.active_version_id)
            return enrol_lead(session, session.get(Lead, lead), campaign, spec, now)

    assert "cool-down" in try_enrol(T0 + timedelta(days=10)).reason
    outcome = try_enrol(T0 + timedelta(days=31))
    assert outcome.enrolled and outcome.enrollment.entry_number == 2


def test_a_second_copy_of_a_step_cannot_be_recorded(drip):
    lead = add_lead(drip, "dup@acme.example")
    enrollment_id = enrol(drip, lead)
    Engine(drip).tick(T0)
    with pytest.raises(IntegrityError), transaction(drip.sessions) as session:
        session.add(
            Message(
                lead_id=lead,
                enrollment_id=enrollment_id,
                step_key="cold/welcome",
                template="welcome-guide",
                to_address="dup@acme.example",
                message_id="dup@x",
                token="dup-token",
            )
        )


def test_smtp_delivery_to_a_real_server(drip, smtp_sink):
    lead = add_lead(drip, "smtp@acme.example", first_name="Grace")
    enrol(drip, lead)
    rt = Runtime.from_settings(drip.settings.with_overrides(smtp_url=smtp_sink.url))
    engine = Engine(rt)
    try:
        report = engine.tick(T0)
    finally:
        engine.close()
        rt.close()
    assert report.sent == 1
    [received] = smtp_sink.received
    assert received["To"] == "smtp@acme.example"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Grace" in received.get_body(("plain",)).get_content()
    assert "Grace" in received.get_body(("html",)).get_content()
    [message] = messages_for(drip, lead)
    assert message.smtp_code == 250 and message.status == "sent"


def test_temporary_smtp_failure_is_retried_with_backoff(drip, smtp_sink):
    lead = add_lead(drip, "retry@acme.example")
    enrol(drip, lead)
    smtp_sink.fail_next.append("451 4.3.0 try again later")
    rt = Runtime.from_settings(drip.settings.with_overrides(smtp_url=smtp_sink.url))
    engine = Engine(rt)
    try:
        first = engine.tick(T0)
        [message] = messages_for(drip, lead)
        assert (first.deferred, message.status, message.smtp_code) == (1, "deferred", 451)
        assert engine.tick(T0 + timedelta(seconds=1)).sent == 0  # backoff not over
        later = engine.tick(message.next_attempt_at)
    finally:
        engine.close()
        rt.close()
    assert later.sent == 1
    [message] = messages_for(drip, lead)
    assert (message.status, message.attempts) == ("sent", 2)
    assert len(smtp_sink.received) == 1


def test_permanent_smtp_failure_is_recorded_not_retried(drip, smtp_sink):
    lead = add_lead(drip, "nobody@acme.example")
    enrol(drip, lead)
    smtp_sink.fail_next.append("550 5.1.1 no such user")
    rt = Runtime.from_settings(drip.settings.with_overrides(smtp_url=smtp_sink.url))
    engine = Engine(rt)
    try:
        engine.tick(T0)
        assert engine.tick(T0 + timedelta(days=1)).retried == 0
    finally:
        engine.close()
        rt.close()
    [message] = messages_for(drip, lead)
    assert (message.status, message.smtp_code) == ("failed", 550)
    with drip.sessions() as session:
        assert session.scalars(select(Event.type).where(Event.lead_id == lead)).all() == [
            "email.failed"
        ]


def test_smtp_down_then_back_delivers_everything_once(drip, smtp_sink):
    leads = [add_lead(drip, f"down{i}@acme.example") for i in range(3)]
    for lead in leads:
        enrol(drip, lead)
    down = Runtime.from_settings(drip.settings.with_overrides(smtp_url="smtp://127.0.0.1:9"))
    engine = Engine(down)
    try:
        report = engine.tick(T0)
    finally:
        engine.close()
        down.close()
    assert (report.sent, report.deferred) == (0, 3)
    up = Runtime.from_settings(drip.settings.with_overrides(smtp_url=smtp_sink.url))
    engine = Engine(up)
    try:
        report = engine.tick(T0 + timedelta(hours=2))
    finally:
        engine.close()
        up.close()
    assert report.sent == 3
    assert sorted(m["To"] for m in smtp_sink.received) == sorted(
        f"down{i}@acme.example" for i in range(3)
    )


def test_message_of_a_crashed_worker_is_sent_after_its_lease(drip):
    lead = add_lead(drip, "crash@acme.example")
    enrol(drip, lead)
    engine = Engine(drip)
    # Phase one commits; then the worker "dies" before delivering.
    assert engine.decider.decide_batch(T0, TickReport())
    [message] = messages_for(drip, lead)
    assert message.status == "sending"
    assert engine.tick(T0 + timedelta(minutes=1)).sent == 0  # lease still held
    report = engine.tick(T0 + drip.settings.send_lease + timedelta(seconds=1))
    assert report.retried == 1 and report.sent == 1
    with drip.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_domain_throttle_defers_the_excess_and_sends_it_when_the_period_frees(drip):
    gmail = [add_lead(drip, f"g{i}@gmail.com") for i in range(3)]
    other = add_lead(drip, "x@acme.example")
    for lead in (*gmail, other):
        enrol(drip, lead)
    throttled = Runtime.from_settings(
        drip.settings.with_overrides(
            domain_throttle=(DomainLimit("gmail.com", 2, timedelta(hours=1)),)
        )
    )
    engine = Engine(throttled)
    try:
        assert engine.tick(T0).sent == 3
        assert sorted(len(templates_sent(drip, lead)) for lead in gmail) == [0, 1, 1]
        assert templates_sent(drip, other) == ["welcome-guide"]
        assert engine.tick(T0 + timedelta(minutes=30)).sent == 0  # still two in the last hour
        assert engine.tick(T0 + timedelta(hours=1, minutes=5)).sent == 1
    finally:
        engine.close()
        throttled.close()
    assert all(templates_sent(drip, lead) == ["welcome-guide"] for lead in gmail)


def test_warm_up_cap_holds_the_rest_until_the_next_day(drip):
    leads = [add_lead(drip, f"w{i}@acme.example") for i in range(3)]
    for lead in leads:
        enrol(drip, lead)
    warming = Runtime.from_settings(
        drip.settings.with_overrides(warmup_start=T0.date(), warmup_schedule=(2, 10))
    )
    engine = Engine(warming)
    try:
        assert engine.tick(T0).sent == 2
        assert engine.tick(T0 + timedelta(hours=3)).sent == 0
        assert engine.tick(T0 + timedelta(days=1)).sent == 1
    finally:
        engine.close()
        warming.close()


def test_a_deferred_email_is_cancelled_if_the_lead_unsubscribes_before_the_retry(drip, smtp_sink):
    lead = add_lead(drip, "gone@acme.example")
    enrol(drip, lead)
    smtp_sink.fail_next.append("451 4.3.0 try again later")
    rt = Runtime.from_settings(drip.settings.with_overrides(smtp_url=smtp_sink.url))
    engine = Engine(rt)
    try:
        assert engine.tick(T0).deferred == 1
        [message] = messages_for(drip, lead)
        with transaction(drip.sessions) as session:
            session.execute(update(Lead).where(Lead.id == lead).values(unsubscribed_at=T0))
        engine.tick(message.next_attempt_at)
    finally:
        engine.close()
        rt.close()
    [message] = messages_for(drip, lead)
    assert message.status == "cancelled" and "can no longer be mailed" in message.error
    assert smtp_sink.received == []


class WorkerKilled(BaseException):
    """What a worker killed mid-send looks like to the engine: it stops, wherever it was."""


class DyingTransport:
    """A real SMTP transport that stops for good after ``after`` messages."""

    def __init__(self, url: str, after: int) -> None:
        self.inner = SmtpTransport(url)
        self.after = after
        self.sent = 0

    def send_many(self, items):  # type: ignore[no-untyped-def]
        results = []
        for item in items:
            if self.sent == self.after:
                raise WorkerKilled
            results.extend(self.inner.send_many([item]))
            self.sent += 1
        return results

    def close(self) -> None:
        self.inner.close()


def test_a_worker_killed_mid_batch_sends_again_only_the_group_in_flight(drip, smtp_sink):
    leads = [add_lead(drip, f"kill{i:02d}@acme.example") for i in range(50)]
    for lead in leads:
        enrol(drip, lead)
    settings = drip.settings.with_overrides(smtp_url=smtp_sink.url, outcome_group=10)
    rt = Runtime.from_settings(settings)
    engine = Engine(rt, transport=DyingTransport(smtp_sink.url, after=25))
    with pytest.raises(RuntimeError, match="delivery lane failed"):
        engine.tick(T0)
    engine.close()
    # Two groups of 10 were answered and written down as they went; the third died with
    # 5 of its messages accepted by the server and none recorded.
    with drip.sessions() as session:
        statuses = dict(
            session.execute(select(Message.status, func.count()).group_by(Message.status)).all()
        )
    assert statuses == {"sent": 20, "sending": 30}
    assert len(smtp_sink.received) == 25
    # The next worker retries the unrecorded ones once their lease is over: the 5 that were
    # in flight go twice, nothing else does, nothing is lost.
    engine = Engine(rt)
    try:
        report = engine.tick(T0 + settings.send_lease + timedelta(seconds=1))
    finally:
        engine.close()
        rt.close()
    assert report.sent == 30
    addresses = [m["To"] for m in smtp_sink.received]
    assert len(addresses) == 55 and len(set(addresses)) == 50
