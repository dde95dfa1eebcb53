"""Preferences, double opt-in, export/erase, mailto unsubscribes and retention, through
the real endpoints, CLI and engine."""

from __future__ import annotations

import json
import mailbox
from datetime import timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from nurture.auth.apikeys import create_api_key
from nurture.cli import cli, privacy_cmd  # noqa: F401  (registers the commands)
from nurture.consent.rules import is_mailable
from nurture.consent.suppression import is_suppressed
from nurture.leads.lifecycle import change_stage
from nurture.models import Event, Lead, Message, OutboxMessage, StageChange, TrackingHit
from nurture.platform.db import transaction, utcnow
from nurture.privacy.rights import purge_tracking_data
from nurture.privacy.unsubscribe_mail import ingest_unsubscribe_mail
from tests.integration.engine_support import T0, add_lead
from tests.integration.privacy_support import (
    audit_actions,
    csrf_of,
    enrol_in_both,
    first_message,
    lead,
    sent_campaigns,
    signed_path,
    sync_topic_campaigns,
    tick,
)


@pytest.fixture
def runtime(app):
    return app.extensions["nurture"]


@pytest.fixture
def topics(runtime):
    sync_topic_campaigns(runtime)
    return runtime


@pytest.fixture
def auth(runtime):
    with transaction(runtime.sessions) as session:
        _key, plaintext = create_api_key(session, "tests", now=T0)
    return {"Authorization": f"Bearer {plaintext}"}


def _mailed_lead(runtime, email="ada@acme.example") -> int:
    lead_id = add_lead(runtime, email)
    enrol_in_both(runtime, lead_id)
    tick(runtime, T0)
    return lead_id


# ---------------------------------------------------------------- preference centre


def test_opting_out_of_a_topic_stops_only_that_topics_campaign(topics, client):
    lead_id = _mailed_lead(topics)
    assert sorted(sent_campaigns(topics, lead_id)) == ["education", "news"]
    path = signed_path(topics, first_message(topics, lead_id), "/preferences")
    page = client.get(path)
    assert "Product news" in page.text and "Education" in page.text

    saved = client.post(path, data={"csrf_token": csrf_of(page.text), "topic": ["education"]})

    assert saved.status_code == 200 and "saved" in saved.text
    assert lead(topics, lead_id).topic_opt_outs == ["product-news"]
    assert is_mailable(lead(topics, lead_id))
    for day in (1, 2):
        tick(topics, T0 + timedelta(days=day, minutes=day))
    sent = sent_campaigns(topics, lead_id)
    assert sent.count("news") == 1 and sent.count("education") == 3
    assert "preferences.changed" in audit_actions(topics, lead_id)


def test_preferences_need_the_form_token(topics, client):
    lead_id = _mailed_lead(topics)
    path = signed_path(topics, first_message(topics, lead_id), "/preferences")
    assert client.post(path, data={"topic": []}).status_code == 400
    assert lead(topics, lead_id).topic_opt_outs == []


def test_unsubscribe_all_then_resubscribe_from_the_preference_centre(topics, client):
    lead_id = _mailed_lead(topics)
    path = signed_path(topics, first_message(topics, lead_id), "/preferences")
    csrf = csrf_of(client.get(path).text)
    client.post(path, data={"csrf_token": csrf, "action": "unsubscribe"})
    assert not is_mailable(lead(topics, lead_id))
    page = client.get(path)
    assert "Subscribe me again" in page.text
    client.post(path, data={"csrf_token": csrf, "action": "resubscribe"})
    assert is_mailable(lead(topics, lead_id))
    assert audit_actions(topics, lead_id) == ["suppression.added", "suppression.lifted"]


# ---------------------------------------------------------------- double opt-in


def test_double_opt_in_mails_only_after_the_confirmation_click(app, client, auth, smtp_sink):
    runtime = app.extensions["nurture"]
    app.extensions["nurture"] = runtime.__class__(
        settings=runtime.settings.with_overrides(double_opt_in=True),
        engine=runtime.engine,
        sessions=runtime.sessions,
    )
    sync_topic_campaigns(runtime)
    body = {"email": "new@acme.example", "consent_status": "granted", "lawful_basis": "consent"}
    created = client.post("/api/v1/leads", json=body, headers=auth)
    assert created.status_code == 201
    lead_id = created.json["id"]
    assert lead(runtime, lead_id).consent_status == "pending"
    assert not is_mailable(lead(runtime, lead_id))

    tick(runtime, utcnow(), smtp_url=smtp_sink.url)  # delivers the confirmation email only
    [confirmation] = smtp_sink.received
    assert "confirm" in confirmation["Subject"].lower()
    html = confirmation.get_body(("html",)).get_content()
    message = first_message(runtime, lead_id, kind="confirmation")
    confirm_path = signed_path(runtime, message, "/confirm")
    assert confirm_path in html

    assert client.get(confirm_path).status_code == 200  # a scanner's GET confirms nothing
    assert lead(runtime, lead_id).consent_status == "pending"
    page = client.get(confirm_path)
    done = client.post(confirm_path, data={"csrf_token": csrf_of(page.text)})
    assert done.status_code == 200 and "confirmed" in done.text
    confirmed = lead(runtime, lead_id)
    assert confirmed.consent_status == "granted" and confirmed.consent_confirmed_at
    assert confirmed.consent_ip == "127.0.0.0"  # truncated by default
    assert is_mailable(confirmed)
    assert "consent.confirmed" in audit_actions(runtime, lead_id)


# ---------------------------------------------------------------- export and erase


def _cli(app, *args):
    return app.test_cli_runner().invoke(cli, list(args))


def test_export_has_profile_consent_events_messages_and_enrolments(topics, app):
    lead_id = _mailed_lead(topics)
    result = _cli(app, "leads", "export", "ADA@acme.example")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["lead"]["email"] == "ada@acme.example"
    assert data["lead"]["consent_status"] == "granted"
    assert len(data["messages"]) == 2 and len(data["enrollments"]) == 2
    assert {e["type"] for e in data["events"]} >= {"email.sent"}
    assert data["enrollment_history"] and data["outbox"]
    assert "lead.exported" in audit_actions(topics, lead_id)


def test_erase_removes_personal_data_keeps_aggregates_and_stays_suppressed(
    topics, app, client, auth
):
    lead_id = _mailed_lead(topics)
    result = _cli(app, "leads", "erase", "ada@acme.example", "--yes")
    assert result.exit_code == 0, result.output

    erased = lead(topics, lead_id)
    assert erased.email != "ada@acme.example" and erased.first_name is None
    assert erased.erased_at is not None and not is_mailable(erased)
    with topics.sessions() as session:
        assert is_suppressed(session, "ada@acme.example")
        messages = session.scalars(select(Message).where(Message.lead_id == lead_id)).all()
        assert len(messages) == 2  # the send counts stay
        assert all("ada" not in m.to_address and m.subject is None for m in messages)
        assert session.scalars(select(OutboxMessage)).all() == []
        assert session.scalars(select(Lead).where(Lead.email == "ada@acme.example")).all() == []
    assert "lead.erased" in audit_actions(topics, lead_id)

    # A later import or API call of the same address is created suppressed.
    again = client.post(
        "/api/v1/leads",
        json={"email": "ada@acme.example", "consent_status": "granted", "lawful_basis": "consent"},
        headers=auth,
    )
    assert again.status_code == 201
    assert not is_mailable(lead(topics, again.json["id"]))
    assert lead(topics, again.json["id"]).suppression_reason == "erased"


def test_erase_keeps_the_stage_history_without_what_a_rep_wrote(topics, app):
    lead_id = _mailed_lead(topics)
    with transaction(topics.sessions) as session:
        ada = session.get(Lead, lead_id)
        change_stage(session, ada, "mql", reason="ready", actor="system", now=T0)
        change_stage(
            session, ada, "recycled", reason="rejected by sales: no budget (Ada Lovelace says…)",
            actor="user:rep@brightpath.example", now=T0 + timedelta(days=1),
        )  # fmt: skip
    result = _cli(app, "leads", "erase", "ada@acme.example", "--yes")
    assert result.exit_code == 0, result.output
    with topics.sessions() as session:
        kept = session.scalars(
            select(StageChange).where(StageChange.lead_id == lead_id).order_by(StageChange.at)
        ).all()
    # The funnel still counts the moves (analytics.md, "Erased leads"); the words are gone.
    assert [(c.to_stage, c.at, c.reason) for c in kept][-2:] == [
        ("mql", T0, "erased"),
        ("recycled", T0 + timedelta(days=1), "erased"),
    ]


def test_erase_and_export_of_an_unknown_address_say_so_and_fail(app):
    for command in ("erase", "export"):
        args = ["leads", command, "nobody@acme.example"] + (["--yes"] if command == "erase" else [])
        result = _cli(app, *args)
        assert result.exit_code != 0
        assert "no lead" in result.output


def test_api_export_and_delete(topics, client, auth):
    lead_id = _mailed_lead(topics)
    exported = client.get(f"/api/v1/leads/{lead_id}/export", headers=auth)
    assert exported.status_code == 200 and exported.json["lead"]["id"] == lead_id
    assert client.get(f"/api/v1/leads/{lead_id}/export").status_code == 401
    deleted = client.delete("/api/v1/leads/ada@acme.example", headers=auth)
    assert deleted.status_code == 200 and deleted.json["erased"] is True
    assert client.delete("/api/v1/leads/ada@acme.example", headers=auth).status_code == 404


# ---------------------------------------------------------------- mailto and retention


def test_mailto_unsubscribe_ingest(topics, tmp_path):
    tmp_path = tmp_path / "mail"
    tmp_path.mkdir()
    lead_id = _mailed_lead(topics)
    token = first_message(topics, lead_id).token
    email = EmailMessage()
    email["From"] = "ada@acme.example"
    email["To"] = f"unsubscribe+{token}@brightpath.example"
    email["Subject"] = "unsubscribe"
    (tmp_path / "one.eml").write_bytes(bytes(email))
    stranger = EmailMessage()
    stranger["To"] = "unsubscribe+AAAAAAAAAAAAAAAAAAAAAA@brightpath.example"
    (tmp_path / "two.eml").write_bytes(bytes(stranger))
    (tmp_path / "three.eml").write_bytes(b"\x00\xff not an email")

    report = ingest_unsubscribe_mail(topics, tmp_path, now=T0)

    assert (report.read, report.unsubscribed, report.unknown) == (3, 1, 1)
    assert not is_mailable(lead(topics, lead_id))


def test_mailto_unsubscribe_ingest_reads_a_maildir_as_a_mail_server_keeps_it(topics, tmp_path):
    """Only the maildir's delivered mail counts: not its tmp/ (still being written), not the
    server's index files, not its subfolders (Trash)."""
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    lead_id = _mailed_lead(topics)
    email = EmailMessage()
    email["To"] = f"unsubscribe+{first_message(topics, lead_id).token}@brightpath.example"
    box.add(bytes(email))
    other = EmailMessage()
    other["To"] = "someone@brightpath.example"
    seen = mailbox.MaildirMessage(bytes(other))
    seen.set_subdir("cur")  # a message the mail client has already shown sits in cur/
    box.add(seen)
    root = tmp_path / "Maildir"
    (root / "tmp" / "half-written").write_bytes(b"To: unsubscribe+AAAAAAAAAAAAAAAAAAAAAA@x\r\n")
    (root / "dovecot-uidlist").write_text("3 V1 N3\n")
    trash = mailbox.Maildir(root / ".Trash", create=True)
    trash.add(b"To: unsubscribe+BBBBBBBBBBBBBBBBBBBBBB@brightpath.example\r\n\r\n")

    report = ingest_unsubscribe_mail(topics, root, now=T0)

    assert (report.read, report.unsubscribed, report.unknown, report.no_token) == (2, 1, 0, 1)
    assert report.problems == []
    assert not is_mailable(lead(topics, lead_id))


def test_purge_removes_raw_tracking_data_older_than_the_retention(runtime):
    lead_id = add_lead(runtime, "tracked@acme.example")
    with transaction(runtime.sessions) as session:
        for days_ago in (400, 10):
            session.add(
                Event(
                    lead_id=lead_id,
                    type="email.opened",
                    occurred_at=T0 - timedelta(days=days_ago),
                    properties={"ip": "192.0.2.1", "user_agent": "Mail", "template": "x"},
                )
            )
    with transaction(runtime.sessions) as session:
        assert purge_tracking_data(session, now=T0, retention=timedelta(days=395)) == 1
    with runtime.sessions() as session:
        old, recent = session.scalars(select(Event.properties).order_by(Event.occurred_at)).all()
    assert old == {"template": "x"}
    assert recent["ip"] == "192.0.2.1"


def test_purge_changes_only_old_events_that_still_hold_a_raw_key(runtime):
    lead_id = add_lead(runtime, "tracked@acme.example")
    kept = [
        {"ip": "192.0.2.1", "template": "a"},
        {"template": "b"},  # cleaned by an earlier run
        {"ua": "Mail", "user_agent": None, "url": "https://x.example/"},
        {"remote_addr": "192.0.2.9"},
        {},
    ]
    with transaction(runtime.sessions) as session:
        for properties in kept:
            session.add(
                Event(
                    lead_id=lead_id,
                    type="email.opened",
                    occurred_at=T0 - timedelta(days=400),
                    properties=properties,
                )
            )
    with transaction(runtime.sessions) as session:
        assert purge_tracking_data(session, now=T0, retention=timedelta(days=395)) == 3
    with transaction(runtime.sessions) as session:
        assert purge_tracking_data(session, now=T0, retention=timedelta(days=395)) == 0
    with runtime.sessions() as session:
        stored = session.scalars(select(Event.properties).order_by(Event.id)).all()
    assert stored == [
        {"template": "a"},
        {"template": "b"},
        {"url": "https://x.example/"},
        {},
        {},
    ]


def test_purge_deletes_processed_raw_hits_older_than_the_retention(runtime):
    hits = [
        (400, True),  # processed long ago: deleted
        (396, True),
        (10, True),  # inside the retention: kept
        (400, False),  # not processed yet: kept for the processor
    ]
    with transaction(runtime.sessions) as session:
        for days_ago, processed in hits:
            session.add(
                TrackingHit(
                    kind="open",
                    token="t" * 32,
                    occurred_at=T0 - timedelta(days=days_ago),
                    user_agent="Mail",
                    ip="192.0.2.0",
                    processed=processed,
                )
            )
    with transaction(runtime.sessions) as session:
        assert purge_tracking_data(session, now=T0, retention=timedelta(days=395)) == 2
    with transaction(runtime.sessions) as session:
        assert purge_tracking_data(session, now=T0, retention=timedelta(days=395)) == 0
    with runtime.sessions() as session:
        left = session.execute(
            select(TrackingHit.occurred_at, TrackingHit.processed).order_by(TrackingHit.id)
        ).all()
    assert [(T0 - when.replace(tzinfo=T0.tzinfo)).days for when, _ in left] == [10, 400]
    assert [processed for _, processed in left] == [True, False]
