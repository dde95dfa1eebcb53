"""Email previews in the editor, and test sends to one's own address."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from nurture.authoring.files import read_template
from nurture.models import Account, AuditLog, EmailPreview, Lead, TrackingHit
from nurture.platform.config import Settings
from nurture.platform.db import utcnow
from tests.integration.web.authoring_support import editable_settings
from tests.integration.web.ui_support import csrf_token, signed_in_client


@pytest.fixture
def settings(settings: Settings, tmp_path: Path, request) -> Settings:  # type: ignore[no-untyped-def]
    configured = editable_settings(settings, tmp_path / "files")
    if "smtp_sink" in request.fixturenames:
        configured = configured.with_overrides(smtp_url=request.getfixturevalue("smtp_sink").url)
    return configured


@pytest.fixture
def marketer(app):  # type: ignore[no-untyped-def]
    return signed_in_client(app, "marketer")


@pytest.fixture
def lead(app) -> str:  # type: ignore[no-untyped-def]
    with app.extensions["nurture"].sessions() as session:
        session.add(
            Lead(
                email="dana@northwind.example",
                first_name="Ximena",
                account=Account(name="Northwind <Logistics>", domain="northwind.example"),
            )
        )
        session.commit()
    return "dana@northwind.example"


def preview(client, **data: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/authoring/preview")
    return client.post("/authoring/preview", data={**data, "csrf_token": token})


def test_a_saved_template_is_previewed_for_the_sample_lead(marketer):
    response = preview(marketer, template="welcome-guide")
    assert response.status_code == 302
    page = marketer.get(response.headers["Location"]).get_data(as_text=True)
    assert "Welcome to Brightpath, Dana: your revenue analytics starter guide" in page
    assert "the sample lead" in page
    assert "Desktop (600 px)" in page and "Mobile (375 px)" in page
    assert page.count('sandbox="allow-popups allow-popups-to-escape-sandbox"') == 2
    assert "Hi Dana," in page  # the plain-text part, in a <pre>
    frame = response.headers["Location"] + "/email.html"
    assert f'src="{frame}"' in page

    html = marketer.get(frame)
    assert html.status_code == 200
    assert html.get_data(as_text=True).startswith("<!doctype html>")
    policy = html.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "style-src 'unsafe-inline'" in policy
    assert "script-src" not in policy  # no script at all (default-src 'none')
    assert "sandbox" in policy


def test_a_real_lead_is_previewed_without_tracking_or_real_tokens(app, marketer, lead):
    response = preview(marketer, template="warm-case-study", lead="Dana@Northwind.example")
    location = response.headers["Location"]
    page = marketer.get(location).get_data(as_text=True)
    assert "dana@northwind.example" in page
    html = marketer.get(location + "/email.html").get_data(as_text=True)
    assert "Hi Ximena," in html
    assert "Northwind &lt;Logistics&gt;" in html
    assert 'href="http://nurture.test/u/preview"' in html
    assert 'src="http://nurture.test/t/o/preview.gif"' in html
    with app.extensions["nurture"].sessions() as session:
        assert session.scalars(select(TrackingHit)).all() == []
        row = session.scalar(select(EmailPreview))
        assert row is not None and row.lead_id is not None and row.edited is False


def test_the_editors_unsaved_text_is_previewed_and_a_step_of_a_campaign(marketer, settings):
    parts = read_template(settings.templates_path / "welcome-guide")
    response = marketer.post(
        "/authoring/preview",
        data={
            "csrf_token": csrf_token(marketer, "/authoring"),
            "template": "welcome-guide",
            "source": "edited",
            "subject": "Unsaved subject for {{ lead.first_name }}",
            "body": parts["body.mjml"] or "",
            "meta": parts["meta.yaml"] or "",
        },
    )
    page = marketer.get(response.headers["Location"]).get_data(as_text=True)
    assert "Unsaved subject for Dana" in page
    assert "unsaved text from the editor" in page
    assert (settings.templates_path / "welcome-guide" / "subject.txt").read_text() == (
        parts["subject.txt"]
    )

    step = marketer.post(
        "/authoring/preview",
        data={
            "csrf_token": csrf_token(marketer, "/authoring"),
            "campaign": "recycle",
            "step": "whats-new",
        },
    )
    page = marketer.get(step.headers["Location"]).get_data(as_text=True)
    assert "Preview of recycle-whats-new" in page
    assert "recycle · whats-new" in page


def test_a_broken_text_or_unknown_lead_is_a_clear_error(marketer, settings):
    parts = read_template(settings.templates_path / "welcome-guide")
    response = marketer.post(
        "/authoring/preview",
        data={
            "csrf_token": csrf_token(marketer, "/authoring"),
            "template": "welcome-guide",
            "source": "edited",
            "subject": "Hi {{ lead.frist_name }}",
            "body": parts["body.mjml"] or "",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "fix its problems first" in page
    assert "subject.txt:1: " in page

    for lead in ("nobody@example.org", "99999999999999999999", "a%00@b.c", "<script>@x.y"):
        response = preview(marketer, template="welcome-guide", lead=lead)
        assert response.status_code == 422
        assert "No lead has the address" in response.get_data(as_text=True)
    for template in ("../../etc/passwd", "_layouts", "", "x" * 500):
        assert preview(marketer, template=template).status_code == 422
    bad_step = marketer.post(
        "/authoring/preview",
        data={
            "csrf_token": csrf_token(marketer, "/authoring"),
            "campaign": "recycle",
            "step": "nope",
        },
    )
    assert bad_step.status_code == 404


def test_a_preview_is_its_authors_only_and_expires(app, marketer):
    location = preview(marketer, template="welcome-guide").headers["Location"]
    other = signed_in_client(app, "marketer", email="other@example.com")
    assert other.get(location).status_code == 404
    assert other.get(location + "/email.html").status_code == 404
    with app.extensions["nurture"].sessions() as session:
        session.execute(update(EmailPreview).values(created_at=utcnow() - timedelta(hours=2)))
        session.commit()
    assert marketer.get(location).status_code == 404


def test_a_test_send_reaches_the_users_own_mailbox(app, marketer, smtp_sink):
    location = preview(marketer, template="welcome-guide").headers["Location"]
    token = csrf_token(marketer, location)

    response = marketer.post(location + "/send", data={"csrf_token": token})

    assert response.status_code == 302
    assert "Test email sent to marketer@example.com." in marketer.get(location).get_data(
        as_text=True
    )
    (message,) = smtp_sink.received
    assert message["To"] == "marketer@example.com"
    assert message["Subject"].strip() == (
        "[Test] Welcome to Brightpath, Dana: your revenue analytics starter guide"
    )
    assert smtp_sink.envelopes[0][1] == ["marketer@example.com"]
    html = message.get_body(("html",)).get_content()
    assert "Northwind Logistics" in html
    with app.extensions["nurture"].sessions() as session:
        actions = session.scalars(select(AuditLog.action)).all()
    assert "app.ui_authoring.preview_send" in actions


def test_a_refused_test_send_is_reported_not_a_crash(marketer, smtp_sink):
    location = preview(marketer, template="welcome-guide").headers["Location"]
    smtp_sink.fail_next.append("554 5.7.1 rejected by policy")
    token = csrf_token(marketer, location)
    response = marketer.post(location + "/send", data={"csrf_token": token})
    assert response.status_code == 302
    page = marketer.get(location).get_data(as_text=True)
    assert "The mail server did not take the test email" in page


def test_test_sends_are_limited_per_user(marketer, smtp_sink):
    location = preview(marketer, template="welcome-guide").headers["Location"]
    token = csrf_token(marketer, location)
    for _ in range(11):
        marketer.post(location + "/send", data={"csrf_token": token})
    assert len(smtp_sink.received) == 10
    assert "You have sent 10 test emails in the last hour" in marketer.get(location).get_data(
        as_text=True
    )


def test_a_viewer_previews_but_cannot_send(app, smtp_sink):
    viewer = signed_in_client(app, "viewer")
    location = preview(viewer, template="welcome-guide").headers["Location"]
    page = viewer.get(location).get_data(as_text=True)
    assert "Send a test" not in page
    response = viewer.post(location + "/send", data={"csrf_token": csrf_token(viewer, location)})
    assert response.status_code == 403
    assert smtp_sink.received == []
