"""Qualification on a real database: the ICP and readiness files synced as versions, leads
graded on intake (and regraded when their account changes), and qualifying events turned
into qualifications (and handoffs) in the same transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from nurture.auth.apikeys import create_api_key
from nurture.cli import cli, qualification_cmd  # noqa: F401  (register commands)
from nurture.leads.lifecycle import change_stage, stage_history
from nurture.leads.service import upsert_leads
from nurture.leads.validation import LeadFields
from nurture.models import Event, Handoff, Lead, QualificationVersion
from nurture.platform.db import transaction
from nurture.qualification import evaluate_readiness, regrade_everyone
from nurture.qualification import service as qualification_service
from nurture.qualification.versions import sync_file
from nurture.scoring import rescore_leads, sync_scoring
from tests.integration.engine_support import T0

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def qualified(runtime):
    """The bundled scoring model, ICP and readiness definition, synced."""
    with transaction(runtime.sessions) as session:
        assert sync_scoring(session, ROOT / "campaigns" / "scoring.yaml", now=T0).ok
        assert sync_file(session, "icp", ROOT / "campaigns" / "icp.yaml", now=T0).ok
        assert sync_file(session, "readiness", ROOT / "campaigns" / "readiness.yaml", now=T0).ok
    return runtime


@pytest.fixture
def handed_off(monkeypatch):
    """Records the calls evaluate_readiness makes to the handoff, instead of handing off."""
    calls = []
    monkeypatch.setattr(
        qualification_service,
        "hand_off",
        lambda session, lead, qualification, now: calls.append(qualification),
    )
    return calls


def _import(rt, *items: LeadFields, now: datetime = T0):
    with transaction(rt.sessions) as session:
        return [r.lead.id for r in upsert_leads(session, list(items), now=now, source="csv")]


def _lead(rt, lead_id: int) -> Lead:
    with rt.sessions() as session:
        return session.get(Lead, lead_id)


def _event(rt, lead_id: int, kind: str, at: datetime, **props) -> None:
    with transaction(rt.sessions) as session:
        session.add(
            Event(
                lead_id=lead_id,
                type=kind,
                occurred_at=at,
                recorded_at=at,
                is_machine=False,
                machine_reasons=[],
                properties=props,
            )
        )


VP = dict(
    first_name="Vera",
    title="VP Sales",
    company_domain="acme.example",
    industry="software",
    employees=450,
    country="DE",
    consent_status="granted",
    lawful_basis="consent",
)


def test_an_import_grades_the_lead_with_reasons_and_what_is_missing(qualified, handed_off):
    (lead_id,) = _import(qualified, LeadFields(email="vera@acme.example", **VP))
    lead = _lead(qualified, lead_id)
    # industry 20 + size 12 + seniority 20 + department 5; no revenue, no BANT answers.
    assert (lead.fit_score, lead.fit_grade) == (57, "B")
    assert lead.fit_graded_at == T0 and lead.fit_version_id is not None
    texts = [reason["text"] for reason in lead.fit_reasons]
    assert "+20 industry: account.industry is 'software' (core industry; of 20)" in texts
    assert [m["field"] for m in lead.fit_missing] == [
        "account.annual_revenue",
        "attributes.budget",
        "attributes.authority",
        "attributes.need",
        "attributes.timing",
    ]
    with qualified.sessions() as session:
        (event,) = session.scalars(
            select(Event).where(Event.lead_id == lead_id, Event.type == "fit.changed")
        )
        assert (event.properties["from"], event.properties["to"]) == (None, "B")
    assert handed_off == []  # a good fit alone is not an MQL


def test_a_lead_without_fit_data_is_graded_d_and_lists_what_is_missing(qualified, handed_off):
    (lead_id,) = _import(qualified, LeadFields(email="someone@gmail.com"))
    lead = _lead(qualified, lead_id)
    assert (lead.fit_score, lead.fit_grade) == (0, "D")
    assert "title" in [m["field"] for m in lead.fit_missing]


def test_new_answers_and_account_data_regrade_the_lead_and_its_colleagues(qualified, handed_off):
    (vera,) = _import(qualified, LeadFields(email="vera@acme.example", **VP))
    (bob,) = _import(
        qualified,
        LeadFields(email="bob@acme.example", title="Head of Finance", annual_revenue=80_000_000),
        now=T0 + timedelta(hours=1),
    )
    # Bob's import filled the account's empty revenue: Vera's fit changed too.
    vera_lead = _lead(qualified, vera)
    assert vera_lead.fit_score == 67 and vera_lead.fit_graded_at == T0 + timedelta(hours=1)
    assert "account.annual_revenue" not in [m["field"] for m in vera_lead.fit_missing]
    assert _lead(qualified, bob).fit_grade == "B"
    _import(
        qualified,
        LeadFields(
            email="vera@acme.example",
            attributes={"budget": "approved", "authority": "decision maker"},
        ),
        now=T0 + timedelta(hours=2),
    )
    assert (_lead(qualified, vera).fit_score, _lead(qualified, vera).fit_grade) == (85, "A")


def test_a_failed_gate_caps_the_grade_on_the_lead(qualified, handed_off):
    (lead_id,) = _import(
        qualified,
        LeadFields(
            email="vera@tiny.example", **{**VP, "company_domain": "tiny.example", "employees": 12}
        ),
    )
    lead = _lead(qualified, lead_id)
    assert lead.fit_grade == "D"
    failed = [r for r in lead.fit_reasons if r["kind"] == "gate" and r["passed"] is False]
    assert [r["gate"] for r in failed] == ["big-enough"]


def test_a_hand_raise_on_a_b_grade_lead_qualifies_it_in_the_scoring_transaction(
    qualified, handed_off
):
    (lead_id,) = _import(qualified, LeadFields(email="vera@acme.example", **VP))
    at = T0 + timedelta(days=1)
    _event(qualified, lead_id, "demo.requested", at - timedelta(seconds=5), form="demo")
    with transaction(qualified.sessions) as session:
        rescore_leads(session, [lead_id], at)
    (qualification,) = handed_off
    assert qualification.lead_id == lead_id
    assert qualification.rule == "hand-raiser" and qualification.actor == "rule:hand-raiser"
    assert qualification.hand_raiser is True and qualification.hand_raise_event == "demo.requested"
    assert qualification.event_id is not None
    assert qualification.reasons == (
        "raised a hand: demo.requested 1 min ago",
        "fit grade B (57), C or better",
    )
    assert qualification.fit_grade == "B"
    assert any("industry" in reason for reason in qualification.fit_reasons)
    assert "attributes.budget (for budget, up to 10 points)" in qualification.fit_missing
    assert qualification.text.startswith("Qualified by rule 'hand-raiser' (asked for a demo")


def test_a_hand_raise_on_a_d_grade_lead_does_not_qualify(qualified, handed_off):
    (lead_id,) = _import(qualified, LeadFields(email="kid@gmail.com", title="Student"))
    _event(qualified, lead_id, "demo.requested", T0 + timedelta(hours=1))
    with transaction(qualified.sessions) as session:
        rescore_leads(session, [lead_id], T0 + timedelta(hours=1, seconds=1))
    assert handed_off == []
    assert _lead(qualified, lead_id).hand_raised_at is not None


def test_a_recycled_lead_within_its_cool_down_is_not_qualified_again(qualified, handed_off):
    (lead_id,) = _import(qualified, LeadFields(email="vera@acme.example", **VP, stage="sal"))
    with transaction(qualified.sessions) as session:
        lead = session.get(Lead, lead_id)
        change_stage(
            session, lead, "recycled", reason="no budget", actor="user:s@x.example", now=T0
        )
    _event(qualified, lead_id, "demo.requested", T0 + timedelta(days=2))
    with transaction(qualified.sessions) as session:
        rescore_leads(session, [lead_id], T0 + timedelta(days=2, seconds=1))
    assert handed_off == []
    # After the cool-down, the (new) hand-raise qualifies it.
    with transaction(qualified.sessions) as session:
        assert len(evaluate_readiness(session, [lead_id], T0 + timedelta(days=10))) == 0
        later = evaluate_readiness(session, [lead_id], T0 + timedelta(days=31))
        assert [q.rule for q in later] == []  # the hand-raise is older than 14 days by then
    _event(qualified, lead_id, "trial.started", T0 + timedelta(days=32))
    with transaction(qualified.sessions) as session:
        rescore_leads(session, [lead_id], T0 + timedelta(days=32, seconds=1))
    assert [q.rule for q in handed_off] == ["hand-raiser"]


def test_the_third_engaged_contact_completes_the_buying_committee_for_all_three(
    qualified, handed_off
):
    ids = _import(
        qualified,
        LeadFields(email="vera@acme.example", **VP),  # B
        LeadFields(email="max@acme.example", title="Revenue Analyst"),  # C
        LeadFields(email="ann@acme.example", title="Sales Manager"),  # C
        LeadFields(email="cal@acme.example", title="Sales Manager"),  # C, never engages
    )
    grades = [_lead(qualified, i).fit_grade for i in ids]
    assert grades == ["B", "C", "C", "C"]
    ids, cold = ids[:3], ids[3]
    at = T0 + timedelta(days=1)
    # A webinar (15) and a pricing view (10) make each warm (25), one person a day.
    for number, lead_id in enumerate(ids):
        day = at + timedelta(days=number)
        _event(qualified, lead_id, "webinar.attended", day)
        _event(qualified, lead_id, "page.viewed", day, url="https://brightpath.example/pricing")
        with transaction(qualified.sessions) as session:
            rescore_leads(session, [lead_id], day)
    assert [_lead(qualified, i).temperature for i in ids] == ["warm", "warm", "warm"]
    # Ann's rescore made the committee; Vera and Max, warm for days, meet the rule from
    # that moment as much as she does, so all three go to sales in that transaction. Cal,
    # graded C but never engaged, is not swept along.
    assert [(q.lead_id, q.rule) for q in handed_off] == [(i, "buying-committee") for i in ids]
    assert cold not in {q.lead_id for q in handed_off}
    assert all(q.qualified_at == at + timedelta(days=2) for q in handed_off)
    assert handed_off[2].reasons == (
        "fit grade C (45), C or better",
        "acme.example: 3 engaged contacts (≥ 3), account grade B",
    )
    assert handed_off[0].reasons[0].startswith("fit grade B")


def test_regrade_everyone_applies_an_edited_icp(qualified, handed_off, tmp_path):
    (lead_id,) = _import(qualified, LeadFields(email="vera@acme.example", **VP))
    edited = tmp_path / "icp.yaml"
    edited.write_text(
        (ROOT / "campaigns" / "icp.yaml")
        .read_text()
        .replace("{ A: 75, B: 55, C: 35 }", "{ A: 90, B: 80, C: 50 }")
    )
    with transaction(qualified.sessions) as session:
        report = sync_file(session, "icp", edited, now=T0)
        assert report.action == "created" and report.version == 2
        assert "1 lead(s) were graded with another version" in report.notes[0]
    summary = regrade_everyone(qualified.sessions, T0 + timedelta(hours=1), only_stale=True)
    assert (summary.leads, summary.changed_grade, summary.version) == (1, 1, 2)
    assert _lead(qualified, lead_id).fit_grade == "C"
    with qualified.sessions() as session:
        versions = session.scalars(
            select(QualificationVersion.number).where(QualificationVersion.kind == "icp")
        ).all()
        assert sorted(versions) == [1, 2]


def test_a_broken_icp_edit_keeps_the_previous_version(qualified, tmp_path):
    broken = tmp_path / "icp.yaml"
    broken.write_text("name: x\ngrades: { A: 1, B: 2, C: 3 }\ncriteria: []\n")
    with transaction(qualified.sessions) as session:
        report = sync_file(session, "icp", broken, now=T0)
    assert report.action == "failed" and "version 1 stays active" in report.notes
    assert f"{broken.resolve()}:2: grades must go down from A to C" in str(report)


def test_icp_and_readiness_commands(app, tmp_path):
    runner = app.test_cli_runner()
    ok = runner.invoke(cli, ["icp", "validate"])
    assert ok.exit_code == 0, ok.output
    assert "3 gates, 9 criteria" in ok.output
    broken = tmp_path / "icp.yaml"
    broken.write_text(
        "name: x\ngrades: { A: 80, B: 60, C: 40 }\ncriteria:\n  - id: a\n    feld: title\n"
    )
    bad = runner.invoke(cli, ["icp", "validate", str(broken)])
    assert bad.exit_code == 1
    assert f"{broken}:5: unknown field 'feld' (did you mean 'field'?)" in bad.output
    assert runner.invoke(cli, ["readiness", "validate"]).exit_code == 0
    assert runner.invoke(cli, ["icp", "sync"]).exit_code == 0
    assert runner.invoke(cli, ["readiness", "sync"]).exit_code == 0
    runtime = app.extensions["nurture"]
    (lead_id,) = _import(runtime, LeadFields(email="vera@acme.example", **VP))
    explained = runner.invoke(cli, ["icp", "explain", "vera@acme.example"])
    assert explained.exit_code == 0, explained.output
    assert "fit B (57)" in explained.output and "attributes.budget" in explained.output
    check = runner.invoke(cli, ["readiness", "check", "vera@acme.example"])
    assert check.exit_code == 0, check.output
    assert "not ready: no readiness rule is met" in check.output
    assert "hand-raiser: has not raised a hand" in check.output
    regrade = runner.invoke(cli, ["icp", "regrade", "--no-progress"])
    assert regrade.exit_code == 0, regrade.output
    assert "regraded 1 lead(s) with ICP version 1; 0 changed grade" in regrade.output
    stages = runner.invoke(cli, ["leads", "stages", str(lead_id)])
    assert stages.exit_code == 0 and "subscriber for" in stages.output


def test_a_hand_raise_on_a_b_grade_lead_is_handed_off_to_sales(qualified):
    (lead_id,) = _import(qualified, LeadFields(email="vera@acme.example", **VP))
    at = T0 + timedelta(days=1)
    _event(qualified, lead_id, "demo.requested", at, form="demo")
    with transaction(qualified.sessions) as session:
        rescore_leads(session, [lead_id], at)
    lead = _lead(qualified, lead_id)
    assert lead.stage == "mql"
    with qualified.sessions() as session:
        (change,) = stage_history(session, lead_id)
    assert (change.from_stage, change.to_stage) == ("subscriber", "mql")
    assert (change.actor, change.rule) == ("rule:hand-raiser", "hand-raiser")
    assert "demo.requested" in change.reason
    with qualified.sessions() as session:
        handoff = session.scalar(select(Handoff).where(Handoff.lead_id == lead_id))
    # The readiness file synced once is version 1: the feedback report groups by it.
    assert (handoff.qualification_rule, handoff.readiness_version) == ("hand-raiser", 1)
    # Evaluated again (another event), the lead is sales' now: no second qualification.
    with transaction(qualified.sessions) as session:
        assert evaluate_readiness(session, [lead_id], at + timedelta(minutes=1)) == []


def test_the_api_grades_an_upserted_lead_and_returns_its_fit(app, client):
    runtime = app.extensions["nurture"]
    with transaction(runtime.sessions) as session:
        assert sync_file(session, "icp", ROOT / "campaigns" / "icp.yaml", now=T0).ok
        _key, plaintext = create_api_key(session, "tests", now=T0)
    body = {
        "email": "vera@acme.example",
        "title": "VP Sales",
        "company_domain": "acme.example",
        "industry": "software",
        "employees": 450,
        "country": "DE",
        "attributes": {"budget": "approved"},
    }
    response = client.post(
        "/api/v1/leads", json=body, headers={"Authorization": f"Bearer {plaintext}"}
    )
    assert response.status_code == 201, response.get_json()
    fit = response.get_json()["fit"]
    assert (fit["score"], fit["grade"]) == (67, "B")
    assert fit["reasons"][-4]["text"] == (
        "+10 budget: attributes.budget is 'approved' (budget approved; of 10)"
    )
    assert fit["missing"][0]["field"] == "account.annual_revenue"
