"""Bounce ingest: decisions applied to leads and messages, idempotent, bad files skipped;
the CLI (classify dry run, ingest) and the webhook."""

import json
import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

import nurture.cli.bounces_cmd  # noqa: F401  (registers the commands)
from nurture.auth.apikeys import create_api_key
from nurture.cli import cli
from nurture.consent.rules import is_mailable
from nurture.models import BounceReceipt, Event, Lead, Message
from nurture.platform.db import transaction
from nurture.sending.bounces.apply import ingest_file
from tests.integration.bounce_support import TOKEN, arf, dsn

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def sent(runtime):
    """A consenting lead with one sent campaign message."""
    with transaction(runtime.sessions) as session:
        lead = Lead(email="ada@example.com", consent_status="granted", lawful_basis="consent")
        session.add(lead)
        session.flush()
        message = Message(
            lead_id=lead.id,
            template="welcome",
            to_address=lead.email,
            message_id="m1@brightpath.example",
            token=TOKEN,
            status="sent",
            sent_at=NOW,
        )
        session.add(message)
        session.flush()
        return lead.id, message.id


def ingest(runtime, raw, limit=3, label="test.eml"):
    return ingest_file(runtime.sessions, raw, label=label, soft_bounce_limit=limit, now=NOW)


def load(runtime, lead_id, message_id):
    with runtime.sessions() as session:
        lead = session.get(Lead, lead_id)
        message = session.get(Message, message_id)
        events = session.scalars(select(Event).where(Event.lead_id == lead_id)).all()
        session.expunge_all()
        return lead, message, events


def test_a_hard_bounce_suppresses_the_lead_and_marks_the_message(runtime, sent):
    lead_id, message_id = sent
    result = ingest(runtime, dsn("ada@example.com", "5.1.1", "550 5.1.1 User unknown"))
    assert result.state == "applied"
    assert [o.action for o in result.outcomes] == ["suppressed"]
    lead, message, events = load(runtime, lead_id, message_id)
    assert lead.suppressed_at == NOW and lead.suppression_reason == "hard_bounce"
    assert not is_mailable(lead)
    assert message.status == "sent"  # the SMTP hand-off did succeed
    assert (message.bounced_at, message.bounce_status, message.bounce_decision) == (
        NOW,
        "5.1.1",
        "suppress",
    )
    [event] = [e for e in events if e.type == "email.bounced"]
    assert event.message_id == message_id
    assert event.properties["status"] == "5.1.1"
    assert event.properties["decision"] == "suppress"
    assert "does not exist" in event.properties["reason"]


def test_the_same_bounce_ingested_twice_counts_once(runtime, sent):
    lead_id, message_id = sent
    raw = dsn("ada@example.com", "5.2.2", "552 5.2.2 Mailbox full")
    assert ingest(runtime, raw).state == "applied"
    assert ingest(runtime, raw).state == "duplicate"
    lead, _, events = load(runtime, lead_id, message_id)
    assert lead.soft_bounce_count == 1
    assert len([e for e in events if e.type == "email.bounced"]) == 1


def test_soft_bounces_suppress_only_at_the_limit(runtime, sent):
    lead_id, message_id = sent
    for number in (1, 2):
        raw = dsn("ada@example.com", "4.2.2", "452 4.2.2 Mailbox full", bounce_id=f"s{number}@mx")
        assert [o.action for o in ingest(runtime, raw, limit=3).outcomes] == ["counted"]
    lead, _, _ = load(runtime, lead_id, message_id)
    assert lead.soft_bounce_count == 2 and lead.suppressed_at is None and is_mailable(lead)
    third = dsn("ada@example.com", "4.2.2", "452 4.2.2 Mailbox full", bounce_id="s3@mx")
    assert [o.action for o in ingest(runtime, third, limit=3).outcomes] == ["suppressed"]
    lead, _, _ = load(runtime, lead_id, message_id)
    assert lead.soft_bounce_count == 3 and lead.suppressed_at == NOW


def test_a_complaint_finds_the_lead_by_token_and_unsubscribes_it(runtime, sent):
    lead_id, message_id = sent
    result = ingest(runtime, arf())
    assert [o.action for o in result.outcomes] == ["complained"]
    lead, _, events = load(runtime, lead_id, message_id)
    assert lead.suppression_reason == "complaint"
    assert lead.unsubscribed_at == NOW
    assert [e.type for e in events if e.type.startswith("email.c")] == ["email.complained"]


def test_a_sender_side_problem_is_reported_and_the_lead_not_blamed(runtime, sent, caplog):
    lead_id, message_id = sent
    raw = dsn(
        "ada@example.com",
        "5.7.1",
        "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
    )
    with caplog.at_level(logging.WARNING, logger="nurture.sending.bounces.apply"):
        result = ingest(runtime, raw)
    assert [o.action for o in result.outcomes] == ["sender_issue"]
    assert "sender-side problem" in caplog.text
    lead, _, _ = load(runtime, lead_id, message_id)
    assert lead.suppressed_at is None and lead.soft_bounce_count == 0 and is_mailable(lead)


def test_a_malformed_file_is_skipped_with_a_message_and_nothing_recorded(runtime, sent):
    result = ingest(runtime, b"\x00\x01 not an email at all")
    assert result.state == "skipped" and result.note
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(BounceReceipt)) == 0


def test_cli_classify_is_a_dry_run_and_prints_json(app, runtime, sent, tmp_path):
    lead_id, message_id = sent
    folder = tmp_path / "bounces"
    folder.mkdir()
    (folder / "one.eml").write_bytes(dsn("ada@example.com", "5.1.1", "550 5.1.1 User unknown"))
    result = app.test_cli_runner().invoke(cli, ["bounces", "classify", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    [document] = json.loads(result.output)
    [failed] = document["recipients"]
    assert (failed["recipient"], failed["status"], failed["reply_code"], failed["decision"]) == (
        "ada@example.com",
        "5.1.1",
        "550",
        "suppress",
    )
    lead, _, _ = load(runtime, lead_id, message_id)
    assert lead.suppressed_at is None  # a dry run changes nothing


def test_cli_ingest_reads_an_mbox_and_skips_bad_files(app, runtime, sent, tmp_path):
    lead_id, message_id = sent
    first = dsn("ada@example.com", "4.2.2", "452 4.2.2 Mailbox full", bounce_id="x1@mx")
    second = dsn("ada@example.com", "4.2.2", "452 4.2.2 Mailbox full", bounce_id="x2@mx")
    mbox = b"From MAILER-DAEMON Tue Dec  1 09:00:00 2026\n" + first.replace(b"\r\n", b"\n")
    mbox += b"\nFrom MAILER-DAEMON Tue Dec  1 09:05:00 2026\n" + second.replace(b"\r\n", b"\n")
    folder = tmp_path / "bounces"
    folder.mkdir()
    (folder / "bounces.mbox").write_bytes(mbox)
    (folder / "junk.eml").write_bytes(b"")
    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["bounces", "ingest", str(folder)])
    assert result.exit_code == 0, result.output
    assert "skipped" in result.output and "junk.eml" in result.output
    assert "2 file(s) applied" in result.output
    again = runner.invoke(cli, ["bounces", "ingest", str(folder)])
    assert "2 already ingested" in again.output
    lead, _, _ = load(runtime, lead_id, message_id)
    assert lead.soft_bounce_count == 2


def test_webhook_ingests_a_raw_message_with_an_api_key(client, runtime, sent):
    lead_id, message_id = sent
    with transaction(runtime.sessions) as session:
        _, key = create_api_key(session, "mta", now=NOW)
    raw = dsn("ada@example.com", "5.1.1", "550 5.1.1 User unknown")
    assert client.post("/api/v1/bounces", data=raw).status_code == 401
    response = client.post(
        "/api/v1/bounces",
        data=raw,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "message/rfc822"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["recipients"][0]["action"] == "suppressed"
    junk = client.post("/api/v1/bounces", data=b"hello", headers={"Authorization": f"Bearer {key}"})
    assert junk.status_code == 422
    lead, _, _ = load(runtime, lead_id, message_id)
    assert lead.suppressed_at is not None
