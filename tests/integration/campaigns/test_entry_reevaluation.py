"""A lead turned away at a campaign's door is enrolled once it qualifies: after a
re-import that fixes its data, a consent given later, a lifted suppression, or the change
that puts it in the campaign's audience — once, never twice, and never a lead that existed
before the campaign started."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from nurture.auth.apikeys import create_api_key
from nurture.consent.suppression import lift_by_admin, suppress
from nurture.leads.csv_import import import_leads_csv
from nurture.leads.service import upsert_lead
from nurture.leads.validation import validate_lead_data
from nurture.models import Enrollment, EnrollmentHistory, Lead
from nurture.platform.db import transaction
from nurture.privacy.preferences import set_topic_opt_outs
from tests.integration.engine_support import FIXTURES, T0, sync_fixture_campaigns


def _enrolments(runtime, email: str) -> list[tuple[str, str]]:
    """(campaign key, via) of every enrolment of the lead."""
    with transaction(runtime.sessions) as session:
        rows = session.execute(
            select(Enrollment.campaign_id, EnrollmentHistory.detail)
            .join(Lead, Lead.id == Enrollment.lead_id)
            .join(EnrollmentHistory, EnrollmentHistory.enrollment_id == Enrollment.id)
            .where(Lead.email == email, EnrollmentHistory.action == "enrolled")
            .order_by(Enrollment.id)
        ).all()
        return [(str(campaign_id), detail["via"]) for campaign_id, detail in rows]


def _upsert(runtime, now, **data) -> None:
    fields, errors = validate_lead_data(data, default_timezone="UTC")
    assert errors == {}
    with transaction(runtime.sessions) as session:
        upsert_lead(session, fields, now=now, source="test")


def _import(runtime, tmp_path: Path, text: str, now=T0, **options):
    path = tmp_path / "leads.csv"
    path.write_text(text, encoding="utf-8")
    return import_leads_csv(
        runtime.sessions, path, now=now, progress=False, rejects_path=tmp_path / "r.csv", **options
    )


def test_a_reimport_that_fixes_the_consent_enrols_the_lead_once(runtime, tmp_path):
    sync_fixture_campaigns(runtime)
    summary = _import(runtime, tmp_path, "email,first_name\nola@firma.pl,Ola\n")
    assert summary.not_mailable == {"no_consent_basis": 1}
    assert _enrolments(runtime, "ola@firma.pl") == []

    later = T0 + timedelta(hours=2)
    fixed = "email,first_name,lawful_basis\nola@firma.pl,Ola,legitimate_interest\n"
    summary = _import(runtime, tmp_path, fixed, now=later)
    assert (summary.updated, summary.mailable) == (1, 1)
    assert [via for _, via in _enrolments(runtime, "ola@firma.pl")] == ["reevaluated"]

    # Importing again, or changing something else, never enrols it a second time.
    _import(runtime, tmp_path, fixed, now=later + timedelta(hours=1))
    _import(runtime, tmp_path, "email,first_name\nola@firma.pl,Aleksandra\n", now=later)
    assert len(_enrolments(runtime, "ola@firma.pl")) == 1


def test_batch_consent_on_a_reimport_enrols(runtime, tmp_path):
    sync_fixture_campaigns(runtime)
    _import(runtime, tmp_path, "email\nola@firma.pl\n")
    assert _enrolments(runtime, "ola@firma.pl") == []
    summary = _import(runtime, tmp_path, "email\nola@firma.pl\n", consent="granted")
    assert summary.mailable == 1
    assert len(_enrolments(runtime, "ola@firma.pl")) == 1


def test_consent_given_later_through_the_api_enrols(app, client):
    runtime = app.extensions["nurture"]
    sync_fixture_campaigns(runtime)
    with transaction(runtime.sessions) as session:
        _key, plaintext = create_api_key(session, "tests", now=T0)
    headers = {"Authorization": f"Bearer {plaintext}"}
    response = client.post("/api/v1/leads", json={"email": "ola@firma.pl"}, headers=headers)
    assert response.status_code == 201
    assert _enrolments(runtime, "ola@firma.pl") == []
    response = client.post(
        "/api/v1/leads",
        json={"email": "ola@firma.pl", "consent_status": "granted", "lawful_basis": "consent"},
        headers=headers,
    )
    assert response.status_code == 200, response.json
    assert [via for _, via in _enrolments(runtime, "ola@firma.pl")] == ["reevaluated"]


def test_a_lifted_suppression_enrols(runtime):
    sync_fixture_campaigns(runtime)
    with transaction(runtime.sessions) as session:
        suppress(session, "ola@firma.pl", reason="manual", source="test", now=T0)
    _upsert(runtime, T0, email="ola@firma.pl", lawful_basis="legitimate_interest")
    assert _enrolments(runtime, "ola@firma.pl") == []
    with transaction(runtime.sessions) as session:
        lift_by_admin(session, "ola@firma.pl", actor="admin", now=T0 + timedelta(hours=1))
    assert len(_enrolments(runtime, "ola@firma.pl")) == 1


def _audience_campaign(tmp_path: Path) -> Path:
    """The fixture drip, for leads on the pro plan only."""
    folder = tmp_path / "campaigns"
    folder.mkdir()
    text = (FIXTURES / "drip.yaml").read_text(encoding="utf-8")
    text = text.replace("id: test-drip", "id: pro-drip").replace(
        "    stage: [subscriber, lead, recycled]",
        "    attribute: { name: attributes.plan, in: [pro] }",
    )
    assert "attributes.plan" in text
    (folder / "pro.yaml").write_text(text, encoding="utf-8")
    return folder


def test_an_attribute_change_enrols_into_an_audience_campaign_once(runtime, tmp_path):
    sync_fixture_campaigns(runtime, _audience_campaign(tmp_path))
    lead = {"email": "ola@firma.pl", "lawful_basis": "legitimate_interest"}
    _upsert(runtime, T0, **lead, attributes={"plan": "basic"})
    assert _enrolments(runtime, "ola@firma.pl") == []

    _upsert(runtime, T0 + timedelta(days=1), **lead, attributes={"plan": "pro"})
    assert [via for _, via in _enrolments(runtime, "ola@firma.pl")] == ["reevaluated"]
    # Leaving the audience and coming back, or any other change, never enrols it again.
    _upsert(runtime, T0 + timedelta(days=2), **lead, attributes={"plan": "basic"})
    _upsert(runtime, T0 + timedelta(days=3), **lead, attributes={"plan": "pro"}, title="CFO")
    assert len(_enrolments(runtime, "ola@firma.pl")) == 1


def test_a_lead_older_than_the_campaign_is_not_swept_in_by_an_edit(runtime, tmp_path):
    _upsert(runtime, T0 - timedelta(days=30), email="old@firma.pl")
    sync_fixture_campaigns(runtime)
    _upsert(runtime, T0 + timedelta(hours=1), email="old@firma.pl", consent_status="granted")
    assert _enrolments(runtime, "old@firma.pl") == []
    with transaction(runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(Enrollment)) == 0


def test_an_attribute_changed_trigger_fires_when_that_attribute_changes(runtime, tmp_path):
    folder = tmp_path / "campaigns"
    folder.mkdir()
    text = (FIXTURES / "drip.yaml").read_text(encoding="utf-8")
    text = text.replace("id: test-drip", "id: on-plan").replace(
        "    - lead_created", "    - attribute_changed: attributes.plan"
    )
    (folder / "on-plan.yaml").write_text(text, encoding="utf-8")
    sync_fixture_campaigns(runtime, folder)
    lead = {"email": "ola@firma.pl", "lawful_basis": "legitimate_interest"}
    _upsert(runtime, T0, **lead, attributes={"plan": "basic"})
    _upsert(runtime, T0 + timedelta(hours=1), **lead, title="CFO")
    assert _enrolments(runtime, "ola@firma.pl") == []  # created, and another field changed
    _upsert(runtime, T0 + timedelta(hours=2), **lead, attributes={"plan": "pro"})
    assert [via for _, via in _enrolments(runtime, "ola@firma.pl")] == ["attribute_changed"]
    _upsert(runtime, T0 + timedelta(hours=3), **lead, attributes={"plan": "team"})
    assert len(_enrolments(runtime, "ola@firma.pl")) == 1  # already enrolled


def test_a_topic_chosen_again_in_the_preference_centre_enrols(runtime, tmp_path):
    folder = tmp_path / "campaigns"
    folder.mkdir()
    text = (FIXTURES / "drip.yaml").read_text(encoding="utf-8")
    text = text.replace("name: Test drip", "name: Test drip\ntopic: tips")
    (folder / "drip.yaml").write_text(text, encoding="utf-8")
    sync_fixture_campaigns(runtime, folder)
    _upsert(runtime, T0, email="ola@firma.pl")
    with transaction(runtime.sessions) as session:
        lead = session.scalars(select(Lead).where(Lead.email == "ola@firma.pl")).one()
        set_topic_opt_outs(session, lead, ["tips"], now=T0, actor="lead", source="test")
    # Mailable now, but it does not want the campaign's topic.
    _upsert(runtime, T0 + timedelta(hours=1), email="ola@firma.pl", consent_status="granted")
    assert _enrolments(runtime, "ola@firma.pl") == []
    with transaction(runtime.sessions) as session:
        lead = session.scalars(select(Lead).where(Lead.email == "ola@firma.pl")).one()
        later = T0 + timedelta(hours=2)
        set_topic_opt_outs(session, lead, [], now=later, actor="lead", source="test")
    assert [via for _, via in _enrolments(runtime, "ola@firma.pl")] == ["reevaluated"]
