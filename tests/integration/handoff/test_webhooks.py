"""Outgoing webhooks against a real HTTP server: queued with the handoff, sent by the
worker after the commit, signed, retried with backoff on 5xx, logged, retried by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from nurture.cli import cli, webhooks_cmd  # noqa: F401  (registers the commands)
from nurture.handoff import accept, reject
from nurture.handoff.webhooks import deliver_due
from nurture.handoff.webhooks.service import purge_deliveries
from nurture.models import WebhookDelivery
from nurture.platform.db import transaction, utcnow
from nurture.platform.runtime import Runtime
from nurture.privacy.rights import erase_lead
from nurture.web import create_app
from tests.integration.engine_support import T0, add_lead
from tests.integration.handoff_support import (
    add_account,
    qualify,
    rep_yaml,
    sync_team_file,
    write_team,
)
from tests.integration.webhook_support import webhook_receiver

SECRET = "whsec-test-0123456789"
ANN = "ann@sales.example"


@pytest.fixture
def hooked(settings, tmp_path):
    """A runtime whose webhooks go to a live local receiver; yields (runtime, receiver)."""

    def make(script: list[int] | None = None):
        return webhook_receiver(SECRET, script)

    return make


def runtime_for(settings, receiver, tmp_path) -> Runtime:
    rt = Runtime.from_settings(
        settings.with_overrides(webhook_urls=(receiver.url,), webhook_secret=SECRET)
    )
    team = write_team(tmp_path / "team.yaml", [rep_yaml("Ann Rep", ANN)])
    sync_team_file(rt, team, T0)
    return rt


def deliveries(runtime: Runtime) -> list[WebhookDelivery]:
    with runtime.sessions() as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_a_handoff_is_posted_signed_and_retried_until_the_receiver_takes_it(
    settings, tmp_path, hooked
):
    with hooked(script=[503, 500]) as receiver:
        runtime = runtime_for(settings, receiver, tmp_path)
        try:
            account = add_account(runtime, "acme.example", country="US", employees=300)
            lead = add_lead(runtime, "ada@acme.example", account_id=account, title="VP Engineering")
            handoff_id = qualify(runtime, lead, T0)

            # Queued with the handoff, not sent inside its transaction.
            assert [d.event for d in deliveries(runtime)] == ["handoff.created"]
            assert receiver.requests == []

            assert deliver_due(runtime, T0) == 1
            first = deliveries(runtime)[0]
            assert (first.status, first.attempts, first.response_code) == ("pending", 1, 503)
            assert "temporarily unavailable" in first.response_excerpt
            assert timedelta(seconds=40) <= first.next_attempt_at - T0 <= timedelta(seconds=80)

            # Not due yet: nothing is sent before the backoff ends.
            assert deliver_due(runtime, T0 + timedelta(seconds=30)) == 0
            assert deliver_due(runtime, T0 + timedelta(minutes=2)) == 1
            second = deliveries(runtime)[0]
            assert (second.status, second.attempts, second.response_code) == ("pending", 2, 500)
            assert second.next_attempt_at - (T0 + timedelta(minutes=2)) >= timedelta(minutes=4)

            assert deliver_due(runtime, T0 + timedelta(minutes=10)) == 1
            done = deliveries(runtime)[0]
            assert (done.status, done.attempts, done.response_code) == ("delivered", 3, 200)
            assert done.duration_ms is not None and done.delivered_at is not None
        finally:
            runtime.close()

    assert [r.answered for r in receiver.requests] == [503, 500, 200]
    assert all(r.signature_valid for r in receiver.requests)
    # Every attempt carries the same event (receivers drop duplicates by its id).
    assert len({r.body for r in receiver.requests}) == 1
    request = receiver.requests[-1]
    assert request.headers["X-Nurture-Event"] == "handoff.created"
    assert request.headers["X-Nurture-Event-Id"] == request.json["id"]
    body = request.json
    assert body["type"] == "handoff.created"
    data = body["data"]
    assert data["handoff"]["id"] == handoff_id
    assert data["lead"]["email"] == "ada@acme.example"
    assert data["lead"]["role"] == "decision maker"
    assert data["account"]["domain"] == "acme.example"
    assert data["owner"]["email"] == ANN
    assert data["qualification"]["rule"] == "engaged-a-fit"
    assert data["sla"]["status"] == "pending" and data["sla"]["due_at"]
    assert data["handoff"]["links"]["accept_url"].startswith("http://nurture.test/handoffs/")


def test_accept_and_reject_are_announced_and_nothing_goes_without_an_endpoint(
    settings, tmp_path, hooked, runtime
):
    with hooked() as receiver:
        rt = runtime_for(settings, receiver, tmp_path)
        try:
            first = qualify(rt, add_lead(rt, "a@a.example"), T0)
            second = qualify(rt, add_lead(rt, "b@b.example"), T0)
            with transaction(rt.sessions) as session:
                accept(session, first, now=T0 + timedelta(minutes=5))
                reject(session, second, reason="no-budget", now=T0 + timedelta(minutes=6))
            deliver_due(rt, T0 + timedelta(minutes=7))
        finally:
            rt.close()
    events = sorted(r.json["type"] for r in receiver.requests)
    assert events == [
        "handoff.accepted",
        "handoff.created",
        "handoff.created",
        "handoff.rejected",
    ]
    rejected = next(r.json for r in receiver.requests if r.json["type"] == "handoff.rejected")
    assert rejected["data"]["handoff"]["reject_reason"] == "no-budget"
    accepted = next(r.json for r in receiver.requests if r.json["type"] == "handoff.accepted")
    assert accepted["data"]["sla"]["status"] == "met"
    assert accepted["data"]["lead"]["stage"] == "sal"

    # The plain test runtime (same database) has no endpoint configured: a handoff
    # queues nothing.
    before = len(deliveries(runtime))
    qualify(runtime, add_lead(runtime, "c@c.example"), T0)
    assert len(deliveries(runtime)) == before == 4


def test_a_permanent_refusal_fails_at_once_and_can_be_retried_from_the_cli(
    settings, tmp_path, hooked
):
    with hooked(script=[404]) as receiver:
        configured = settings.with_overrides(webhook_urls=(receiver.url,), webhook_secret=SECRET)
        app = create_app({"NURTURE_SETTINGS": configured, "TESTING": True})
        rt = app.extensions["nurture"]
        try:
            sync_team_file(rt, write_team(tmp_path / "t.yaml", [rep_yaml("Ann Rep", ANN)]), T0)
            qualify(rt, add_lead(rt, "a@a.example"), T0)
            deliver_due(rt, T0)
            failed = deliveries(rt)[0]
            assert (failed.status, failed.attempts, failed.response_code) == ("failed", 1, 404)
            assert deliver_due(rt, T0 + timedelta(days=1)) == 0

            runner = app.test_cli_runner()
            listing = runner.invoke(cli, ["webhooks", "list"], env={"COLUMNS": "200"})
            assert listing.exit_code == 0, listing.output
            assert "handoff.created" in listing.output and "failed" in listing.output
            assert "404" in listing.output

            retried = runner.invoke(cli, ["webhooks", "retry", str(failed.id)])
            assert retried.exit_code == 0, retried.output
            assert deliver_due(rt, utcnow()) == 1
            assert deliveries(rt)[0].status == "delivered"

            again = runner.invoke(cli, ["webhooks", "retry", str(failed.id)])
            assert again.exit_code == 1 and "already delivered" in again.output
            missing = runner.invoke(cli, ["webhooks", "retry", "999"])
            assert missing.exit_code == 1 and "no webhook delivery 999" in missing.output
            shown = runner.invoke(cli, ["webhooks", "show", str(failed.id)])
            assert shown.exit_code == 0 and '"type": "handoff.created"' in shown.output
        finally:
            rt.close()
    assert [r.answered for r in receiver.requests] == [404, 200]


def two_handoffs(runtime: Runtime) -> None:
    """Ada and Bob of acme.example handed off at T0: one queued delivery each."""
    account = add_account(runtime, "acme.example", country="US", employees=300)
    for email, title in (("ada@acme.example", "VP Engineering"), ("bob@acme.example", "CTO")):
        qualify(runtime, add_lead(runtime, email, account_id=account, title=title), T0)


def test_erasing_a_lead_deletes_its_webhook_deliveries_and_only_those(settings, tmp_path, hooked):
    with hooked() as receiver:
        runtime = runtime_for(settings, receiver, tmp_path)
        try:
            two_handoffs(runtime)
            assert deliver_due(runtime, T0) == 2
            with transaction(runtime.sessions) as session:
                erase_lead(
                    session,
                    "ada@acme.example",
                    now=T0,
                    actor="test",
                    instance_path=runtime.settings.instance_path,
                )
            left = deliveries(runtime)
            # The queued JSON held Ada's name and address: nothing of it is kept.
            assert [("bob@acme.example" in d.body, "ada@acme" in d.body) for d in left] == [
                (True, False)
            ]
        finally:
            runtime.close()


def test_finished_deliveries_are_purged_after_the_retention_pending_ones_stay(
    settings, tmp_path, hooked
):
    with hooked(script=[200, 503]) as receiver:
        runtime = runtime_for(settings, receiver, tmp_path)
        try:
            two_handoffs(runtime)
            deliver_due(runtime, T0)
            assert sorted(d.status for d in deliveries(runtime)) == ["delivered", "pending"]
            created = deliveries(runtime)[0].created_at
            with transaction(runtime.sessions) as session:
                assert purge_deliveries(session, now=created, retention=timedelta(days=30)) == 0
                later = created + timedelta(days=31)
                assert purge_deliveries(session, now=later, retention=None) == 0
                assert purge_deliveries(session, now=later, retention=timedelta(days=30)) == 1
            assert [d.status for d in deliveries(runtime)] == ["pending"]
        finally:
            runtime.close()
