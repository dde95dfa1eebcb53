"""Leads that arrive by API or CSV are enrolled by the lead_created trigger and get their
first email on the next tick; manual enrolment through the API follows the same rules."""

from __future__ import annotations

from sqlalchemy import select

from nurture.auth.apikeys import create_api_key
from nurture.leads.csv_import import import_leads_csv
from nurture.models import Enrollment, Lead
from nurture.platform.db import transaction
from tests.integration.engine_support import (
    T0,
    sync_fixture_campaigns,
    tick_hourly_until_sent,
)


def _auth(runtime) -> dict[str, str]:
    with transaction(runtime.sessions) as session:
        _key, plaintext = create_api_key(session, "tests", now=T0)
    return {"Authorization": f"Bearer {plaintext}"}


def test_lead_created_by_api_is_enrolled_and_mailed(app, client):
    runtime = app.extensions["nurture"]
    sync_fixture_campaigns(runtime)
    response = client.post(
        "/api/v1/leads",
        json={
            "email": "Jane@Acme.example",
            "first_name": "Jane",
            "consent_status": "granted",
            "lawful_basis": "consent",
            "timezone": "Europe/Berlin",
        },
        headers=_auth(runtime),
    )
    assert response.status_code == 201, response.json
    with runtime.sessions() as session:
        lead = session.scalar(select(Lead).where(Lead.email == "jane@acme.example"))
        [enrollment] = session.scalars(select(Enrollment).where(Enrollment.lead_id == lead.id))
    assert (enrollment.status, enrollment.track) == ("active", "cold")
    # The API enrols at the real clock, so the drip starts from the enrolment's due time.
    assert tick_hourly_until_sent(runtime, lead.id, enrollment.next_due_at) == ["welcome-guide"]


def test_lead_without_consent_is_not_enrolled(app, client):
    runtime = app.extensions["nurture"]
    sync_fixture_campaigns(runtime)
    response = client.post(
        "/api/v1/leads", json={"email": "noconsent@acme.example"}, headers=_auth(runtime)
    )
    assert response.status_code == 201
    with runtime.sessions() as session:
        assert session.scalars(select(Enrollment)).all() == []


def test_csv_import_enrols_every_new_lead_once(runtime, tmp_path):
    sync_fixture_campaigns(runtime)
    csv_file = tmp_path / "leads.csv"
    csv_file.write_text(
        "email,first_name,lawful_basis\n"
        "a@acme.example,A,legitimate_interest\n"
        "b@acme.example,B,legitimate_interest\n"
        "broken-address,C,legitimate_interest\n"
    )
    for _ in range(2):  # a re-import creates nothing and enrols nobody again
        import_leads_csv(
            runtime.sessions,
            csv_file,
            now=T0,
            progress=False,
            rejects_path=tmp_path / "rejects.csv",
        )
    with runtime.sessions() as session:
        enrolled = session.scalars(
            select(Lead.email).join(Enrollment, Enrollment.lead_id == Lead.id).order_by(Lead.email)
        ).all()
    assert enrolled == ["a@acme.example", "b@acme.example"]


def test_manual_enrolment_by_api_reports_why_not(app, client):
    runtime = app.extensions["nurture"]
    sync_fixture_campaigns(runtime)
    headers = _auth(runtime)
    with transaction(runtime.sessions) as session:
        session.add(Lead(email="sales@acme.example", stage="sal", consent_status="granted"))
        session.add(Lead(email="fresh@acme.example", stage="lead", consent_status="granted"))
    refused = client.post(
        "/api/v1/campaigns/test-drip/enrollments",
        json={"lead": "sales@acme.example"},
        headers=headers,
    )
    assert refused.status_code == 422
    assert "audience" in refused.json["errors"]["lead"]
    accepted = client.post(
        "/api/v1/campaigns/test-drip/enrollments",
        json={"lead": "fresh@acme.example"},
        headers=headers,
    )
    assert accepted.status_code == 201
    assert accepted.json["enrollment"]["track"] == "cold"
    again = client.post(
        "/api/v1/campaigns/test-drip/enrollments",
        json={"lead": "fresh@acme.example"},
        headers=headers,
    )
    assert again.status_code == 422 and again.json["errors"]["lead"] == "already enrolled"
    missing = client.post(
        "/api/v1/campaigns/nope/enrollments", json={"lead": "fresh@acme.example"}, headers=headers
    )
    assert missing.status_code == 404
    listed = client.get("/api/v1/campaigns", headers=headers).json["campaigns"]
    assert [(c["id"], c["active_enrollments"]) for c in listed] == [("test-drip", 1)]
    assert client.get("/api/v1/campaigns").status_code == 401
