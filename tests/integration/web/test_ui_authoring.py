"""The editor of campaign, template, scoring, ICP, readiness and team files."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import select

import nurture.cli.campaigns_cmd  # noqa: F401  (registers the commands)
from nurture.authoring.files import fingerprint, read_template
from nurture.cli import cli
from nurture.models import AuditLog, Campaign, CampaignVersion, ScoringVersion
from nurture.platform.config import Settings
from tests.integration.web.authoring_support import editable_settings
from tests.integration.web.ui_support import csrf_token, signed_in_client

BROKEN_STEP = ("send: recycle-whats-new", "send: recycle-whats-nu")


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return editable_settings(settings, tmp_path / "files")


@pytest.fixture
def marketer(app):  # type: ignore[no-untyped-def]
    return signed_in_client(app, "marketer")


def recycle(settings: Settings) -> Path:
    return settings.campaigns_path / "recycle.yaml"


def cli_lines(app, path: Path) -> list[str]:  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(cli, ["campaigns", "validate", str(path)])
    return [line for line in result.output.splitlines() if line.startswith(str(path))]


def check(client, url: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/authoring")
    return client.post(url, data=data, headers={"X-CSRFToken": token})


def save(client, url: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/authoring")
    return client.post(url, data={**data, "action": "save", "csrf_token": token})


def base_of(html: str) -> str:
    match = re.search(r'name="base" value="([0-9a-f]*)"', html)
    assert match
    return match.group(1)


# ---------------------------------------------------------------- index and editors


def test_the_index_lists_every_file_with_its_state_and_live_version(app, marketer, settings):
    app.test_cli_runner().invoke(cli, ["campaigns", "sync"])
    broken = settings.templates_path / "warm-case-study" / "body.mjml"
    broken.write_text(broken.read_text().replace("lead.first_name", "lead.frist_name"))

    html = marketer.get("/authoring").get_data(as_text=True)

    assert 'href="/authoring/campaigns/b2b-nurture"' in html
    assert 'href="/authoring/campaigns/recycle"' in html
    assert 'href="/authoring/templates/welcome-guide"' in html
    for kind in ("scoring", "icp", "readiness", "team"):
        assert f'href="/authoring/files/{kind}"' in html
    assert "version 1" in html
    # The broken template, and the campaign that sends it, each have problems.
    row = html[html.index('href="/authoring/templates/warm-case-study"') :]
    assert "problem" in row[: row.index("</tr>")]
    assert "2 files have problems." in html


def test_the_editor_shows_the_file_and_its_problems_on_their_lines(app, marketer, settings):
    path = recycle(settings)
    path.write_text(path.read_text().replace(*BROKEN_STEP))
    (expected,) = cli_lines(app, path)
    line = int(expected.split(":")[1])

    response = marketer.get("/authoring/campaigns/recycle")
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "id: recycle" in html
    assert f"recycle.yaml, line {line}" in html
    assert "unknown template &#39;recycle-whats-nu&#39;" in html
    assert f'<span class="bad">{line}</span>' in html


def test_the_check_gives_the_cli_messages_of_a_broken_campaign_at_their_lines(
    app, marketer, settings
):
    path = recycle(settings)
    original = path.read_text()
    broken = original.replace(*BROKEN_STEP).replace("cooldown: 30d", "cooldown: 30 days")
    path.write_text(broken)
    expected = cli_lines(app, path)
    path.write_text(original)
    assert len(expected) == 1  # a bad duration stops the parse before templates are checked

    response = check(marketer, "/authoring/check/campaign/recycle", {"text": broken})
    body = response.get_json()

    assert response.status_code == 200
    assert body["ok"] is False
    assert [p["text"] for p in body["problems"]] == expected
    line = int(expected[0].split(":")[1])
    assert body["problems"][0]["line"] == line
    assert body["problems"][0]["file"] == "recycle.yaml"
    assert path.read_text() == original  # checking writes nothing

    # A text that parses: the cross-file check names the missing template, like the CLI.
    broken = original.replace(*BROKEN_STEP)
    path.write_text(broken)
    expected = cli_lines(app, path)
    path.write_text(original)
    body = check(marketer, "/authoring/check/campaign/recycle", {"text": broken}).get_json()
    assert [p["text"] for p in body["problems"]] == expected
    assert (
        "unknown template 'recycle-whats-nu' (did you mean 'recycle-whats-new'?)"
        in (body["problems"][0]["message"])
    )


def test_the_check_of_a_template_gives_the_library_messages_the_cli_reports(
    app, marketer, settings
):
    folder = settings.templates_path / "recycle-whats-new"
    parts = {k: v or "" for k, v in read_template(folder).items()}
    original = parts["body.mjml"]
    broken = original.replace("{{ lead.first_name", "{{ lead.frist_name", 1)
    assert broken != original
    (folder / "body.mjml").write_text(broken)
    cli = [line for line in cli_lines(app, recycle(settings)) if "does not render" in line]
    (folder / "body.mjml").write_text(original)

    body = check(
        marketer,
        "/authoring/check/template/recycle-whats-new",
        {"subject": parts["subject.txt"], "body": broken, "meta": parts["meta.yaml"]},
    ).get_json()

    assert body["ok"] is False
    problem = body["problems"][0]
    assert problem["file"] == "body.mjml"
    line = next(n for n, text in enumerate(broken.splitlines(), 1) if "frist_name" in text)
    assert problem["line"] == line
    # The CLI reports the same problem, word for word, at the campaign step that sends it.
    assert cli and cli[0].endswith(f"does not render: {problem['text']}")
    assert problem["text"].startswith(f"{folder / 'body.mjml'}:{line}: ")


def test_a_viewer_reads_the_editor_but_cannot_save_or_check_by_form(app, settings):
    viewer = signed_in_client(app, "viewer")
    html = viewer.get("/authoring/campaigns/recycle").get_data(as_text=True)
    assert "readonly" in html
    assert "Save and make live" not in html
    token = csrf_token(viewer, "/authoring")
    before = recycle(settings).read_text()
    response = viewer.post(
        "/authoring/campaigns/recycle",
        data={"text": "id: x", "action": "save", "csrf_token": token, "base": ""},
    )
    assert response.status_code == 403
    assert recycle(settings).read_text() == before
    assert viewer.get("/authoring/new").status_code == 403
    # Nor as you type: a read-only editor has nothing to check, and the check renders
    # whatever text it is sent.
    assert "data-check-url" not in html
    checked = viewer.post(
        "/authoring/check/campaign/recycle",
        data={"text": "id: x"},
        headers={"X-CSRFToken": token},
    )
    assert checked.status_code == 403


def test_roles_without_campaigns_never_reach_the_editor(app):
    sales = signed_in_client(app, "sales-manager")
    for path in ("/authoring", "/authoring/campaigns/recycle", "/authoring/files/scoring"):
        assert sales.get(path).status_code == 403


# ---------------------------------------------------------------- saving


def test_a_text_with_problems_is_refused_and_nothing_is_written(app, marketer, settings):
    path = recycle(settings)
    original = path.read_text()
    html = marketer.get("/authoring/campaigns/recycle").get_data(as_text=True)

    response = save(
        marketer,
        "/authoring/campaigns/recycle",
        {"text": original.replace(*BROKEN_STEP), "base": base_of(html)},
    )

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "recycle-whats-nu" in page  # the text stays in the editor
    assert "cannot be saved" in page
    assert path.read_text() == original
    with app.extensions["nurture"].sessions() as session:
        assert session.scalar(select(Campaign).where(Campaign.key == "recycle")) is None


def test_a_valid_text_is_written_and_becomes_the_live_version(app, marketer, settings):
    app.test_cli_runner().invoke(cli, ["campaigns", "sync"])
    path = recycle(settings)
    original = path.read_text()
    edited = original.replace("name: Recycled leads", "name: Recycled leads, gently")
    html = marketer.get("/authoring/campaigns/recycle").get_data(as_text=True)

    # The browser sends CRLF line ends; the file keeps LF and its final newline.
    response = save(
        marketer,
        "/authoring/campaigns/recycle",
        {"text": edited.replace("\n", "\r\n").rstrip(), "base": base_of(html)},
    )

    assert response.status_code == 302
    assert path.read_text() == edited
    page = marketer.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved recycle.yaml; version 2 is live." in page
    with app.extensions["nurture"].sessions() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.key == "recycle"))
        assert campaign is not None and campaign.name == "Recycled leads, gently"
        version = session.get(CampaignVersion, campaign.active_version_id)
        assert version is not None and version.number == 2 and version.source == edited
        actions = {
            row.action: row
            for row in session.scalars(select(AuditLog).where(AuditLog.action.like("%a%")))
        }
    assert actions["app.ui_authoring.campaign_save"].detail["key"] == "recycle"
    saved = actions["authoring.saved"]
    assert saved.detail["file"] == str(path.resolve()) or saved.detail["file"] == str(path)
    assert saved.detail["version"] == 2
    assert saved.actor.startswith("user:")


def test_a_file_changed_on_disk_since_it_was_opened_is_not_overwritten(marketer, settings):
    path = recycle(settings)
    html = marketer.get("/authoring/campaigns/recycle").get_data(as_text=True)
    theirs = path.read_text().replace("name: Recycled leads", "name: Changed by git pull")
    path.write_text(theirs)
    mine = theirs.replace("name: Changed by git pull", "name: Mine")

    response = save(marketer, "/authoring/campaigns/recycle", {"text": mine, "base": base_of(html)})

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "The file changed since you opened it" in page
    assert "-name: Changed by git pull" in page
    assert "+name: Mine" in page
    assert path.read_text() == theirs
    # The page now carries the disk's fingerprint: saving again is a deliberate overwrite.
    assert base_of(page) == fingerprint({"recycle.yaml": theirs})
    again = save(marketer, "/authoring/campaigns/recycle", {"text": mine, "base": base_of(page)})
    assert again.status_code == 302
    assert path.read_text() == mine


def test_a_template_is_saved_part_by_part(app, marketer, settings):
    folder = settings.templates_path / "hot-demo-invite"
    parts = read_template(folder)
    assert parts["body.txt"] is not None
    html = marketer.get("/authoring/templates/hot-demo-invite").get_data(as_text=True)
    subject = "Time for a demo, {{ lead.first_name or 'friend' }}?"

    response = save(
        marketer,
        "/authoring/templates/hot-demo-invite",
        {
            "subject": subject,
            "body": parts["body.mjml"] or "",
            "text_part": "",  # emptied: the text part is derived from the HTML again
            "meta": parts["meta.yaml"] or "",
            "base": base_of(html),
        },
    )

    assert response.status_code == 302, response.get_data(as_text=True)
    assert (folder / "subject.txt").read_text() == subject + "\n"
    assert not (folder / "body.txt").exists()
    assert (folder / "body.mjml").read_text() == parts["body.mjml"]


def test_a_broken_template_is_refused(marketer, settings):
    folder = settings.templates_path / "welcome-guide"
    parts = read_template(folder)
    html = marketer.get("/authoring/templates/welcome-guide").get_data(as_text=True)
    response = save(
        marketer,
        "/authoring/templates/welcome-guide",
        {
            "subject": parts["subject.txt"] or "",
            "body": (parts["body.mjml"] or "").replace("{% endblock %}", ""),
            "meta": parts["meta.yaml"] or "",
            "base": base_of(html),
        },
    )
    assert response.status_code == 422
    assert "Jinja syntax error" in response.get_data(as_text=True)
    assert read_template(folder) == parts


def test_the_scoring_file_is_checked_saved_and_versioned(app, marketer, settings):
    path = settings.scoring_file
    original = path.read_text()
    html = marketer.get("/authoring/files/scoring").get_data(as_text=True)
    assert "Scoring model" in html

    refused = save(
        marketer,
        "/authoring/files/scoring",
        {"text": original.replace("half_life:", "half_lief:", 1), "base": base_of(html)},
    )
    assert refused.status_code == 422
    assert path.read_text() == original

    edited = original + "# tuned after the spring campaign\n"
    response = save(marketer, "/authoring/files/scoring", {"text": edited, "base": base_of(html)})
    assert response.status_code == 302
    assert path.read_text() == edited
    with app.extensions["nurture"].sessions() as session:
        active = session.scalar(select(ScoringVersion).where(ScoringVersion.is_active.is_(True)))
        assert active is not None and active.source == edited


def test_a_new_campaign_starts_from_a_copy_and_is_created_on_save(app, marketer, settings):
    token = csrf_token(marketer, "/authoring/new")
    response = marketer.post(
        "/authoring/new",
        data={
            "kind": "campaign",
            "name": "spring-recycle",
            "starter": "campaign:recycle",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    html = marketer.get(response.headers["Location"]).get_data(as_text=True)
    assert "id: spring-recycle" in html
    assert "new: saving creates it" in html
    text = html.split("<textarea", 1)[1].split(">", 1)[1].split("</textarea>")[0]
    text = unescape(text.lstrip("\n"))
    response = save(
        marketer, "/authoring/campaigns/spring-recycle", {"text": text, "base": base_of(html)}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert (settings.campaigns_path / "spring-recycle.yaml").exists()


def test_new_file_names_are_checked(marketer, settings):
    token = csrf_token(marketer, "/authoring/new")
    for name, message in (
        ("../../etc/passwd", "Use lower-case letters"),
        ("recycle", "That name is taken"),
        ("Big Name", "Use lower-case letters"),
    ):
        response = marketer.post(
            "/authoring/new",
            data={"kind": "campaign", "name": name, "starter": "skeleton", "csrf_token": token},
        )
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert sorted(p.name for p in settings.campaigns_path.iterdir()) == [
        "b2b-nurture.yaml",
        "recycle.yaml",
    ]


# ---------------------------------------------------------------- hostile input


@pytest.mark.parametrize(
    "path",
    [
        "/authoring/campaigns/..%2F..%2Fetc%2Fpasswd",
        "/authoring/campaigns/%2Fetc%2Fpasswd",
        "/authoring/campaigns/recycle%00",
        "/authoring/campaigns/99999999999999999999",
        "/authoring/templates/..",
        "/authoring/templates/_layouts",
        "/authoring/templates/%00",
        "/authoring/templates/" + "a" * 300,
        "/authoring/files/passwd",
        "/authoring/files/..%2Fscoring",
        "/authoring/preview/" + "x" * 500,
        "/authoring/preview/nope/email.html",
    ],
)
def test_bad_names_are_not_found(marketer, path: str):
    assert marketer.get(path).status_code == 404


def test_bad_names_are_refused_by_the_check_and_the_save(marketer, settings):
    for url in (
        "/authoring/check/campaign/..%2Fx",
        "/authoring/check/template/_partials",
        "/authoring/check/scoring/icp",
        "/authoring/check/passwd/passwd",
    ):
        assert check(marketer, url, {"text": "x"}).status_code == 404
    token = csrf_token(marketer, "/authoring")
    response = marketer.post(
        "/authoring/templates/%00", data={"action": "save", "csrf_token": token}
    )
    assert response.status_code == 404


def test_hostile_text_is_shown_as_text_and_huge_text_refused(marketer):
    script = "id: <script>alert(1)</script>\n" + "x" * 5000
    response = check(marketer, "/authoring/check/campaign/recycle", {"text": script})
    assert response.status_code == 200
    assert response.get_json()["ok"] is False
    token = csrf_token(marketer, "/authoring")
    page = marketer.post(
        "/authoring/campaigns/recycle",
        data={"text": script, "action": "check", "csrf_token": token},
    ).get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)" in page
    huge = check(marketer, "/authoring/check/campaign/recycle", {"text": "#" * 600_000})
    assert huge.status_code == 413


def test_the_check_writes_no_audit_row_and_needs_the_csrf_token(app, marketer):
    response = marketer.post("/authoring/check/campaign/recycle", data={"text": "id: x"})
    assert response.status_code == 400
    check(marketer, "/authoring/check/campaign/recycle", {"text": "id: x"})
    with app.extensions["nurture"].sessions() as session:
        rows = session.scalars(select(AuditLog.action)).all()
    assert not [row for row in rows if "check" in row]
    assert json.loads(json.dumps(rows)) == rows


@pytest.mark.parametrize(
    "url", ["/authoring/campaigns/recycle", "/authoring/files/scoring", "/authoring/files/icp"]
)
def test_a_character_yaml_refuses_is_a_problem_on_its_line_not_a_server_error(
    marketer, settings, url
):
    text = "id: recycle\nname: a\x00b\n"
    kind, name = url.split("/")[-2:]
    kind = {"campaigns": "campaign", "files": name}[kind]

    body = check(marketer, f"/authoring/check/{kind}/{name}", {"text": text}).get_json()
    assert body["ok"] is False
    assert [(p["line"], "#x0000" in p["message"]) for p in body["problems"]] == [(2, True)]
    html = marketer.get(url).get_data(as_text=True)
    response = save(marketer, url, {"text": text, "base": base_of(html)})
    assert response.status_code == 422
    assert "#x0000" in response.get_data(as_text=True)
