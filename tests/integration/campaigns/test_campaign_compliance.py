"""Every campaign email carries the unsubscribe and preferences links and the postal address,
and no merge tag of another tool: ``nurture campaigns validate``, the worker's sync and the
campaign editor refuse a campaign whose template lacks them, at the send step's line and the
template file's."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from nurture.campaigns.services import sync_campaign_files
from nurture.cli import cli
from nurture.consent.brand import forget_cached_brand, update_brand
from nurture.models import Campaign
from nurture.platform.config import PROJECT_ROOT, Settings
from nurture.platform.db import transaction
from nurture.rendering.library import TemplateLibrary, template_library
from tests.integration.web.authoring_support import editable_settings
from tests.integration.web.ui_support import csrf_token, signed_in_client

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

PROMO_CAMPAIGN = """\
id: promo
name: Promo
entry:
  triggers: [lead_created]
tracks:
  cold:
    steps:
      - id: offer
        send: promo
"""
# The line of the step that sends it (its ``- id:``).
STEP_LINE = 8

LINKS = (
    '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a> or '
    '<a href="{{ preferences_url }}?from=footer">your preferences</a></p>'
)
ADDRESS = "<p>{{ sender.postal_address }}</p>"


def standalone(footer: str) -> str:
    """A body.mjml with no layout: its footer is only what the template writes itself."""
    return (
        "<mjml><mj-body><mj-section><mj-column>\n"
        "<mj-text><p>Hi {{ lead.first_name or 'there' }},</p></mj-text>\n"
        f"<mj-text>{footer}</mj-text>\n"
        '<mj-raw><img src="{{ open_pixel_url }}" width="1" height="1" alt=""></mj-raw>\n'
        "</mj-column></mj-section></mj-body></mjml>\n"
    )


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return editable_settings(settings, tmp_path / "files")


@pytest.fixture
def campaign(settings: Settings) -> Path:
    """The campaign file sending template ``promo`` (written by each test)."""
    folder = settings.campaigns_path.parent / "promo-only"
    folder.mkdir()
    path = folder / "promo.yaml"
    path.write_text(PROMO_CAMPAIGN)
    return path


def write_promo(settings: Settings, body: str) -> Path:
    folder = settings.templates_path / "promo"
    folder.mkdir(exist_ok=True)
    (folder / "subject.txt").write_text("A special offer\n")
    (folder / "body.mjml").write_text(body)
    return folder / "body.mjml"


def validate(app, path: Path) -> tuple[int, list[str]]:
    result = app.test_cli_runner().invoke(cli, ["campaigns", "validate", str(path)])
    assert "Traceback" not in result.output
    return result.exit_code, result.output.splitlines()


def not_fit(campaign: Path, where: str, message: str) -> str:
    return f"{campaign}:{STEP_LINE}: template 'promo' is not fit to send: {where}: {message}"


# ---------------------------------------------------------------- the legal footer


def test_a_campaign_template_without_an_unsubscribe_link_fails_validate(
    app, settings, campaign
) -> None:
    body = write_promo(settings, standalone(ADDRESS + '<a href="{{ preferences_url }}">Prefs</a>'))

    code, lines = validate(app, campaign)

    assert code == 1
    assert (
        not_fit(
            campaign,
            str(body),
            "the email has no unsubscribe link: every campaign email must let the lead "
            'unsubscribe in one click; add <a href="{{ unsubscribe_url }}">Unsubscribe</a> '
            "to its footer, or extend _layouts/base.mjml, whose footer has it",
        )
        in lines
    )
    assert "1 file checked, 0 valid, 1 problem;" in lines[-1]


def test_a_campaign_template_without_the_postal_address_fails_validate(
    app, settings, campaign
) -> None:
    # An address of its own that is not the configured one does not count either.
    body = write_promo(settings, standalone(LINKS + "<p>1 Other Road, Elsewhere</p>"))

    code, lines = validate(app, campaign)

    assert code == 1
    [problem] = [line for line in lines if "is not fit to send" in line]
    assert problem.startswith(
        not_fit(campaign, str(body), "the email does not show the sender's postal address")
    )
    assert "print {{ sender.postal_address }} in its footer" in problem


def test_a_layout_without_a_footer_is_named_with_everything_it_lacks(
    app, settings, campaign
) -> None:
    layout = settings.templates_path / "_layouts" / "bare.mjml"
    layout.write_text(
        "<mjml><mj-body>{% block content %}{% endblock %}</mj-body></mjml>\n", encoding="utf-8"
    )
    body = write_promo(
        settings,
        '{% extends "_layouts/bare.mjml" %}\n{% block content %}\n'
        "<mj-section><mj-column><mj-text>Hello</mj-text></mj-column></mj-section>\n"
        "{% endblock %}\n",
    )

    code, lines = validate(app, campaign)

    assert code == 1
    problems = [line for line in lines if "is not fit to send" in line]
    nor = "(nor has its layout _layouts/bare.mjml)"
    assert [problem.split(": ", 3)[3].split(nor)[0] for problem in problems] == [
        "the email has no unsubscribe link ",
        "the email has no link to the email-preferences page ",
        "the email does not show the sender's postal address ",
    ]
    assert all(problem.startswith(f"{campaign}:{STEP_LINE}: ") for problem in problems)
    assert all(f": {body}: " in problem for problem in problems)


def test_the_footer_may_come_from_the_template_itself(app, settings, campaign) -> None:
    write_promo(settings, standalone(LINKS + ADDRESS))

    code, lines = validate(app, campaign)

    assert code == 0, lines


def test_a_template_no_campaign_sends_is_not_held_to_the_footer(app, settings) -> None:
    # Transactional emails (handoff notifications, auto-replies, opt-in confirmations) are
    # rendered by their features, not by campaign steps: a footer-less one is fine.
    write_promo(settings, standalone("<p>Internal note</p>"))

    code, lines = validate(app, settings.campaigns_path)

    assert code == 0, lines
    assert TemplateLibrary(settings.templates_path).validate("promo") == []


class TestWithoutAPostalAddress:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.with_overrides(postal_address="")

    def test_it_is_the_error_once_per_campaign_until_the_brand_page_sets_one(
        self, app, settings
    ) -> None:
        campaign = settings.campaigns_path / "b2b-nurture.yaml"

        code, lines = validate(app, campaign)

        assert code == 1
        assert [line for line in lines if "is not fit to send" in line] == [
            f"{campaign}:50: template 'welcome-guide' is not fit to send: no postal address is "
            "configured, and every campaign email must show one (CAN-SPAM and most laws ask "
            "for it): set it on Settings → Brand or with NURTURE_POSTAL_ADDRESS"
        ]

        # A multi-line address from the brand page: the footer prints it on one line.
        runtime = app.extensions["nurture"]
        with transaction(runtime.sessions) as session:
            update_brand(
                session,
                company_name="",
                postal_address="Brightpath Analytics\n100 Example Street\nSpringfield",
                primary_colour="",
                actor="test",
                now=NOW,
            )
            forget_cached_brand(session)

        code, lines = validate(app, campaign)

        assert code == 0, lines


# ---------------------------------------------------------------- merge tags of other tools


def insert_line(body: Path, text: str) -> int:
    """Put ``text`` in a new paragraph of the body's first ``mj-text``; returns its line."""
    source = body.read_text()
    at = source.index("<mj-text>") + len("<mj-text>")
    body.write_text(f"{source[:at]}\n<p>{text}</p>{source[at:]}")
    return source[:at].count("\n") + 2


@pytest.mark.parametrize(
    ("tag", "use"),
    [
        ("[[FirstName]]", "{{ lead.first_name }}"),
        ("*|FNAME|*", "{{ lead.first_name }}"),
        ("%%FirstName%%", "{{ lead.first_name }}"),
        ("*|LIST:ADDRESS|*", "{{ sender.postal_address }}"),
    ],
)
def test_a_foreign_merge_tag_is_reported_at_its_line_with_the_variable_to_use(
    app, settings, tag, use
) -> None:
    body = settings.templates_path / "warm-case-study" / "body.mjml"
    line = insert_line(body, f"Hi {tag},")
    campaign = settings.campaigns_path / "b2b-nurture.yaml"

    code, lines = validate(app, campaign)

    assert code == 1
    [problem] = [text for text in lines if "merge tag" in text]
    assert problem == (
        f"{campaign}:78: template 'warm-case-study' is not fit to send: {body}:{line}: {tag} is "
        "a merge tag of another email tool: Nurture does not fill it in, so the lead would "
        f"read it as written; use {use}"
    )


def test_a_foreign_tag_in_a_jinja_comment_is_not_a_problem(app, settings) -> None:
    body = settings.templates_path / "warm-case-study" / "body.mjml"
    insert_line(body, "{# pasted from Mailchimp, where it read *|FNAME|* #}Hi,")

    code, lines = validate(app, settings.campaigns_path / "b2b-nurture.yaml")

    assert code == 0, lines


def test_an_undefined_jinja_variable_from_another_tool_names_the_right_one(app, settings) -> None:
    body = settings.templates_path / "warm-case-study" / "body.mjml"
    line = insert_line(body, "Hi {{FirstName}},")
    campaign = settings.campaigns_path / "b2b-nurture.yaml"

    code, lines = validate(app, campaign)

    assert code == 1
    assert (
        f"{campaign}:78: template 'warm-case-study' does not render: {body}:{line}: "
        "{{FirstName}}: undefined variable 'FirstName'; did you mean {{ lead.first_name }}?"
    ) in lines


# ---------------------------------------------------------------- every entry point


def test_the_workers_sync_keeps_the_previous_version_of_a_campaign_whose_template_lacks_it(
    runtime, settings, campaign
) -> None:
    write_promo(settings, standalone(LINKS + ADDRESS))
    assert sync_campaign_files(runtime, now=NOW, path=campaign.parent).entries[0].version == 1
    write_promo(settings, standalone(ADDRESS))
    # A running worker notices the edit within its check interval; no need to wait here.
    template_library(runtime).invalidate("promo")

    report = sync_campaign_files(runtime, now=NOW, path=campaign.parent)

    with runtime.sessions() as session:
        row = session.scalars(select(Campaign).where(Campaign.key == "promo")).one()
        assert row.active_version_id is not None
        assert row.last_error is not None
        assert f"{campaign}:{STEP_LINE}: " in row.last_error
        assert "the email has no unsubscribe link" in row.last_error
    assert any("no unsubscribe link" in line for line in report.lines())


def test_the_campaign_editor_marks_the_send_step(app, settings) -> None:
    write_promo(settings, standalone(LINKS))
    marketer = signed_in_client(app, "marketer")
    response = marketer.post(
        "/authoring/check/campaign/promo",
        data={"text": PROMO_CAMPAIGN},
        headers={"X-CSRFToken": csrf_token(marketer, "/authoring")},
    )

    assert response.status_code == 200
    body = response.get_json()
    assert body["ok"] is False
    [problem] = body["problems"]
    assert (problem["file"], problem["line"]) == ("promo.yaml", STEP_LINE)
    assert "the email does not show the sender's postal address" in problem["message"]


# ---------------------------------------------------------------- what ships


def test_every_bundled_template_a_bundled_campaign_sends_carries_the_footer() -> None:
    library = TemplateLibrary(PROJECT_ROOT / "templates")
    sent = {
        match
        for path in (PROJECT_ROOT / "campaigns" / "examples").glob("*.yaml")
        for match in re.findall(r"^\s*send: ([\w.-]+)", path.read_text(), re.MULTILINE)
    }
    assert sent
    for name in sorted(sent):
        problems = library.campaign_problems(
            name, company_name="Acme", postal_address="Acme Corp\n1 Main Street\nSpringfield"
        )
        assert problems == [], name


def test_the_example_template_of_the_docs_carries_the_footer(tmp_path) -> None:
    docs = (PROJECT_ROOT / "docs" / "templates.md").read_text()
    example = re.search(r"## A template\n\n```jinja\n(.*?)```", docs, re.DOTALL)
    assert example is not None
    for shared in ("_layouts", "_partials"):
        shutil.copytree(PROJECT_ROOT / "templates" / shared, tmp_path / shared)
    (tmp_path / "example").mkdir()
    (tmp_path / "example" / "subject.txt").write_text("Welcome\n")
    (tmp_path / "example" / "body.mjml").write_text(example.group(1))

    problems = TemplateLibrary(tmp_path).campaign_problems(
        "example", company_name="Brightpath", postal_address="Brightpath, 1 Main Street"
    )

    assert problems == []
