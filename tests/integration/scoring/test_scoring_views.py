"""Reading a lead's engagement: ``nurture leads show``, ``nurture scoring`` commands, and the
JSON API's score and timeline, on a real database."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from nurture.auth.apikeys import create_api_key
from nurture.cli import cli, lead_show_cmd, scoring_cmd  # noqa: F401  (register commands)
from nurture.models import Event, Lead
from nurture.platform.db import transaction, utcnow
from nurture.scoring import rescore_leads
from nurture.scoring.watch import sync_scoring_file


@pytest.fixture
def runtime(app):
    return app.extensions["nurture"]


@pytest.fixture
def lead_id(runtime):
    """A lead of the bundled model: a demo request, two pricing views on one UTC day (so the
    model's daily cap applies whatever the time of day the test runs), a machine open."""
    now = utcnow()
    yesterday = (now - timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    sync_scoring_file(runtime, now=now)
    with transaction(runtime.sessions) as session:
        lead = Lead(email="grace@acme.example", first_name="Grace", stage="lead")
        session.add(lead)
        session.flush()
        for at, kind, machine, props in (
            (yesterday, "page.viewed", False, {"url": "https://brightpath.example/pricing"}),
            (
                yesterday + timedelta(hours=1),
                "page.viewed",
                False,
                {"url": "https://brightpath.example/pricing/team"},
            ),
            (now - timedelta(hours=5), "email.opened", True, {}),
            (now - timedelta(hours=2), "demo.requested", False, {"form": "demo"}),
        ):
            session.add(
                Event(
                    lead_id=lead.id,
                    type=kind,
                    occurred_at=at,
                    recorded_at=at,
                    is_machine=machine,
                    machine_reasons=["apple mail privacy protection"] if machine else [],
                    properties=props,
                )
            )
        session.flush()
        rescore_leads(session, [lead.id], now)
        return lead.id


def test_leads_show_prints_profile_explained_score_and_marked_timeline(app, lead_id):
    result = app.test_cli_runner().invoke(cli, ["leads", "show", "grace@acme.example"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "grace@acme.example" in out
    assert "temperature warm" in out
    assert "hand raised" in out
    assert "demo-request *" in out and "pricing-page" in out and "* hand-raiser rule" in out
    assert "+40 (demo-request)" in out and "capped (pricing-page)" in out
    assert "[machine, not scored: apple mail privacy protection]" in out


def test_leads_show_json_adds_up_and_unknown_leads_fail_clearly(app, lead_id):
    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["leads", "show", str(lead_id), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["lead"]["email"] == "grace@acme.example"
    score = data["score"]
    assert [rule["rule"] for rule in score["rules"]] == ["demo-request", "pricing-page"]
    assert score["rules"][1]["awarded"] == 10 and score["rules"][1]["capped"] == 10
    assert sum(rule["points_now"] for rule in score["rules"]) == pytest.approx(
        score["score"], abs=0.02
    )
    visits = [e for e in data["timeline"] if not e["type"].startswith(("lead.", "temperature."))]
    assert [event["human"] for event in visits] == [True, False, True, True]
    missing = runner.invoke(cli, ["leads", "show", "nobody@acme.example"])
    assert missing.exit_code == 1
    assert "no lead with id or email 'nobody@acme.example'" in missing.output


def test_api_score_and_timeline_need_a_key_and_match_the_cli(client, runtime, lead_id):
    assert client.get(f"/api/v1/leads/{lead_id}/score").status_code == 401
    with transaction(runtime.sessions) as session:
        _key, plaintext = create_api_key(session, "tests", now=utcnow())
    auth = {"Authorization": f"Bearer {plaintext}"}
    score = client.get("/api/v1/leads/grace@acme.example/score", headers=auth)
    assert score.status_code == 200
    body = score.get_json()
    assert body["lead_id"] == lead_id
    assert body["temperature"] == "warm"
    assert body["model"]["version"] == 1
    assert body["hand_raised_at"] is not None
    assert body["rules"][0]["recent"][0]["awarded"] == 40
    timeline = client.get(f"/api/v1/leads/{lead_id}/timeline?limit=2", headers=auth)
    events = timeline.get_json()["events"]
    # Newest first: the scoring engine's own events, written at the rescore, come first.
    assert {e["type"] for e in events} == {"lead.hand_raised", "temperature.changed"}
    full = client.get(f"/api/v1/leads/{lead_id}/timeline", headers=auth).get_json()["events"]
    opened = next(e for e in full if e["type"] == "email.opened")
    assert opened["human"] is False and opened["score"] is None
    demo = next(e for e in full if e["type"] == "demo.requested")
    assert demo["score"]["rule"] == "demo-request"
    assert client.get("/api/v1/leads/404/score", headers=auth).status_code == 404
    bad = client.get(f"/api/v1/leads/{lead_id}/timeline?limit=0", headers=auth)
    assert bad.status_code == 422


def test_scoring_validate_reports_file_lines_and_exits_non_zero(app, tmp_path):
    runner = app.test_cli_runner()
    ok = runner.invoke(cli, ["scoring", "validate"])
    assert ok.exit_code == 0, ok.output
    assert "ok " in ok.output and "hand-raisers" in ok.output
    broken = tmp_path / "scoring.yaml"
    broken.write_text("name: x\nhalf_life: 30d\nbands: {warm: 5, hot: 1}\nrules: []\n")
    result = runner.invoke(cli, ["scoring", "validate", str(broken)])
    assert result.exit_code == 1
    assert f"{broken}:3: bands.hot (1) must be above bands.warm (5)" in result.output
    assert f"{broken}:4: rules must be a list of rules, not an empty list" in result.output


def test_scoring_rescore_command_rescores_every_lead(app, lead_id):
    result = app.test_cli_runner().invoke(cli, ["scoring", "rescore", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "rescored 1 lead(s) with scoring version 1; 0 changed temperature" in result.output
