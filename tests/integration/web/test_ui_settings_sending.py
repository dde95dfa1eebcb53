"""The sending and webhook settings pages: the SMTP test through the configured transport,
the DKIM record matching the key, the warm-up, the suppression list (search, lift where
allowed), and the webhook delivery log with retry, against a real database."""

from __future__ import annotations

import base64
import html
import subprocess
from datetime import date, timedelta

import pytest

from nurture.consent.suppression import suppress
from nurture.handoff.webhooks import deliver_due
from nurture.models import Lead
from nurture.platform.db import transaction, utcnow
from nurture.platform.runtime import Runtime
from nurture.web import create_app
from tests.integration.engine_support import add_lead
from tests.integration.handoff_support import qualify, rep_yaml, sync_team_file, write_team
from tests.integration.web.settings_support import audit_actions, post, text
from tests.integration.web.ui_support import signed_in_client
from tests.integration.webhook_support import webhook_receiver


@pytest.fixture
def app_with(settings):
    """An app built with some settings changed; closed after the test."""
    made = []

    def make(**overrides):
        app = create_app(
            {"NURTURE_SETTINGS": settings.with_overrides(**overrides), "TESTING": True}
        )
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["nurture"].close()


def test_the_smtp_test_reaches_the_server_and_a_refusal_is_shown_word_for_word(app_with, smtp_sink):
    app = app_with(smtp_url=smtp_sink.url)
    admin = signed_in_client(app, "admin")
    page = "/settings/sending"
    assert smtp_sink.url.removeprefix("smtp://") in text(admin.get(page))

    response = post(admin, "/settings/sending/test", page=page)
    assert response.status_code == 302
    assert "the mail server accepted the test email to admin@example.com" in text(admin.get(page))
    [message] = smtp_sink.received
    assert message["To"] == "admin@example.com"
    assert message["Subject"].startswith("Test email from ")

    smtp_sink.fail_next = ["550 5.7.1 sender not allowed"]
    post(admin, "/settings/sending/test", page=page)
    shown = text(admin.get(page))
    assert "The mail server refused the test email (550)" in shown
    assert "sender not allowed" in shown


def test_an_unreachable_or_misconfigured_server_gives_a_clear_error_not_a_500(app_with):
    app = app_with(smtp_url="smtp://127.0.0.1:1")
    admin = signed_in_client(app, "admin")
    response = post(admin, "/settings/sending/test", page="/settings/sending")
    assert response.status_code == 302
    assert "The mail server refused the test email" in text(admin.get("/settings/sending"))

    app = app_with(smtp_url="smtp://u:secret@127.0.0.1:1?tls=nonsense")
    admin = signed_in_client(app, "admin", "other.admin@example.com")
    post(admin, "/settings/sending/test", page="/settings/sending")
    shown = text(admin.get("/settings/sending"))
    assert "could not be sent" in shown and "secret" not in shown


@pytest.fixture(scope="module")
def dkim_key(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dkim")
    key = folder / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    return key, "v=DKIM1; k=rsa; p=" + base64.b64encode(public).decode()


def test_the_dkim_record_to_publish_matches_the_key(app_with, dkim_key):
    key, expected = dkim_key
    app = app_with(
        dkim_key_file=key,
        dkim_selector="nurture2026",
        mail_from="Brightpath <hello@brightpath.example>",
    )
    admin = signed_in_client(app, "admin")
    page = html.unescape(text(admin.get("/settings/sending")))
    assert "nurture2026._domainkey.brightpath.example" in page
    assert expected in page
    # Split for DNS: no piece longer than 255 characters, joined they are the record.
    zone = page.split("IN TXT ( ")[1].split(" )")[0]
    pieces = [p.strip('"') for p in zone.split('" "')]
    assert all(len(p) <= 255 for p in pieces) and "".join(pieces) == expected
    assert "_dmarc.brightpath.example" in page and "v=spf1 mx" in page


def test_a_broken_dkim_key_is_reported_on_the_page(app_with, tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    admin = signed_in_client(app_with(dkim_key_file=bad, dkim_selector="s1"), "admin")
    response = admin.get("/settings/sending")
    assert response.status_code == 200
    assert "the DKIM key cannot be read" in text(response)


def test_the_warm_up_shows_todays_cap_and_schedule(app_with):
    start = utcnow().date() - timedelta(days=2)
    app = app_with(warmup_start=start, warmup_schedule=(10, 20, 40, 80))
    admin = signed_in_client(app, "admin")
    page = text(admin.get("/settings/sending"))
    assert '<span class="num">3</span> day of the warm-up' in page
    assert '<span class="num">40</span> emails allowed today' in page
    assert (start + timedelta(days=3)).isoformat() in page
    done = app_with(warmup_start=date(2020, 1, 1))
    other = signed_in_client(done, "admin", "other.admin@example.com")
    assert "The warm-up is over" in text(other.get("/settings/sending"))


def _suppressed(runtime: Runtime, email: str, reason: str, **lead_fields) -> None:
    lead_id = add_lead(runtime, email, **lead_fields)
    with transaction(runtime.sessions) as session:
        suppress(session, session.get(Lead, lead_id), reason=reason, source="test", now=utcnow())


def test_the_suppression_list_is_searched_and_only_bounces_are_lifted(app):
    runtime = app.extensions["nurture"]
    _suppressed(runtime, "ann.bounce@acme.example", "hard_bounce")
    _suppressed(runtime, "ann.unsub@acme.example", "unsubscribed")
    _suppressed(runtime, "bob.complaint@acme.example", "complaint")
    add_lead(runtime, "ann.fine@acme.example")
    with transaction(runtime.sessions) as session:
        suppress(session, "gone@else.example", reason="erased", source="test", now=utcnow())
    admin = signed_in_client(app, "admin")
    base = "/settings/sending/suppressions"

    everyone = text(admin.get(base))
    assert everyone.index("ann.bounce@") < everyone.index("ann.unsub@") < everyone.index("bob.")
    assert "ann.fine@" not in everyone and "gone@else.example" not in everyone
    anns = text(admin.get(f"{base}?q=ANN."))
    assert "ann.bounce@" in anns and "ann.unsub@" in anns and "bob." not in anns
    # An erased person has no lead: found by the exact address through its hash.
    erased = text(admin.get(f"{base}?q=gone@else.example&match=exact"))
    assert "gone@else.example" in erased and "erased" in erased
    assert "No suppressed address matches." in text(
        admin.get(f"{base}?q=nobody@x.example&match=exact")
    )
    assert "only they can subscribe again" in anns

    for refused in ("ann.unsub@acme.example", "bob.complaint@acme.example", "gone@else.example"):
        response = post(admin, f"{base}/lift", {"email": refused}, page=base)
        assert response.status_code == 422, refused
        assert "flash-error" in text(response)
    response = post(admin, f"{base}/lift", {"email": "ann.bounce@acme.example"}, page=base)
    assert response.status_code == 302
    after = text(admin.get(base))
    assert "ann.bounce@" not in after and "ann.unsub@" in after
    lifted = [d for a, actor, d in audit_actions(app, "suppression.lifted")]
    assert lifted == [{"source": "admin", "reason": "hard_bounce"}]
    assert (
        post(admin, f"{base}/lift", {"email": "ann.fine@acme.example"}, page=base).status_code
        == 422
    )


def test_hostile_suppression_searches_get_a_clear_answer(app):
    admin = signed_in_client(app, "admin")
    base = "/settings/sending/suppressions"
    for query in (
        "q=%00",
        "q=" + "a" * 5000,
        "q=%25_%5C",
        "q=<script>",
        "match=bogus",
        "after=" + "z" * 400,
        "q=x&match=exact&after=1",
    ):
        response = admin.get(f"{base}?{query}")
        assert response.status_code in (200, 400), query
        assert "<script>" not in text(response)
    assert admin.get(f"{base}?q=%00").status_code == 400


def test_a_failed_webhook_delivery_is_logged_and_retried_from_the_page(settings, tmp_path):
    with webhook_receiver("whsec-test", [400]) as receiver:
        app = create_app(
            {
                "NURTURE_SETTINGS": settings.with_overrides(
                    webhook_urls=(receiver.url,), webhook_secret="whsec-test"
                ),
                "TESTING": True,
            }
        )
        runtime = app.extensions["nurture"]
        try:
            team = write_team(tmp_path / "team.yaml", [rep_yaml("Ann Rep", "ann@sales.example")])
            sync_team_file(runtime, team, utcnow())
            qualify(runtime, add_lead(runtime, "ada@acme.example"), utcnow())
            deliver_due(runtime, utcnow())  # the receiver answers 400: failed for good

            admin = signed_in_client(app, "admin")
            page = text(admin.get("/settings/webhooks"))
            assert receiver.url in page and "handoff.created" in page
            assert '<span class="badge bad">Failed</span>' in page
            assert "failed" in text(admin.get("/settings/webhooks?status=failed"))
            assert "No deliveries." in text(admin.get("/settings/webhooks?status=delivered"))
            delivery = int(page.split("/settings/webhooks/")[1].split('"')[0])
            shown = html.unescape(text(admin.get(f"/settings/webhooks/{delivery}")))
            assert '"handoff.created"' in shown.split("The JSON sent")[1]

            response = post(
                admin, f"/settings/webhooks/{delivery}/retry", page=f"/settings/webhooks/{delivery}"
            )
            assert response.status_code == 302
            assert "is due now" in text(admin.get(f"/settings/webhooks/{delivery}"))
            deliver_due(runtime, utcnow() + timedelta(seconds=1))
            assert "delivered" in text(admin.get("/settings/webhooks?status=delivered"))
            assert len(receiver.requests) == 2
            again = post(
                admin, f"/settings/webhooks/{delivery}/retry", page=f"/settings/webhooks/{delivery}"
            )
            assert again.status_code == 409 and "already delivered" in text(again)
            assert "app.ui_settings.delivery_retry" in [a for a, _, _ in audit_actions(app, "app.")]
            assert admin.get("/settings/webhooks/99999999999999999999").status_code == 404
            assert admin.get("/settings/webhooks/424242").status_code == 404
            assert post(admin, "/settings/webhooks/424242/retry").status_code == 404
            assert admin.get("/settings/webhooks?after=abc&status=%00").status_code == 200
        finally:
            runtime.close()
