"""The JSON API for leads: authentication, upsert, bulk, reads and JSON errors."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

import nurture.web.api as api
from nurture.auth.apikeys import create_api_key, revoke_api_key
from nurture.campaigns import triggers
from nurture.models import Account, Event, Lead
from nurture.platform.db import transaction

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def created_hook(monkeypatch):
    calls = []
    monkeypatch.setattr(
        triggers,
        "leads_created",
        lambda session, leads, now: calls.extend(lead.email for lead in leads),
    )
    return calls


@pytest.fixture
def runtime(app):
    return app.extensions["nurture"]


@pytest.fixture
def api_key(runtime):
    with transaction(runtime.sessions) as session:
        _key, plaintext = create_api_key(session, "tests", now=NOW)
    return plaintext


@pytest.fixture
def auth(api_key):
    return {"Authorization": f"Bearer {api_key}"}


def count(runtime, model) -> int:
    with transaction(runtime.sessions) as session:
        return session.scalar(select(func.count()).select_from(model))


# ---------------------------------------------------------------- authentication


def test_without_a_key_the_answer_is_a_json_401_with_a_bearer_challenge(client):
    response = client.post("/api/v1/leads", json={"email": "jane@acme.com"})
    assert response.status_code == 401
    assert response.is_json
    assert response.json["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="nurture"'


def test_a_wrong_key_is_refused_as_an_invalid_token(client, api_key):
    response = client.get("/api/v1/leads", headers={"Authorization": f"Bearer {api_key}x"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="nurture", error="invalid_token"'
    assert api_key not in response.get_data(as_text=True)


def test_a_revoked_key_is_refused(client, runtime, api_key, auth):
    assert client.get("/api/v1/leads", headers=auth).status_code == 200
    with transaction(runtime.sessions) as session:
        revoke_api_key(session, api_key, now=NOW)
    response = client.get("/api/v1/leads", headers=auth)
    assert response.status_code == 401
    assert response.json["message"] == "the API key is not valid or has been revoked"


def test_the_key_may_come_in_x_api_key(client, api_key):
    assert client.get("/api/v1/leads", headers={"X-API-Key": api_key}).status_code == 200


def test_authentication_comes_before_anything_else(client, created_hook):
    response = client.post("/api/v1/leads", data="not json", content_type="text/plain")
    assert response.status_code == 401


# ---------------------------------------------------------------- upsert


def test_post_creates_then_updates(client, runtime, auth, created_hook):
    body = {"email": "Jane@ACME.com", "first_name": "Jane", "company": "Acme", "country": "de"}
    created = client.post("/api/v1/leads", json=body, headers=auth)
    assert created.status_code == 201, created.json
    lead = created.json
    assert lead["email"] == "jane@acme.com"
    assert (lead["first_name"], lead["stage"], lead["temperature"]) == (
        "Jane",
        "subscriber",
        "cold",
    )
    assert lead["account"] == {"id": lead["account"]["id"], "name": "Acme", "domain": "acme.com"}
    assert lead["source"] == "api"
    assert lead["created_at"].endswith("Z")
    assert created_hook == ["jane@acme.com"]

    updated = client.post(
        "/api/v1/leads", json={"email": "jane@acme.com", "title": "CTO"}, headers=auth
    )
    assert updated.status_code == 200
    assert updated.json["id"] == lead["id"]
    assert (updated.json["title"], updated.json["first_name"]) == ("CTO", "Jane")
    assert created_hook == ["jane@acme.com"]
    assert count(runtime, Lead) == 1
    with transaction(runtime.sessions) as session:
        types = session.scalars(select(Event.type).order_by(Event.id)).all()
    assert types == ["lead.created", "lead.updated"]


def test_invalid_input_gets_a_422_with_a_reason_per_field(client, runtime, auth):
    response = client.post(
        "/api/v1/leads",
        json={"email": "jane@", "timezone": "Moon/Base", "stage": "hot", "shoe_size": 42},
        headers=auth,
    )
    assert response.status_code == 422
    body = response.json
    assert body["error"] == "invalid"
    assert set(body["errors"]) == {"email", "timezone", "stage", "shoe_size"}
    assert "after the @-sign" in body["errors"]["email"]
    assert body["errors"]["shoe_size"].startswith("unknown field; allowed: email, first_name")
    assert count(runtime, Lead) == 0


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("email=jane@acme.com", "application/x-www-form-urlencoded"),
        ('{"email": ', "application/json"),
        ('"just a string"', "application/json"),
        ("null", "application/json"),
    ],
)
def test_a_body_that_is_not_a_json_object_or_array_is_a_400(client, auth, data, content_type):
    response = client.post("/api/v1/leads", data=data, content_type=content_type, headers=auth)
    assert response.status_code == 400
    assert response.is_json and response.json["error"] == "bad_request"


def test_bulk_upsert_gives_a_result_per_item(client, runtime, auth, created_hook):
    client.post("/api/v1/leads", json={"email": "old@acme.com", "title": "CEO"}, headers=auth)
    created_hook.clear()
    items = [
        {"email": "a@acme.com", "company": "Acme"},
        {"email": "broken"},
        {"email": "old@acme.com", "title": "CEO"},
        {"email": "old@acme.com", "title": "Chair"},
        "not an object",
        {"email": "b@globex.com", "employees": "many"},
        {"email": "c@acme.com"},
    ]
    response = client.post("/api/v1/leads", json=items, headers=auth)
    assert response.status_code == 200
    body = response.json
    assert [r["status"] for r in body["results"]] == [
        "created",
        "invalid",
        "unchanged",
        "updated",
        "invalid",
        "invalid",
        "created",
    ]
    assert [r["index"] for r in body["results"]] == list(range(7))
    assert (body["created"], body["updated"], body["unchanged"], body["invalid"]) == (2, 1, 1, 3)
    assert body["results"][1]["errors"]["email"].startswith("An email address must have")
    assert body["results"][4]["errors"] == {"_": "a lead must be a JSON object"}
    assert body["results"][3]["changed"] == ["title"]
    assert body["results"][3]["lead"]["title"] == "Chair"
    assert (
        body["results"][0]["lead"]["account"]["id"] == body["results"][6]["lead"]["account"]["id"]
    )
    assert sorted(created_hook) == ["a@acme.com", "c@acme.com"]
    assert count(runtime, Account) == 1


def test_bulk_is_limited_to_1000_leads(client, runtime, auth):
    items = [{"email": f"u{i}@acme.com"} for i in range(1001)]
    response = client.post("/api/v1/leads", json=items, headers=auth)
    assert response.status_code == 413
    assert response.json["error"] == "payload_too_large"
    assert count(runtime, Lead) == 0


def test_a_bulk_of_1000_is_accepted(client, runtime, auth, created_hook):
    items = [{"email": f"u{i}@acme.com"} for i in range(1000)]
    response = client.post("/api/v1/leads", json=items, headers=auth)
    assert response.status_code == 200
    assert response.json["created"] == 1000
    assert len(created_hook) == 1000
    assert count(runtime, Lead) == 1000


def test_an_empty_bulk_does_nothing(client, auth):
    response = client.post("/api/v1/leads", json=[], headers=auth)
    assert response.status_code == 200
    assert response.json["results"] == []


# ---------------------------------------------------------------- reads


def test_get_by_email_or_id(client, auth):
    lead = client.post(
        "/api/v1/leads", json={"email": "jane@bücher.de", "first_name": "Jane"}, headers=auth
    ).json
    by_id = client.get(f"/api/v1/leads/{lead['id']}", headers=auth)
    assert by_id.status_code == 200 and by_id.json == lead
    by_email = client.get("/api/v1/leads/JANE@B%C3%BCcher.de", headers=auth)
    assert by_email.status_code == 200 and by_email.json["id"] == lead["id"]


@pytest.mark.parametrize("ref", ["999", "nobody@acme.com", "not-an-email"])
def test_get_an_unknown_lead_is_a_json_404(client, auth, ref):
    response = client.get(f"/api/v1/leads/{ref}", headers=auth)
    assert response.status_code == 404
    assert response.json["error"] == "not_found"


def test_list_pages_through_leads_with_a_cursor(client, auth):
    client.post("/api/v1/leads", json=[{"email": f"u{i}@acme.com"} for i in range(5)], headers=auth)
    client.post("/api/v1/leads", json={"email": "boss@acme.com", "stage": "mql"}, headers=auth)
    seen, cursor = [], None
    while True:
        query = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/leads", query_string=query, headers=auth).json
        seen += [lead["email"] for lead in page["leads"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"u{i}@acme.com" for i in range(5)] + ["boss@acme.com"]
    mql = client.get("/api/v1/leads?stage=mql", headers=auth).json
    assert [lead["email"] for lead in mql["leads"]] == ["boss@acme.com"]
    assert mql["next_cursor"] is None


def test_list_refuses_bad_parameters(client, auth):
    response = client.get("/api/v1/leads?stage=hot&limit=0&cursor=abc", headers=auth)
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"stage", "limit", "cursor"}


# ---------------------------------------------------------------- JSON errors everywhere


def test_unknown_api_paths_and_methods_answer_json(client, auth):
    missing = client.get("/api/v1/nothing-here", headers=auth)
    assert missing.status_code == 404 and missing.is_json
    assert missing.json["error"] == "not_found"
    wrong_method = client.delete("/api/v1/leads", headers=auth)
    assert wrong_method.status_code == 405 and wrong_method.is_json
    assert wrong_method.json["error"] == "method_not_allowed"
    assert "GET" in wrong_method.headers["Allow"]


def test_paths_outside_the_api_keep_flasks_own_error_pages(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert not response.is_json


def test_an_unexpected_error_is_a_json_500_without_details(app, client, auth, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(api, "list_leads", explode)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/api/v1/leads", headers=auth)
    assert response.status_code == 500
    assert response.json["error"] == "internal_server_error"
    assert "secret internals" not in response.get_data(as_text=True)


def test_a_unique_conflict_with_a_concurrent_request_is_retried(client, runtime, auth, monkeypatch):
    # Two requests creating the same lead at once: the loser's INSERT fails on the unique
    # email; run again, it finds the winner's lead and updates it.
    from sqlalchemy.exc import IntegrityError

    real, calls = api.upsert_leads, []

    def racing(session, items, **kwargs):
        calls.append(len(items))
        if len(calls) == 1:
            with transaction(runtime.sessions) as other:
                real(other, items, now=NOW, source="other")
            raise IntegrityError("INSERT INTO leads", {}, Exception("duplicate key"))
        return real(session, items, **kwargs)

    monkeypatch.setattr(api, "upsert_leads", racing)
    response = client.post(
        "/api/v1/leads", json={"email": "jane@acme.com", "title": "CTO"}, headers=auth
    )
    assert response.status_code == 200  # updated: the other request created it
    assert calls == [1, 1]
    assert count(runtime, Lead) == 1


def test_bulk_upsert_says_who_cannot_be_mailed_and_why(client, auth, created_hook):
    items = [
        {"email": "yes@acme.com", "consent_status": "granted", "lawful_basis": "consent"},
        {"email": "li@acme.com", "lawful_basis": "legitimate_interest"},
        {"email": "nobasis@acme.com"},
        {"email": "no@acme.com", "consent_status": "withdrawn"},
        {"email": "broken"},
    ]
    body = client.post("/api/v1/leads", json=items, headers=auth).json
    assert [r.get("not_mailable") for r in body["results"]] == [
        None,
        None,
        "no_consent_basis",
        "withdrawn",
        None,
    ]
    assert (body["mailable"], body["not_mailable"], body["invalid"]) == (
        2,
        {"no_consent_basis": 1, "withdrawn": 1},
        1,
    )
