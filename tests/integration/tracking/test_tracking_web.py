"""Website activity and server-side events: the snippet, the collector, identification,
anonymous history merged into the lead, and the events API with its 422 answers."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from nurture.auth.apikeys import create_api_key
from nurture.models import Lead, TrackingHit
from nurture.platform.db import transaction, utcnow
from nurture.tracking.processing import merge_waiting
from tests.integration.tracking_support import (
    CHROME,
    activate_scoring,
    count,
    events,
    lead,
    process,
    send_message,
)

VISITOR = "v1a2b3c4d5e6f7a8b9c0"


@pytest.fixture
def runtime(app):
    return app.extensions["nurture"]


@pytest.fixture
def auth(runtime):
    with transaction(runtime.sessions) as session:
        _key, plaintext = create_api_key(session, "website", now=utcnow())
    return {"Authorization": f"Bearer {plaintext}"}


def collect(client, **data):
    # The snippet sends text/plain JSON with sendBeacon.
    return client.post(
        "/t/e", data=json.dumps(data), content_type="text/plain", headers={"User-Agent": CHROME}
    )


def test_the_snippet_is_served_with_this_instances_collector(client):
    response = client.get("/t/snippet.js")
    assert response.status_code == 200
    assert response.mimetype == "application/javascript"
    script = response.get_data(as_text=True)
    assert '"http://nurture.test/t/e"' in script
    assert "nurture_vid" in script and "sendBeacon" in script


def test_an_anonymous_visitor_joins_the_lead_after_arriving_from_an_email_link(client, runtime):
    activate_scoring(runtime)
    assert (
        collect(
            client, vid=VISITOR, type="page", url="https://brightpath.example/blog", title="Blog"
        ).status_code
        == 204
    )
    process(runtime)
    (anonymous,) = events(runtime, "page.viewed")
    assert (anonymous.lead_id, anonymous.anonymous_id) == (None, VISITOR)
    assert anonymous.properties == {"url": "https://brightpath.example/blog", "title": "Blog"}

    sent = send_message(runtime)
    redirect = client.get(sent.clicks[0], headers={"User-Agent": CHROME})
    nv = parse_qs(urlsplit(redirect.headers["Location"]).query)["nv"][0]
    collect(client, vid=VISITOR, type="page", url="https://brightpath.example/pricing", nv=nv)
    process(runtime)
    pages = events(runtime, "page.viewed")
    assert [p.lead_id for p in pages] == [sent.lead_id, sent.lead_id]
    assert lead(runtime, sent.lead_id).score_value == pytest.approx(12 + 2)


def test_a_forged_identity_parameter_identifies_nobody(client, runtime):
    sent = send_message(runtime)
    collect(
        client, vid=VISITOR, type="page", url="https://brightpath.example/", nv=sent.token + ".x.y"
    )
    process(runtime)
    (page,) = events(runtime, "page.viewed")
    assert page.lead_id is None


def test_a_form_with_an_unknown_address_is_merged_when_the_lead_appears(client, runtime):
    collect(client, vid=VISITOR, type="page", url="https://brightpath.example/webinars")
    collect(
        client,
        vid=VISITOR,
        type="form",
        url="https://brightpath.example/webinars",
        form="webinar",
        email="Grace@Hopper.example",
    )
    process(runtime)
    assert {e.lead_id for e in events(runtime)} == {None}
    with transaction(runtime.sessions) as session:
        session.add(Lead(email="grace@hopper.example"))
    assert merge_waiting(runtime, utcnow()) == 1
    with transaction(runtime.sessions) as session:
        lead_id = session.query(Lead.id).scalar()
    timeline = events(runtime)
    assert [(e.type, e.lead_id) for e in timeline] == [
        ("page.viewed", lead_id),
        ("form.submitted", lead_id),
    ]
    assert timeline[1].properties["form"] == "webinar"


def test_bots_on_the_website_are_flagged(client, runtime):
    client.post(
        "/t/e",
        data=json.dumps({"vid": VISITOR, "type": "page", "url": "https://brightpath.example/"}),
        content_type="text/plain",
        headers={"User-Agent": "Googlebot/2.1"},
    )
    process(runtime)
    (page,) = events(runtime)
    assert page.machine_reasons == ["automation-agent"]


def test_malformed_collector_payloads_get_422_and_are_not_stored(client, runtime):
    response = collect(client, vid="short", type="purchase", title=5)
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"vid", "type", "title"}
    assert client.post("/t/e", data="{not json", content_type="text/plain").status_code == 422
    assert count(runtime, TrackingHit) == 0
    preflight = client.options("/t/e")
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"


# ---------------------------------------------------------------- the events API


def test_the_events_api_needs_a_key(client):
    assert client.post("/api/v1/events", json={"type": "demo.requested"}).status_code == 401


def test_a_demo_request_reaches_the_leads_timeline_and_score(client, runtime, auth):
    activate_scoring(runtime)
    sent = send_message(runtime, "ada@acme.example")
    response = client.post(
        "/api/v1/events",
        json={
            "type": "demo.requested",
            "email": "ADA@acme.example",
            "occurred_at": "2026-11-30T10:00:00+01:00",
            "properties": {"form": "demo", "seats": 25},
        },
        headers=auth,
    )
    assert response.status_code == 202
    process(runtime)
    (event,) = events(runtime, "demo.requested")
    assert event.lead_id == sent.lead_id
    assert event.properties == {"form": "demo", "seats": 25}
    assert event.occurred_at.isoformat() == "2026-11-30T09:00:00+00:00"
    assert lead(runtime, sent.lead_id).temperature in ("warm", "hot")


def test_an_event_for_an_unknown_email_waits_for_the_lead(client, runtime, auth):
    client.post(
        "/api/v1/events",
        json={
            "type": "content.downloaded",
            "email": "new@person.example",
            "properties": {"asset": "roi"},
        },
        headers=auth,
    )
    process(runtime)
    (event,) = events(runtime)
    assert event.lead_id is None and event.anonymous_id.startswith("e:")
    with transaction(runtime.sessions) as session:
        session.add(Lead(email="new@person.example"))
    merge_waiting(runtime, utcnow())
    (event,) = events(runtime)
    assert event.lead_id is not None


def test_an_event_by_visitor_id_joins_that_visitors_history(client, runtime, auth):
    send_message(runtime, "lin@acme.example")
    collect(client, vid=VISITOR, type="page", url="https://brightpath.example/trial")
    client.post(
        "/api/v1/events",
        json={"type": "trial.started", "email": "lin@acme.example", "visitor_id": VISITOR},
        headers=auth,
    )
    process(runtime)
    assert len({e.lead_id for e in events(runtime)} - {None}) == 1
    assert None not in {e.lead_id for e in events(runtime)}


def test_malformed_events_get_422_with_a_reason_per_field(client, runtime, auth):
    response = client.post(
        "/api/v1/events",
        json={
            "type": "bought-stuff",
            "email": "not-an-address",
            "occurred_at": "2026-11-30 10:00",
            "properties": ["a"],
            "colour": "red",
        },
        headers=auth,
    )
    assert response.status_code == 422
    # The shape comes first: the OpenAPI document's schema names what is of the wrong kind.
    assert set(response.json["errors"]) == {"/type", "/properties"}
    response = client.post(
        "/api/v1/events",
        json={
            "type": "custom.bought",
            "email": "not-an-address",
            "occurred_at": "2026-11-30 10:00",
            "colour": "red",
        },
        headers=auth,
    )
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"email", "occurred_at", "colour"}
    missing = client.post("/api/v1/events", json={"type": "custom.video_watched"}, headers=auth)
    assert missing.status_code == 422
    assert "email" in missing.json["errors"]
    future = client.post(
        "/api/v1/events",
        json={"type": "custom.x", "email": "a@b.example", "occurred_at": "2999-01-01T00:00:00Z"},
        headers=auth,
    )
    assert future.json["errors"] == {"occurred_at": "is in the future"}
    assert count(runtime, TrackingHit) == 0
