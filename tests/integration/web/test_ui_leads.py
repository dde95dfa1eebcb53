"""The leads pages through the Flask test client: the list, bulk enrolment, CSV export,
a lead's page and profile edit, an email as sent, export and erasure."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from nurture.leads.service import upsert_leads
from nurture.leads.validation import validate_lead_data
from nurture.models import AuditLog, Enrollment, Event, Lead, Message, OutboxMessage, TrackingHit
from nurture.platform.db import transaction, utcnow
from nurture.rendering.compiled import RenderedEmail
from nurture.tracking.links import LinkSigner, track_links
from nurture.tracking.tokens import MessageSigner, message_urls
from tests.integration.engine_support import sync_fixture_campaigns
from tests.integration.web.ui_support import csrf_token, signed_in_client


@pytest.fixture
def rt(app):
    return app.extensions["nurture"]


def add_leads(rt, *rows):
    items = []
    for row in rows:
        fields, errors = validate_lead_data(row, default_timezone="UTC")
        assert not errors, errors
        items.append(fields)
    with transaction(rt.sessions) as session:
        return [r.lead.id for r in upsert_leads(session, items, now=utcnow(), source="api")]


def audit_actions(rt, action):
    with rt.sessions() as session:
        return list(session.scalars(select(AuditLog).where(AuditLog.action == action)))


def test_the_list_shows_searches_filters_and_pages(app, rt):
    add_leads(
        rt,
        {"email": "grace@acme.example", "first_name": "Grace", "last_name": "Hopper",
         "company": "Acme Labs", "stage": "mql"},
        *({"email": f"p{n:02}@bulk.example"} for n in range(55)),
    )  # fmt: skip
    client = signed_in_client(app, "viewer")
    page = client.get("/leads?q=grace").get_data(as_text=True)
    assert "Grace Hopper" in page and "Acme Labs" in page and "p01@bulk.example" not in page
    assert "Export CSV" not in page  # a viewer may not export
    first = client.get("/leads?stage=subscriber").get_data(as_text=True)
    assert first.count("@bulk.example</span>") == 0  # nameless leads show their address
    assert first.count("@bulk.example</a>") == 50
    assert "grace@acme.example" not in first
    next_link = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = client.get(next_link.replace("&amp;", "&")).get_data(as_text=True)
    assert second.count("@bulk.example</a>") == 5
    assert 'rel="next"' not in second


@pytest.mark.parametrize(
    "query",
    [
        "/leads?account=99999999999999999999",
        "/leads?q=%00",
        "/leads?q=" + "x" * 5000,
        "/leads?stage=%3Cscript%3E",
        "/leads?after=%3Cscript%3E,1",
        "/leads?sort=score&after=nan,99999999999999999999",
    ],
)
def test_hostile_list_parameters_are_refused_or_ignored_never_a_server_error(app, query):
    client = signed_in_client(app, "marketer")
    response = client.get(query)
    assert response.status_code in (200, 400)
    assert "<script>" not in response.get_data(as_text=True)


def test_bulk_enrolment_shows_the_count_then_the_outcome_with_reasons(app, rt):
    sync_fixture_campaigns(rt)
    with transaction(rt.sessions) as session:
        # Made before the campaign's trigger could see them: none enrolled yet.
        session.query(Enrollment).delete()
    add_leads(
        rt,
        {"email": "a@ok.example", "consent_status": "granted", "source": "fair"},
        {"email": "b@ok.example", "consent_status": "granted", "source": "fair"},
        {"email": "c@no.example", "consent_status": "withdrawn", "source": "fair"},
        {"email": "d@other.example", "consent_status": "granted", "source": "web"},
    )
    with transaction(rt.sessions) as session:
        session.query(Enrollment).delete()
    client = signed_in_client(app, "marketer")
    preview = client.get("/leads/enrol?source=fair").get_data(as_text=True)
    assert "3 leads match." in preview
    token = csrf_token(client, "/leads/enrol?source=fair")
    bad = client.post("/leads/enrol", data={"csrf_token": token, "source": "fair",
                                            "campaign_key": "nope"})  # fmt: skip
    assert bad.status_code == 422
    assert "Choose one of the active campaigns." in bad.get_data(as_text=True)
    response = client.post(
        "/leads/enrol",
        data={"csrf_token": token, "source": "fair", "campaign_key": "test-drip"},
        follow_redirects=True,
    )
    text = response.get_data(as_text=True)
    assert "2 of 3 leads enrolled in test-drip." in text
    assert "Not enrolled (1): lead may not be mailed (consent or unsubscribe)" in text
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Enrollment)) == 2
    assert audit_actions(rt, "app.ui_leads.enrol")


def test_csv_export_streams_the_filtered_set_safe_from_formulas(app, rt):
    hostile = ['=HYPERLINK("http://evil","x")', "+1+A1", "-2+3", "@x", "\t=1", "-2"]
    add_leads(
        rt,
        *(
            {"email": f"f{n}@acme.example", "first_name": value, "source": "fair"}
            for n, value in enumerate(hostile)
        ),
        {"email": "other@acme.example", "first_name": "Other", "source": "web"},
    )
    client = signed_in_client(app, "marketer")
    response = client.get("/leads/export.csv?source=fair&sort=oldest")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:4] == ["id", "email", "first_name", "last_name"]
    # Validation collapses the tab; every value that a spreadsheet would run is quoted (a
    # plain number cannot run anything, and stays as it is).
    assert [row[2] for row in rows[1:]] == [
        "'=HYPERLINK(\"http://evil\",\"x\")", "'+1+A1", "'-2+3", "'@x", "'=1", "-2"
    ]  # fmt: skip
    assert all(row[10] == "fair" for row in rows[1:])
    assert audit_actions(rt, "leads.csv_exported")[0].detail == {
        "filter": {"source": "fair", "sort": "oldest"}
    }
    assert (
        signed_in_client(app, "viewer", "v@x.example").get("/leads/export.csv").status_code == 403
    )


def test_a_leads_page_shows_profile_timeline_apart_and_edits_are_saved(app, rt):
    (lead_id,) = add_leads(
        rt,
        {"email": "ada@acme.example", "first_name": "Ada", "last_name": "Lovelace",
         "phone": "+44 20 1234", "attributes": {"budget": "approved"}},
    )  # fmt: skip
    now = utcnow()
    with transaction(rt.sessions) as session:
        session.add_all(
            [
                Event(lead_id=lead_id, type="page.viewed", occurred_at=now - timedelta(hours=2),
                      recorded_at=now, properties={"url": "https://x.example/pricing"}),
                Event(lead_id=lead_id, type="email.opened", occurred_at=now - timedelta(hours=1),
                      recorded_at=now, is_machine=True,
                      machine_reasons=["apple mail privacy protection"], properties={}),
            ]
        )  # fmt: skip
    client = signed_in_client(app, "marketer")
    page = client.get(f"/leads/{lead_id}").get_data(as_text=True)
    for text in ("Ada Lovelace", "+44 20 1234", "approved", "page.viewed", "Machine, not scored",
                 "apple mail privacy protection", "lead.created"):  # fmt: skip
        assert text in page, text
    machine_only = client.get(f"/leads/{lead_id}?hits=machine").get_data(as_text=True)
    assert "apple mail privacy protection" in machine_only and "page.viewed" not in machine_only

    token = csrf_token(client, f"/leads/{lead_id}")
    form = {"csrf_token": token, "first_name": "Augusta", "last_name": "Lovelace", "title": "",
            "phone": "", "timezone": "europe/london", "locale": "en_gb", "budget": "",
            "authority": "decision maker", "need": "", "timing": ""}  # fmt: skip
    saved = client.post(f"/leads/{lead_id}/profile", data=form)
    assert saved.status_code == 302
    with rt.sessions() as session:
        lead = session.get(Lead, lead_id)
        assert (lead.first_name, lead.phone, lead.timezone, lead.locale) == (
            "Augusta", None, "Europe/London", "en-GB"
        )  # fmt: skip
        assert lead.attributes == {"authority": "decision maker"}
        assert lead.full_name_key == "augusta lovelace"
    assert audit_actions(rt, "app.ui_leads.edit")[0].detail["lead_id"] == str(lead_id)

    bad = client.post(
        f"/leads/{lead_id}/profile",
        data={**form, "first_name": "<script>x</script>", "phone": "call me",
              "timezone": "Mars/Base", "title": "t" * 300},
    )  # fmt: skip
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert 'id="phone-error"' in body and "not a phone number" in body
    assert 'id="timezone-error"' in body and 'id="title-error"' in body
    assert "<script>x</script>" not in body
    with rt.sessions() as session:
        assert session.get(Lead, lead_id).first_name == "Augusta"  # nothing half-saved


def test_roles_and_unknown_ids(app, rt):
    (lead_id,) = add_leads(rt, {"email": "ada@acme.example"})
    viewer = signed_in_client(app, "viewer")
    assert viewer.get(f"/leads/{lead_id}").status_code == 200
    token = csrf_token(viewer, f"/leads/{lead_id}")
    assert viewer.post(f"/leads/{lead_id}/profile", data={"csrf_token": token}).status_code == 403
    assert viewer.get("/leads/enrol").status_code == 403
    marketer = signed_in_client(app, "marketer")
    assert marketer.get(f"/leads/{lead_id}/erase").status_code == 403
    assert "Erase" not in marketer.get(f"/leads/{lead_id}").get_data(as_text=True)
    for path in ("/leads/99999999999999999999", "/leads/424242", "/leads/1%00",
                 f"/leads/{lead_id}/messages/99999999999999999999",
                 f"/leads/{lead_id}/messages/1/frame"):  # fmt: skip
        assert marketer.get(path).status_code == 404, path
    assert app.test_client().get("/leads").status_code == 302  # to sign in


def _sent_email(rt, lead_id, *, keep_copy):
    """A message as the engine sends it: signed click links and the open pixel."""
    settings = rt.settings
    with transaction(rt.sessions) as session:
        message = Message(lead_id=lead_id, template="welcome-guide", to_address="ada@acme.example",
                          message_id="m1@test", token="tok1", status="sent", subject="Welcome",
                          sent_at=utcnow())  # fmt: skip
        session.add(message)
        session.flush()
        urls = message_urls(settings.public_url, MessageSigner(settings.secret_key).sign("tok1"))
        html = (
            f'<html><body><p>Hi</p><a href="https://brightpath.example/guide">Guide</a>'
            f'<a href="{urls["unsubscribe_url"]}">Unsubscribe</a>'
            f'<img src="{urls["open_pixel_url"]}" width="1" height="1" alt=""></body></html>'
        )
        rendered = track_links(
            RenderedEmail("welcome-guide", "v", "Welcome", html, "Hi"),
            token="tok1",
            signer=LinkSigner(settings.secret_key),
            public_url=settings.public_url,
        )
        if keep_copy:
            raw = (
                "Subject: Welcome\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8"
                "\r\n\r\n" + rendered.html
            ).encode()
            session.add(OutboxMessage(message_id=message.id, to_address="ada@acme.example",
                                      subject="Welcome", raw=raw))  # fmt: skip
        return message.id


def test_an_email_is_shown_as_sent_in_a_sandbox_without_recording_a_hit(app, rt):
    (lead_id,) = add_leads(rt, {"email": "ada@acme.example", "first_name": "Ada"})
    message_id = _sent_email(rt, lead_id, keep_copy=True)
    client = signed_in_client(app, "viewer")
    page = client.get(f"/leads/{lead_id}/messages/{message_id}").get_data(as_text=True)
    assert "exact email as sent" in page
    assert "sandbox" in page and f"/leads/{lead_id}/messages/{message_id}/frame" in page
    assert "https://brightpath.example/guide" in page  # the links, tracking decoded
    frame = client.get(f"/leads/{lead_id}/messages/{message_id}/frame")
    policy = frame.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy and "script" not in policy
    body = frame.get_data(as_text=True)
    assert "/t/o/" not in body and "/t/c/" not in body and "/u/" not in body
    assert 'href="#" title="https://brightpath.example/guide"' in body
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(TrackingHit)) == 0
        assert (
            session.scalar(
                select(func.count()).select_from(Event).where(Event.type.like("email.%"))
            )
            == 0
        )


def test_without_a_copy_the_email_is_rendered_again_and_the_page_says_so(app, rt):
    (lead_id,) = add_leads(rt, {"email": "ada@acme.example", "first_name": "Ada"})
    message_id = _sent_email(rt, lead_id, keep_copy=False)
    client = signed_in_client(app, "marketer")
    page = client.get(f"/leads/{lead_id}/messages/{message_id}").get_data(as_text=True)
    assert "rendered again from its template" in page
    assert "The template has changed since it was sent" in page  # recorded version: none
    frame = client.get(f"/leads/{lead_id}/messages/{message_id}/frame").get_data(as_text=True)
    assert "Ada" in frame and "/t/o/" not in frame


def test_admins_export_and_erase_with_confirmation_and_audit(app, rt):
    (lead_id,) = add_leads(rt, {"email": "ada@acme.example", "first_name": "Ada"})
    marketer = signed_in_client(app, "marketer")
    token = csrf_token(marketer, f"/leads/{lead_id}")
    exported = marketer.post(f"/leads/{lead_id}/export", data={"csrf_token": token})
    assert exported.status_code == 200
    assert json.loads(exported.get_data())["lead"]["email"] == "ada@acme.example"
    assert len(audit_actions(rt, "lead.exported")) == 1

    admin = signed_in_client(app, "admin")
    token = csrf_token(admin, f"/leads/{lead_id}/erase")
    wrong = admin.post(f"/leads/{lead_id}/erase", data={"csrf_token": token, "confirm": "x"})
    assert wrong.status_code == 422 and 'id="confirm-error"' in wrong.get_data(as_text=True)
    with rt.sessions() as session:
        assert session.get(Lead, lead_id).erased_at is None
    done = admin.post(
        f"/leads/{lead_id}/erase",
        data={"csrf_token": token, "confirm": "ADA@acme.example"},
        follow_redirects=True,
    )
    assert "Erased:" in done.get_data(as_text=True)
    with rt.sessions() as session:
        assert session.get(Lead, lead_id).erased_at is not None
    assert len(audit_actions(rt, "lead.erased")) == 1
    # Gone from the list; its page says it is erased; a second export finds nothing.
    assert "ada@acme.example" not in admin.get("/leads").get_data(as_text=True)
    assert "was erased" in admin.get(f"/leads/{lead_id}").get_data(as_text=True)
    assert admin.post(f"/leads/{lead_id}/export", data={"csrf_token": token}).status_code == 404
