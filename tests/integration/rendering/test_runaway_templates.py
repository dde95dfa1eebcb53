"""A runaway template (a loop inside a loop) everywhere a template is rendered: the
editor's check, the preview, ``nurture campaigns validate`` and the send. Each gives the
limit's message quickly; nothing hangs, nothing else is lost."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from nurture.authoring.files import read_template
from nurture.cli import cli
from nurture.models import Message
from nurture.platform.config import Settings
from nurture.rendering.library import template_library
from nurture.sending.engine import Engine
from tests.integration.engine_support import T0, add_lead, enrol, sync_fixture_campaigns
from tests.integration.web.authoring_support import editable_settings
from tests.integration.web.ui_support import csrf_token, signed_in_client

RUNAWAY = (
    "{% for a in range(100000) %}{% for b in range(100000) %}\n"
    "<mj-section><mj-column><mj-text>x</mj-text></mj-column></mj-section>\n"
    "{% endfor %}{% endfor %}\n"
)
STEPS = "the template ran more than 1,000,000 steps (loop turns, calls and filters)"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return editable_settings(settings, tmp_path / "files")


def runaway_body(settings: Settings, template: str) -> tuple[dict[str, str], int]:
    """The template's parts with a loop inside a loop added to its body, and the line of
    the inner loop."""
    parts = {k: v or "" for k, v in read_template(settings.templates_path / template).items()}
    body = parts["body.mjml"]
    at = body.rindex("{% endblock %}")
    parts["body.mjml"] = body[:at] + RUNAWAY + body[at:]
    return parts, body[:at].count("\n") + 1


def test_the_editors_check_reports_the_runaway_loop_at_its_line(app, settings) -> None:
    marketer = signed_in_client(app, "marketer")
    parts, line = runaway_body(settings, "recycle-whats-new")
    # The token comes from the editor's page, which checks every template and each of its
    # language variants: not the request under test.
    token = csrf_token(marketer, "/authoring")
    started = time.perf_counter()
    response = marketer.post(
        "/authoring/check/template/recycle-whats-new",
        data={
            "subject": parts["subject.txt"],
            "body": parts["body.mjml"],
            "meta": parts["meta.yaml"],
        },
        headers={"X-CSRFToken": token},
    )
    assert time.perf_counter() - started < 10
    assert response.status_code == 200
    body = response.get_json()
    assert body["ok"] is False
    [problem] = body["problems"]
    assert (problem["file"], problem["line"]) == ("body.mjml", line)
    assert STEPS in problem["message"]
    assert "a loop inside a loop" in problem["message"]


@pytest.mark.parametrize("role", ["marketer", "viewer"])
def test_a_preview_of_a_runaway_text_is_a_message_not_a_hung_request(app, settings, role) -> None:
    client = signed_in_client(app, role)
    parts, line = runaway_body(settings, "welcome-guide")
    started = time.perf_counter()
    response = client.post(
        "/authoring/preview",
        data={
            "csrf_token": csrf_token(client, "/authoring/preview"),
            "template": "welcome-guide",
            "source": "edited",
            "subject": parts["subject.txt"],
            "body": parts["body.mjml"],
            "meta": parts["meta.yaml"],
        },
    )
    assert time.perf_counter() - started < 10
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "fix its problems first" in page
    assert f"welcome-guide/body.mjml:{line}: " in page
    assert STEPS in page
    # Nothing was written: the saved template still previews.
    assert (settings.templates_path / "welcome-guide" / "body.mjml").read_text() != parts[
        "body.mjml"
    ]


def test_campaigns_validate_names_the_runaway_template_and_fails(app, settings) -> None:
    parts, line = runaway_body(settings, "recycle-whats-new")
    (settings.templates_path / "recycle-whats-new" / "body.mjml").write_text(parts["body.mjml"])
    campaign = settings.campaigns_path / "recycle.yaml"
    result = app.test_cli_runner().invoke(cli, ["campaigns", "validate", str(campaign)])
    assert result.exit_code == 1
    body = settings.templates_path / "recycle-whats-new" / "body.mjml"
    [problem] = [text for text in result.output.splitlines() if "does not render" in text]
    assert f"does not render: {body}:{line}: " in problem
    assert STEPS in problem


def test_a_lead_whose_data_makes_the_template_run_away_fails_alone_at_send_time(
    runtime, settings
) -> None:
    # The sample lead has no "interests": the template validates, and only a lead with
    # thousands of them makes it loop four million times.
    subject = settings.templates_path / "welcome-guide" / "subject.txt"
    subject.write_text(
        "{% for a in lead.attributes.get('interests', []) %}"
        "{% for b in lead.attributes.get('interests', []) %}{% endfor %}{% endfor %}"
        + subject.read_text()
    )
    assert sync_fixture_campaigns(runtime) is not None
    assert template_library(runtime).validate("welcome-guide") == []
    runaway = add_lead(runtime, "many@acme.example", attributes={"interests": list(range(2000))})
    plain = add_lead(runtime, "ada@acme.example")
    enrol(runtime, runaway)
    enrol(runtime, plain)

    engine = Engine(runtime)
    try:
        started = time.perf_counter()
        report = engine.tick(T0)
        assert time.perf_counter() - started < 10
    finally:
        engine.close()

    assert (report.sent, report.failed) == (1, 1)
    with runtime.sessions() as session:
        failed = session.scalars(select(Message).where(Message.lead_id == runaway)).one()
        sent = session.scalars(select(Message).where(Message.lead_id == plain)).one()
    assert failed.status == "failed"
    assert failed.error.startswith(f"template error: {subject}:1: ")
    assert STEPS in failed.error
    assert sent.status == "sent"
