"""The handoff SLA on a real database: the deadline in the owner's working hours is in the
notification, the owner is reminded before it, a breach escalates to the manager and to
the next rep, and compliance is recorded per handoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from nurture.handoff import accept
from nurture.handoff.sla import SlaPolicy, run_due
from nurture.handoff.sla.service import compliance_report
from nurture.models import Handoff, HandoffSla, Message, OutboxMessage
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime
from nurture.sending.engine import Engine
from tests.integration.engine_support import add_lead
from tests.integration.handoff_support import (
    add_account,
    handoff_row,
    owner_email,
    qualify,
    rep_yaml,
    sync_team_file,
    write_team,
)

ANN, BEN = "ann@sales.example", "ben@sales.example"
# Tuesday 1 December 2026, 10:00 in New York (15:00 UTC).
T = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
HOURS = "mon-fri 09:00-17:00"


def make_runtime(settings, tmp_path, escalate=("manager", "reassign")) -> Runtime:
    rt = Runtime.from_settings(
        settings.with_overrides(sla=SlaPolicy(timedelta(hours=1), 0.75, escalate))
    )
    reps = [
        rep_yaml("Ann Rep", ANN, timezone="America/New_York", hours=HOURS),
        rep_yaml("Ben Rep", BEN, timezone="America/New_York", hours=HOURS),
    ]
    sync_team_file(rt, write_team(tmp_path / "team.yaml", reps), T)
    return rt


def sla_row(runtime: Runtime, handoff_id: int) -> HandoffSla:
    with runtime.sessions() as session:
        return session.get(HandoffSla, handoff_id)


def outbox(runtime: Runtime, now: datetime) -> list[tuple[str, str, str]]:
    """Send what is queued, then (kind, recipient, subject) of every email sent."""
    engine = Engine(runtime)
    try:
        engine.tick(now)
    finally:
        engine.close()
    with runtime.sessions() as session:
        return [
            (m.kind, m.to_address, m.subject or "")
            for m in session.scalars(
                select(Message).where(Message.status == "sent").order_by(Message.id)
            )
        ]


def lead_at_acme(runtime: Runtime) -> int:
    account = add_account(runtime, "acme.example", country="US", employees=300)
    return add_lead(runtime, "ada@acme.example", account_id=account, first_name="Ada")


def test_the_deadline_counts_the_owners_hours_and_is_in_the_notification(settings, tmp_path):
    rt = make_runtime(settings, tmp_path)
    try:
        friday_evening = datetime(2026, 12, 4, 22, 30, tzinfo=UTC)  # 17:30 in New York
        handoff_id = qualify(rt, lead_at_acme(rt), friday_evening)
        clock = sla_row(rt, handoff_id)
        # Monday 09:00-10:00 in New York is the first working hour after Friday 17:30.
        assert clock.due_at == datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
        assert clock.remind_at == datetime(2026, 12, 7, 14, 45, tzinfo=UTC)
        assert (clock.timezone, clock.working_hours) == ("America/New_York", HOURS)
        sent = outbox(rt, friday_evening)
        assert [kind for kind, _, _ in sent] == ["handoff"]
        with rt.sessions() as session:
            body = session.scalar(select(OutboxMessage.raw)).decode()
        assert "by Mon 7 Dec, 10:00 (America/New_York time; 1 business hour)" in body
        # Nothing is due over the weekend.
        assert not run_due(rt, datetime(2026, 12, 6, 12, 0, tzinfo=UTC)).anything
    finally:
        rt.close()


def test_the_owner_is_reminded_then_a_breach_escalates_to_the_manager_and_the_next_rep(
    settings, tmp_path
):
    rt = make_runtime(settings, tmp_path)
    try:
        first = qualify(rt, lead_at_acme(rt), T)
        owner = owner_email(rt, first)
        other = BEN if owner == ANN else ANN

        assert not run_due(rt, T + timedelta(minutes=30)).anything
        reminded = run_due(rt, T + timedelta(minutes=46))
        assert (reminded.reminded, reminded.breached) == (1, 0)
        assert not run_due(rt, T + timedelta(minutes=50)).anything  # reminded once
        sent = outbox(rt, T + timedelta(minutes=46))
        assert ("sla_reminder", owner) in [(k, to) for k, to, _ in sent]
        reminder = next(subject for kind, _, subject in sent if kind == "sla_reminder")
        assert reminder.startswith("Reminder: Ada")

        breached = run_due(rt, T + timedelta(minutes=61))
        assert (breached.breached, breached.reassigned, breached.managers_told) == (1, 1, 1)
        old = sla_row(rt, first)
        assert old.status == "breached" and old.breached_at == T + timedelta(hours=1)
        assert old.escalation["reassigned_to"] == other
        assert handoff_row(rt, first).status == "reassigned"
        with rt.sessions() as session:
            new = session.scalar(select(Handoff).where(Handoff.previous_id == first))
        assert owner_email(rt, new.id) == other
        # The new owner has a fresh hour.
        assert sla_row(rt, new.id).due_at == T + timedelta(minutes=121)

        sent = outbox(rt, T + timedelta(minutes=61))
        escalation = [(to, subject) for kind, to, subject in sent if kind == "sla_escalation"]
        assert escalation == [
            (
                "boss@sales.example",
                f"SLA missed: Ada (Acme) was not answered within 1 business hour — now with "
                f"{'Ben Rep' if other == BEN else 'Ann Rep'}",
            )
        ]
        assert ("handoff", other) in [(k, to) for k, to, _ in sent]

        # The new owner accepts in 20 minutes: met, and the time is recorded.
        with transaction(rt.sessions) as session:
            accept(session, new.id, now=T + timedelta(minutes=81))
        met = sla_row(rt, new.id)
        assert (met.status, met.response) == ("met", "accepted")
        assert met.response_business_seconds == 20 * 60
        with rt.sessions() as session:
            report = {row.rep: row for row in compliance_report(session)}
        assert (report[owner].breached, report[owner].met) == (1, 0)
        assert (report[other].met, report[other].median_business_minutes) == (1, 20.0)
    finally:
        rt.close()


def test_a_late_accept_keeps_the_breach_and_manager_only_escalation_keeps_the_owner(
    settings, tmp_path
):
    rt = make_runtime(settings, tmp_path, escalate=("manager",))
    try:
        handoff_id = qualify(rt, lead_at_acme(rt), T)
        report = run_due(rt, T + timedelta(hours=2))
        assert (report.breached, report.reassigned, report.managers_told) == (1, 0, 1)
        assert handoff_row(rt, handoff_id).status == "offered"
        with transaction(rt.sessions) as session:
            accept(session, handoff_id, now=T + timedelta(hours=3))
        late = sla_row(rt, handoff_id)
        assert (late.status, late.response) == ("breached", "accepted")
        assert late.response_business_seconds == 3 * 3600
        # A decided handoff is never escalated again.
        assert not run_due(rt, T + timedelta(days=3)).anything
    finally:
        rt.close()


def test_a_lead_nobody_could_take_is_timed_in_the_default_hours_and_the_manager_reminded(
    settings, tmp_path
):
    rt = Runtime.from_settings(settings.with_overrides(sla=SlaPolicy(escalate=("manager",))))
    try:
        away = rep_yaml("Ann Rep", ANN, active=False)
        sync_team_file(rt, write_team(tmp_path / "team.yaml", [away], fallback="unassigned"), T)
        handoff_id = qualify(rt, lead_at_acme(rt), T)
        assert handoff_row(rt, handoff_id).needs_owner
        clock = sla_row(rt, handoff_id)
        # The default send window (mon-fri 09:00-17:00) in the default timezone (UTC).
        assert (clock.timezone, clock.working_hours) == ("UTC", "mon,tue,wed,thu,fri 09:00-17:00")
        assert clock.due_at == T + timedelta(hours=1)
        assert run_due(rt, T + timedelta(minutes=46)).reminded == 1
        sent = outbox(rt, T + timedelta(minutes=46))
        assert ("sla_reminder", "boss@sales.example") in [(k, to) for k, to, _ in sent]
        assert run_due(rt, T + timedelta(minutes=61)).managers_told == 1
    finally:
        rt.close()
