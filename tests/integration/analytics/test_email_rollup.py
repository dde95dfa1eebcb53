"""The campaign results' roll-up (``nurture.analytics.email_rollup``): every change the
figures count — the send recorder, the hit processor's engagement, bounce and complaint
reports, unsubscribes, erasures, a deleted lead — queues its lead (the triggers of
migration 9790); the worker's pass (``nurture.worker.rollups``) brings the tables exactly
equal to a full recomputation from the messages whatever the order; the report answers
every grouping as reading every email would, whether the pass has run or not; the
migration fills the tables and ``nurture db rebuild-rollups`` rebuilds them."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, update

from nurture.analytics import campaign_results as results
from nurture.analytics import campaign_rollup, email_rollup_rebuild
from nurture.analytics.campaign_rollup import ROLLED_UP_GROUPS, answers, rolled_up_results
from nurture.analytics.email_rollup import ROLLUP_LOCK
from nurture.analytics.filters import ReportFilter
from nurture.handoff.team_sync import active_team
from nurture.models import (
    Account,
    Campaign,
    CampaignEmailDay,
    EmailRollupQueue,
    Event,
    Handoff,
    Lead,
    Message,
    RolledUpEmail,
    RolledUpLead,
    SalesRep,
)
from nurture.platform import migrate
from nurture.platform.db import make_engine, serialize, transaction
from nurture.privacy import erase_lead
from nurture.privacy.unsubscribe import unsubscribe_by_token
from nurture.sending.bounces.apply import ingest_file
from nurture.sending.delivery import DeliveryResult
from nurture.sending.record import OutcomeRecorder
from nurture.sending.tick import Prepared, TickReport
from nurture.tracking import note_engagement, refresh_engagement
from nurture.worker.rollups import roll_up_campaign_results
from tests.integration.bounce_support import arf, dsn
from tests.integration.engine_support import T0, add_lead, sync_fixture_campaigns
from tests.integration.handoff_support import add_account, rep_yaml, sync_team_file, write_team

LEADS = 3
STEPS = (("cold/welcome", "welcome-guide"), ("cold/followup", "cold-five-mistakes"))
_SERIAL = itertools.count()


@pytest.fixture
def world(runtime, tmp_path) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    sync_fixture_campaigns(runtime, now=T0)
    reps = [rep_yaml("Ann", "ann@sales.example"), rep_yaml("Bob", "bob@sales.example")]
    sync_team_file(runtime, write_team(tmp_path / "team.yaml", reps), T0)
    accounts = [add_account(runtime, f"a{n}.example", employees=(50, 5000)[n]) for n in (0, 1)]
    with runtime.sessions() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.key == "test-drip"))
        assert campaign is not None and campaign.active_version_id is not None
        ids = (campaign.id, campaign.active_version_id)
    leads = [
        add_lead(runtime, f"p{n}@acme.example", source=("ads", "webinar")[n % 2])
        for n in range(LEADS)
    ]
    with runtime.sessions() as session:
        rep_ids = list(session.scalars(select(SalesRep.id).order_by(SalesRep.id)))
    # The lead groups computed once (with the team's segments), as the worker's first
    # pass does.
    roll_up_campaign_results(runtime)
    return {"campaign": ids, "leads": leads, "accounts": accounts, "reps": rep_ids}


def regroup(runtime, world, lead_id: int, what: str, choice: int) -> None:  # type: ignore[no-untyped-def]
    """A change of one of a lead's groups: its grade, source, account, its account's
    employees (its segment), or a handoff to a rep (its owner)."""
    with transaction(runtime.sessions) as session:
        if what == "handoff":
            session.add(
                Handoff(
                    lead_id=lead_id, rep_id=[*world["reps"], None][choice % 3],
                    assignment_method="manual", assignment_reason="test",
                    qualification_rule="test", token=f"h{next(_SERIAL):031d}",
                )
            )  # fmt: skip
        elif what == "employees":
            session.execute(
                update(Account)
                .where(Account.id == world["accounts"][0])
                .values(employees=(50, 5000, None)[choice % 3])
            )
        else:
            value = {
                "fit_grade": ("A", "B", None),
                "source": ("ads", "webinar", None),
                "account_id": (*world["accounts"], None),
            }[what][choice % 3]
            session.execute(update(Lead).where(Lead.id == lead_id).values({what: value}))


def send(runtime, world, lead_id: int, step: int, day: int, accepted: bool) -> None:  # type: ignore[no-untyped-def]
    """A message queued as the decide phase queues it, its outcome recorded as the worker
    records it (a refused one fails and is never counted)."""
    serial = next(_SERIAL)
    token = f"{serial:032d}"
    step_key, template = STEPS[step]
    campaign_id, version_id = world["campaign"]
    with transaction(runtime.sessions) as session:
        lead = session.get(Lead, lead_id)
        campaign = session.get(Campaign, campaign_id)
        assert lead is not None
        message = Message(
            lead_id=lead_id, campaign_id=campaign_id, campaign_version_id=version_id,
            step_key=step_key, kind="campaign", template=template, to_address=lead.email,
            message_id=f"m{serial}@nurture.test", token=token, status="queued",
        )  # fmt: skip
        session.add(message)
        session.flush()
        prepared = Prepared(message.id, token, message.message_id, template, lead.email, lead,
                            campaign)  # fmt: skip
        session.expunge_all()
    result = DeliveryResult("sent", 250, "ok") if accepted else DeliveryResult(
        "permanent", 550, "5.7.1 refused by policy", "RCPT"
    )  # fmt: skip
    OutcomeRecorder(runtime).record(
        [prepared],
        {prepared.message_pk: (result, "Hello", "v1", None)},
        T0 + timedelta(days=day, hours=step),
        TickReport(),
    )


def hit(runtime, message_id: int, kind: str, machine: bool, hours: int) -> None:  # type: ignore[no-untyped-def]
    """An open or click as the hit processor records it: the event, then the message's
    engagement moved by it."""
    with transaction(runtime.sessions) as session:
        message = session.get(Message, message_id)
        assert message is not None and message.sent_at is not None
        row = {
            "lead_id": message.lead_id, "type": kind, "message_id": message.id,
            "campaign_id": message.campaign_id, "step_key": message.step_key,
            "occurred_at": message.sent_at + timedelta(hours=hours),
            "recorded_at": message.sent_at + timedelta(hours=hours),
            "is_machine": machine, "machine_reasons": ["scanner"] if machine else [],
            "properties": {},
        }  # fmt: skip
        session.add(Event(**row))
        session.flush()
        note_engagement(session, [row])


def reflag(runtime, message_id: int) -> None:  # type: ignore[no-untyped-def]
    """A person's hits on a message found to be a scanner's after all."""
    with transaction(runtime.sessions) as session:
        session.execute(update(Event).where(Event.message_id == message_id).values(is_machine=True))
        refresh_engagement(session, [message_id])


def report(runtime, message_id: int, kind: str) -> None:  # type: ignore[no-untyped-def]
    """A bounce (hard or soft) or a complaint, as a mailbox provider sends it."""
    with runtime.sessions() as session:
        message = session.get(Message, message_id)
        assert message is not None
        token, address = message.token, message.to_address
    bounce_id = f"b{next(_SERIAL)}@mx.example.net"
    raw = {
        "hard": lambda: dsn(address, "5.1.1", "550 5.1.1 no such user", bounce_id=bounce_id,
                            token=token),
        "soft": lambda: dsn(address, "4.2.2", "452 4.2.2 mailbox full", bounce_id=bounce_id,
                            token=token),
        "complaint": lambda: arf(bounce_id, token=token),
    }[kind]()  # fmt: skip
    ingest_file(runtime.sessions, raw, label="r.eml", soft_bounce_limit=3, now=T0)


def unsubscribe(runtime, message_id: int) -> None:  # type: ignore[no-untyped-def]
    with runtime.sessions() as session:
        message = session.get(Message, message_id)
        assert message is not None
        token = message.token
    with transaction(runtime.sessions) as session:
        unsubscribe_by_token(session, token, source="link", now=T0)


def erase(runtime, lead_id: int) -> None:  # type: ignore[no-untyped-def]
    with transaction(runtime.sessions) as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None
        if lead.erased_at is None:
            erase_lead(session, str(lead_id), now=T0, actor="test",
                       instance_path=runtime.settings.instance_path)  # fmt: skip


def sent_messages(runtime) -> list[int]:  # type: ignore[no-untyped-def]
    with runtime.sessions() as session:
        return list(
            session.scalars(
                select(Message.id).where(Message.sent_at.is_not(None)).order_by(Message.id)
            )
        )


def differences(runtime) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with runtime.sessions() as session:
        return email_rollup_rebuild.count_differences(session)


def figures_both_ways(runtime, wanted: ReportFilter, *, version_id=None):  # type: ignore[no-untyped-def]
    """The period's figures from the roll-up and from every email (what the report reads
    when the roll-up cannot answer), conversions left out of both."""
    with runtime.sessions() as session:
        start, end = wanted.start_at, wanted.end_at
        team = active_team(session)
        rolled = rolled_up_results(session, wanted, start, end, campaign_id=None,
                                   version_id=version_id, team=team)  # fmt: skip
        emails = results._emails  # the report's own reading of the messages
        read = results._read_emails(
            wanted,
            lambda: emails(wanted, team, start, end, campaign_id=None, version_id=version_id,
                           all_mail=False),
            session,
        )  # fmt: skip
    return rolled, read


NOTHING = {
    "rolled_up_emails": 0,
    "rolled_up_leads": 0,
    "campaign_email_days": 0,
    "campaign_group_days": 0,
    "campaign_recipient_days": 0,
}

STEP = st.one_of(
    st.tuples(st.just("send"), st.integers(0, LEADS - 1), st.integers(0, 1),
              st.integers(-40, 40), st.sampled_from([True, True, True, False])),
    st.tuples(st.just("hit"), st.integers(0, 99), st.sampled_from(["email.opened",
              "email.clicked"]), st.booleans(), st.integers(0, 30)),
    st.tuples(st.just("reflag"), st.integers(0, 99)),
    st.tuples(st.just("report"), st.integers(0, 99), st.sampled_from(["hard", "soft",
              "complaint"])),
    st.tuples(st.just("unsubscribe"), st.integers(0, 99)),
    st.tuples(st.just("erase"), st.integers(0, LEADS - 1)),
    st.tuples(st.just("pass"), st.integers(1, 3)),
    st.tuples(st.just("regroup"), st.integers(0, LEADS - 1),
              st.sampled_from(["fit_grade", "source", "account_id", "employees", "handoff"]),
              st.integers(0, 2)),
)  # fmt: skip
PERIOD = st.tuples(st.integers(-45, 45), st.integers(1, 60))


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEP, min_size=1, max_size=12), periods=st.lists(PERIOD, max_size=2))
def test_the_roll_up_equals_a_full_recomputation_after_any_sequence_of_changes(
    runtime, world, steps, periods
):
    # Each example adds to the same database: the roll-up must hold over all of them.
    leads = world["leads"]
    for kind, *args in steps:
        sent = sent_messages(runtime)
        if kind == "send":
            lead, step, day, accepted = args
            send(runtime, world, leads[lead], step, day, accepted)
        elif kind == "erase":
            erase(runtime, leads[args[0]])
        elif kind == "regroup":
            regroup(runtime, world, leads[args[0]], args[1], args[2])
        elif kind == "pass":
            # A small batch: a pass's several transactions, and leads left queued.
            roll_up_campaign_results(runtime, batch=args[0])
        elif sent:
            message = sent[args[0] % len(sent)]
            if kind == "hit":
                hit(runtime, message, args[1], args[2], args[3])
            elif kind == "reflag":
                reflag(runtime, message)
            elif kind == "report":
                report(runtime, message, args[1])
            else:
                unsubscribe(runtime, message)
        # Before the pass, the report rolls the queued leads up itself.
        assert_report_equal(runtime, [(-45, 100), *periods])
    roll_up_campaign_results(runtime)
    assert queue(runtime) == []
    assert differences(runtime) == NOTHING
    assert_report_equal(runtime, [(-45, 100), *periods])


def assert_report_equal(runtime, periods) -> None:  # type: ignore[no-untyped-def]
    start = date(T0.year, T0.month, T0.day)
    for offset, days in periods:
        first = start + timedelta(days=offset)
        for by in (None, *ROLLED_UP_GROUPS):
            wanted = ReportFilter(first, first + timedelta(days=days), group_by=by)
            rolled, read = figures_both_ways(runtime, wanted)
            assert rolled == read, (by, first, days)


def queue(runtime) -> list[int]:  # type: ignore[no-untyped-def]
    with runtime.sessions() as session:
        return sorted(session.scalars(select(EmailRollupQueue.lead_id)))


def test_sends_and_outcomes_queue_their_lead_and_nothing_else_does(runtime, world):  # type: ignore[no-untyped-def]
    lead, other, _ = world["leads"]
    send(runtime, world, lead, 0, 1, False)  # refused: never sent, never counted
    assert queue(runtime) == []
    send(runtime, world, lead, 0, 1, True)
    assert queue(runtime) == [lead]
    roll_up_campaign_results(runtime)
    assert queue(runtime) == [] and differences(runtime) == NOTHING
    (message,) = sent_messages(runtime)
    with transaction(runtime.sessions) as session:
        # A column the figures do not read: nothing to roll up.
        session.execute(update(Message).where(Message.id == message).values(subject="Hi"))
    assert queue(runtime) == []
    hit(runtime, message, "email.opened", False, 2)
    assert queue(runtime) == [lead]
    send(runtime, world, other, 1, 3, True)
    roll_up_campaign_results(runtime, batch=1)
    assert queue(runtime) == [] and differences(runtime) == NOTHING
    with transaction(runtime.sessions) as session:
        session.execute(delete(Lead).where(Lead.id == other))
    assert queue(runtime) == [other]
    roll_up_campaign_results(runtime)
    assert differences(runtime) == NOTHING
    with runtime.sessions() as session:
        assert session.scalar(select(CampaignEmailDay.sent)) == 1


def test_the_migration_fills_the_roll_up_from_messages_already_recorded(
    runtime, world, database_url
):
    for lead, step, day in ((0, 0, 1), (0, 1, 4), (1, 0, 1), (2, 0, 35)):
        send(runtime, world, world["leads"][lead], step, day, True)
    first, *_ = sent_messages(runtime)
    hit(runtime, first, "email.clicked", False, 2)
    report(runtime, first + 1, "soft")
    with runtime.sessions() as session:
        team = active_team(session)
        before = set(session.execute(email_rollup_rebuild.recomputed_recipient_days(team)))
    assert len(before) > 4
    engine = make_engine(database_url)
    try:
        config = migrate.alembic_config(database_url)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            down = ScriptDirectory.from_config(config).get_revision("9790").down_revision
            command.downgrade(config, str(down))
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    # The lead groups wait for the sales team's segments: the worker's first pass.
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(RolledUpLead)) == 0
    roll_up_campaign_results(runtime)
    assert differences(runtime) == NOTHING
    with runtime.sessions() as session:
        assert session.scalar(select(CampaignEmailDay.sent).limit(1))


def test_the_rebuild_command_puts_a_damaged_roll_up_right(runtime, world, db_command):
    for lead, day in ((0, 1), (1, 2)):
        send(runtime, world, world["leads"][lead], 0, day, True)
    roll_up_campaign_results(runtime)
    with transaction(runtime.sessions) as session:
        session.execute(delete(RolledUpEmail).where(RolledUpEmail.lead_id == world["leads"][0]))
        session.execute(update(CampaignEmailDay).values(opened=7))
    checked = db_command("rebuild-rollups", "--check")
    assert checked.exit_code == 1
    # One email missing (one row on the messages' side); two days with other figures
    # (each counts on both sides).
    assert "rolled_up_emails: 1 rows differ" in checked.output
    assert "campaign_email_days: 4 rows differ" in checked.output
    rebuilt = db_command("rebuild-rollups")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "rolled_up_emails: 2 rows recomputed from the messages (1 differed before)" in (
        rebuilt.output
    )
    assert differences(runtime) == NOTHING
    assert db_command("rebuild-rollups", "--check").exit_code == 0


def test_lead_filters_and_other_mail_read_the_emails(runtime):  # type: ignore[no-untyped-def]
    year = ReportFilter(date(2026, 1, 1), date(2027, 1, 1))
    assert answers(year, version_id=None, all_mail=False)
    assert not answers(year, version_id=None, all_mail=True)
    assert not answers(ReportFilter(year.start, year.end, grade="A"), version_id=None,
                       all_mail=False)  # fmt: skip
    assert answers(ReportFilter(year.start, year.end, group_by="source"), version_id=None,
                   all_mail=False)  # fmt: skip
    assert not answers(ReportFilter(year.start, year.end, group_by="step"), version_id=3,
                       all_mail=False)  # fmt: skip


def test_new_segments_send_the_segment_grouping_to_the_emails_until_the_next_pass(
    runtime, world, tmp_path
):
    for lead, account in ((0, 0), (1, 1)):
        regroup(runtime, world, world["leads"][lead], "account_id", account)
        send(runtime, world, world["leads"][lead], 0, 1, True)
    roll_up_campaign_results(runtime)
    start = date(T0.year, T0.month, T0.day)
    wanted = ReportFilter(start, start + timedelta(days=10), group_by="segment")
    rolled, read = figures_both_ways(runtime, wanted)
    assert rolled == read and len(read) == 2  # enterprise and smb
    # Every account is now one segment: the roll-up's segments are the old team's.
    team = (tmp_path / "team.yaml").read_text().replace("min_employees: 1000", "min_employees: 1")
    (tmp_path / "team.yaml").write_text(team)
    sync_team_file(runtime, tmp_path / "team.yaml", T0 + timedelta(hours=1))
    rolled, read = figures_both_ways(runtime, wanted)
    assert rolled is None and len(read) == 1
    assert differences(runtime)["campaign_group_days"] > 0
    roll_up_campaign_results(runtime)
    assert differences(runtime) == NOTHING
    rolled, read = figures_both_ways(runtime, wanted)
    assert rolled == read


def test_a_report_reads_the_emails_while_a_long_pass_holds_the_roll_up(runtime, world, monkeypatch):  # type: ignore[no-untyped-def]
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("the roll-up's lock is PostgreSQL's; SQLite readers never wait")
    monkeypatch.setattr(campaign_rollup, "LOCK_WAIT_SECONDS", 0.2)
    send(runtime, world, world["leads"][0], 0, 1, True)
    roll_up_campaign_results(runtime)
    start = date(T0.year, T0.month, T0.day)
    wanted = ReportFilter(start, start + timedelta(days=10), group_by="step")
    # A pass rebuilding the lead groups holds the lock for minutes on a large instance.
    with transaction(runtime.sessions) as holder:
        serialize(holder, ROLLUP_LOCK)
        rolled, read = figures_both_ways(runtime, wanted)
        assert rolled is None and read, "the report went round the held roll-up"
    rolled_after, read_after = figures_both_ways(runtime, wanted)
    assert rolled_after == read_after == read
