"""An MJML mistake where a marketer meets it: ``nurture campaigns validate`` and the
editor's check name the template file, the line and the element."""

from __future__ import annotations

from pathlib import Path

import pytest

from nurture.cli import cli
from nurture.platform.config import Settings
from tests.integration.web.authoring_support import editable_settings
from tests.integration.web.ui_support import csrf_token, signed_in_client


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return editable_settings(settings, tmp_path / "files")


def test_campaigns_validate_names_a_misspelt_element_at_its_line(app, settings) -> None:
    body = settings.templates_path / "recycle-whats-new" / "body.mjml"
    source = body.read_text()
    assert 'href="https://brightpath.example/changelog">See what' in source
    body.write_text(
        source.replace("<mj-button", "<mj-buton").replace("</mj-button>", "</mj-buton>")
    )
    line = source[: source.index("<mj-button")].count("\n") + 1
    campaign = settings.campaigns_path / "recycle.yaml"
    result = app.test_cli_runner().invoke(cli, ["campaigns", "validate", str(campaign)])
    assert result.exit_code == 1
    [problem] = [text for text in result.output.splitlines() if "does not render" in text]
    assert (
        f"does not render: {body}:{line}: MJML: unknown element <mj-buton>; "
        "did you mean <mj-button>?"
    ) in problem


def test_the_editors_check_marks_the_line_of_a_missing_closing_tag(app, settings) -> None:
    folder = settings.templates_path / "recycle-whats-new"
    source = (folder / "body.mjml").read_text()
    # The last </mj-text> of the template, deleted.
    at = source.rindex("</mj-text>")
    edited = source[:at] + source[at + len("</mj-text>") :]
    opened = source[: source.rindex("<mj-text>")].count("\n") + 1
    marketer = signed_in_client(app, "marketer")
    response = marketer.post(
        "/authoring/check/template/recycle-whats-new",
        data={
            "subject": (folder / "subject.txt").read_text(),
            "body": edited,
            "meta": (folder / "meta.yaml").read_text(),
        },
        headers={"X-CSRFToken": csrf_token(marketer, "/authoring")},
    )
    assert response.status_code == 200
    result = response.get_json()
    assert result["ok"] is False
    [problem] = result["problems"]
    assert (problem["file"], problem["line"]) == ("body.mjml", opened)
    assert problem["message"].startswith("MJML: <mj-text> is never closed: </mj-column> at line ")
