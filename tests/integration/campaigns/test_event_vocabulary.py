"""Campaign files name event types from one catalogue: a misspelt type fails validation
with file:line and the closest known type, and the bundled campaigns' goal is the type the
events API records, so a lead who asks for a demo leaves the nurture."""

from __future__ import annotations

from pathlib import Path

from nurture.auth.apikeys import create_api_key
from nurture.campaigns.sync import sync_campaigns
from nurture.cli import cli
from nurture.platform.db import transaction, utcnow
from nurture.sending.engine import Engine
from tests.integration.engine_support import T0, add_lead, enrol, enrollment
from tests.integration.tracking_support import process

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "campaigns" / "examples"


def validate(app, path: Path):
    return app.test_cli_runner().invoke(cli, ["campaigns", "validate", str(path)])


def bundled_with_goal(tmp_path: Path, goal: str) -> Path:
    text = (EXAMPLES / "b2b-nurture.yaml").read_text()
    assert "goal: { event: demo.requested }" in text
    path = tmp_path / "b2b-nurture.yaml"
    path.write_text(text.replace("goal: { event: demo.requested }", f"goal: {{ event: {goal} }}"))
    return path


def goal_line(path: Path) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if "goal:" in line)


def test_an_unknown_goal_event_fails_validate_with_file_line_and_a_suggestion(app, tmp_path):
    path = bundled_with_goal(tmp_path, "demo_requested")

    result = validate(app, path)

    assert result.exit_code == 1, result.output
    assert (
        f"{path}:{goal_line(path)}: unknown event type 'demo_requested' "
        "(did you mean 'demo.requested'?)"
    ) in result.output


def test_a_custom_event_type_is_accepted_as_a_goal(app, tmp_path):
    result = validate(app, bundled_with_goal(tmp_path, "custom.contract_signed"))

    assert result.exit_code == 0, result.output


def test_the_bundled_goal_ends_the_enrolment_when_a_demo_is_requested(app, client):
    runtime = app.extensions["nurture"]
    with transaction(runtime.sessions) as session:
        sync_campaigns(
            session,
            EXAMPLES,
            now=T0,
            template_exists=lambda name: (ROOT / "templates" / name / "body.mjml").is_file(),
        )
        _key, api_key = create_api_key(session, "tests", now=T0)
    lead_id = add_lead(runtime, "ada@acme.example")
    enrollment_id = enrol(runtime, lead_id, campaign_key="b2b-nurture")

    response = client.post(
        "/api/v1/events",
        json={"type": "demo.requested", "email": "ada@acme.example"},
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert response.status_code == 202, response.json
    now = utcnow()
    process(runtime, now)
    engine = Engine(runtime)
    try:
        engine.tick(now)
    finally:
        engine.close()

    ended = enrollment(runtime, enrollment_id)
    assert (ended.status, ended.exit_reason) == ("completed", "goal reached")
