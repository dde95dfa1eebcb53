"""Hand-raisers are never dropped (issue 12, item 3): every hand-raise gets the auto-reply
(unless the person may not be written to), exactly once, and one outside the ICP goes to
marketing's review queue with a notification to the marketers, or to sales when the
readiness file says so. Real paths: the events API, the hit processor, scoring, readiness,
the engine's tick and a real SMTP server."""

from __future__ import annotations

from datetime import timedelta

import pytest

from nurture.auth.users import create_user
from nurture.cli import cli
from nurture.consent.suppression import suppress
from nurture.models import Lead
from nurture.platform.db import transaction, utcnow
from nurture.scoring import rescore_leads
from tests.integration.qualification.hand_raise_support import (
    GOOD_FIT,
    MARKETER,
    SMALL_SHOP,
    instance,
    readiness_with,
)

OLEK = "olek@kwiatki.example"


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


@pytest.fixture
def shop(settings, smtp_sink):
    with instance(settings, smtp_sink.url) as it:
        yield it


def test_a_fit_d_hand_raiser_gets_the_auto_reply_and_marketing_is_told(shop, smtp_sink):
    olek = shop.engage(OLEK, **SMALL_SHOP)
    assert shop.lead(olek).fit_grade == "D"
    assert shop.handoffs(olek) == [], "a fit-D lead must not reach sales by the bundled rules"
    [review] = shop.hand_raises(olek)
    assert review.route == "review" and review.review_status == "open"
    assert review.event_type == "demo.requested" and review.fit_grade == "D"
    assert any("below C" in reason and "outside the ICP" in reason for reason in review.reasons)
    assert review.reviewers == [MARKETER]

    shop.tick()
    by_recipient = {message["To"]: message for message in smtp_sink.received}
    assert set(by_recipient) == {OLEK, MARKETER}
    reply = text_of(by_recipient[OLEK])
    # Olek is in Poland (his locale is derived from the country): the Polish auto-reply.
    assert "Dziękujemy za kontakt" in reply and "Olek" in reply
    note = by_recipient[MARKETER]
    assert note["Subject"].startswith("Hand-raiser to review: Olek Nowak (Kwiatki), fit grade D")
    body = text_of(note)
    assert "demo.requested" in body and "outside the ICP" in body
    assert f"http://nurture.test/sales/reviews/{review.id}" in body
    # The note is about the lead, but internal: no tracking pixel, nothing to unsubscribe.
    assert "List-Unsubscribe" not in note


def test_a_hand_raise_is_answered_once_however_often_the_lead_is_evaluated(shop, smtp_sink):
    olek = shop.engage(OLEK, **SMALL_SHOP)
    shop.tick()
    assert len(smtp_sink.received) == 2
    # Another visit, a rescore of the lead (a model change, a restarted worker): the same
    # hand-raise is not answered again.
    shop.event(OLEK, {"type": "page.viewed", "url": "https://brightpath.example/docs"})
    with transaction(shop.runtime.sessions) as session:
        rescore_leads(session, [olek], utcnow() + timedelta(seconds=1), reason="model")
    shop.tick()
    assert len(smtp_sink.received) == 2
    assert len(shop.hand_raises(olek)) == 1


def test_a_suppressed_hand_raiser_is_reviewed_but_not_written_to(shop, smtp_sink):
    olek = shop.engage(OLEK, **{**SMALL_SHOP, "first_name": "Olek"})
    shop.tick()
    smtp_sink.received.clear()
    with transaction(shop.runtime.sessions) as session:
        lead = session.get(Lead, olek)
        suppress(session, lead, reason="manual", source="test", now=utcnow())
    # A newer hand-raise from the suppressed person: marketing hears of it, the person not.
    shop.event(OLEK, {"type": "trial.started"})
    latest = shop.hand_raises(olek)[-1]
    assert latest.review_status == "open" and latest.auto_reply_message_id is None
    assert any("may not be written to" in reason for reason in latest.reasons)
    shop.tick()
    assert [message["To"] for message in smtp_sink.received] == [MARKETER]


def test_a_good_fit_hand_raiser_gets_one_auto_reply_from_its_handoff(shop, smtp_sink):
    grace = shop.engage("grace@northwind.example", **GOOD_FIT)
    [handoff] = shop.handoffs(grace)
    [answered] = shop.hand_raises(grace)
    assert answered.route == "handoff" and answered.review_status is None
    assert answered.auto_reply_message_id == handoff.auto_reply_message_id is not None
    shop.tick()
    to_grace = [m for m in smtp_sink.received if m["To"] == "grace@northwind.example"]
    assert len(to_grace) == 1
    assert MARKETER not in {m["To"] for m in smtp_sink.received}


def test_marketing_sends_a_reviewed_hand_raiser_to_sales_without_a_second_reply(shop, smtp_sink):
    olek = shop.engage(OLEK, **SMALL_SHOP)
    shop.tick()
    [review] = shop.hand_raises(olek)
    path = f"/api/v1/handoffs/reviews/{review.id}"
    listed = shop.client.get("/api/v1/handoffs/reviews", headers=shop.headers)
    assert [item["id"] for item in listed.json["reviews"]] == [review.id]
    assert listed.json["counts"]["in_review"] == 1

    sent = shop.client.post(
        f"{path}/send", json={"note": "a reseller for Poland"}, headers=shop.headers
    )
    assert sent.status_code == 200, sent.json
    assert sent.json["status"] == "sent" and sent.json["resolved_by"] == "user:api:website"
    [handoff] = shop.handoffs(olek)
    assert sent.json["handoff_id"] == handoff.id
    assert handoff.qualification_rule == "marketing-review" and handoff.fit_grade == "D"
    assert handoff.hand_raiser and handoff.auto_reply_message_id is None
    assert any("a reseller for Poland" in r for r in handoff.qualification_reasons)
    assert shop.lead(olek).stage == "mql"
    again = shop.client.post(f"{path}/dismiss", json={"reason": "x"}, headers=shop.headers)
    assert again.status_code == 409 and again.json["error"] == "already_resolved"

    smtp_sink.received.clear()
    shop.tick()
    recipients = [message["To"] for message in smtp_sink.received]
    assert OLEK not in recipients, "the person was answered when they asked"
    assert len(recipients) == 1  # the owner (or the manager) is notified
    assert "Fit grade D" in text_of(smtp_sink.received[0])


def test_marketing_dismisses_a_hand_raiser_with_a_reason_and_it_is_counted(shop, smtp_sink):
    olek = shop.engage(OLEK, **SMALL_SHOP)
    [review] = shop.hand_raises(olek)
    path = f"/api/v1/handoffs/reviews/{review.id}/dismiss"
    refused = shop.client.post(path, json={}, headers=shop.headers)
    assert refused.status_code == 422 and refused.json["error"] == "reason_required"
    done = shop.client.post(
        path, json={"reason": "a student project, not a buyer"}, headers=shop.headers
    )
    assert done.status_code == 200 and done.json["status"] == "dismissed"
    assert done.json["note"] == "a student project, not a buyer"
    assert shop.handoffs(olek) == [] and shop.lead(olek).stage != "mql"
    report = shop.client.get("/api/v1/handoffs/reasons", headers=shop.headers).json
    assert report["hand_raisers"]["dismissed"] == 1
    assert report["hand_raisers"]["in_review"] == 0


def test_the_readiness_setting_sends_outside_icp_hand_raisers_to_sales(
    settings, smtp_sink, tmp_path
):
    readiness = readiness_with(tmp_path, "sales")
    with instance(settings, smtp_sink.url, readiness=readiness) as shop:
        olek = shop.engage(OLEK, **SMALL_SHOP)
        [handoff] = shop.handoffs(olek)
        assert handoff.qualification_rule == "hand-raiser-outside-icp"
        assert handoff.fit_grade == "D" and handoff.hand_raiser
        assert any("outside the ICP" in r for r in handoff.qualification_reasons)
        [answered] = shop.hand_raises(olek)
        assert answered.route == "sales" and answered.review_status is None
        assert answered.handoff_id == handoff.id
        shop.tick()
        recipients = [message["To"] for message in smtp_sink.received]
        assert recipients.count(OLEK) == 1 and MARKETER not in recipients
        assert len(recipients) == 2


def test_without_marketers_the_admins_review(settings, smtp_sink):
    with instance(settings, smtp_sink.url, marketer=False) as shop:
        with transaction(shop.runtime.sessions) as session:
            create_user(
                session, email="root@brightpath.example", name="Root", role="admin",
                password=None, actor="test", now=utcnow(),
            )  # fmt: skip
        olek = shop.engage(OLEK, **SMALL_SHOP)
        assert shop.hand_raises(olek)[0].reviewers == ["root@brightpath.example"]


def test_the_cli_lists_and_resolves_the_review_queue(shop):
    olek = shop.engage(OLEK, **SMALL_SHOP)
    [review] = shop.hand_raises(olek)
    runner = shop.app.test_cli_runner()
    listed = runner.invoke(cli, ["handoffs", "list", "--status", "in-review"])
    assert listed.exit_code == 0, listed.output
    assert "Olek Nowak" in listed.output and "1 in review" in listed.output
    refused = runner.invoke(cli, ["handoffs", "review", str(review.id), "--dismiss"])
    assert refused.exit_code == 1 and "reason_required" in refused.output
    done = runner.invoke(
        cli, ["handoffs", "review", str(review.id), "--dismiss", "--reason", "too small"]
    )
    assert done.exit_code == 0 and "dismissed" in done.output, done.output
    counted = runner.invoke(cli, ["handoffs", "reasons"])
    assert "0 in marketing's review" in counted.output and "1 dismissed" in counted.output


def test_a_lead_with_sales_that_raises_its_hand_again_is_answered_naming_its_owner(shop, smtp_sink):
    grace = shop.engage("grace@northwind.example", **GOOD_FIT)
    [handoff] = shop.handoffs(grace)
    shop.tick()
    smtp_sink.received.clear()
    shop.event("grace@northwind.example", {"type": "trial.started"})
    first, second = shop.hand_raises(grace)
    assert first.route == "handoff"
    assert second.route == "with_sales" and second.review_status is None
    assert second.handoff_id == handoff.id and second.auto_reply_message_id is not None
    assert len(shop.handoffs(grace)) == 1
    shop.tick()
    [reply] = smtp_sink.received
    assert reply["To"] == "grace@northwind.example"
    owner = (handoff.snapshot or {})["auto_reply"]["rep"]["name"]
    assert owner in text_of(reply)
