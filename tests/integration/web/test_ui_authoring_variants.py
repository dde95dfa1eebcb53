"""A template's language variants in the web editor: listed, opened, created from the
default files, checked and saved like them, deleted, and previewed in their language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

import nurture.cli.campaigns_cmd  # noqa: F401  (registers the commands)
from nurture.authoring.files import read_template
from nurture.cli import cli
from nurture.models import Account, AuditLog, Lead
from nurture.platform.config import Settings
from tests.integration.web.authoring_support import editable_settings
from tests.integration.web.ui_support import csrf_token, signed_in_client

POLISH = "/authoring/templates/welcome-guide/languages/pl"
BOGUS = "<mj-column>\n    <mj-bogus>x</mj-bogus>"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return editable_settings(settings, tmp_path / "files")


@pytest.fixture
def marketer(app):  # type: ignore[no-untyped-def]
    return signed_in_client(app, "marketer")


def folder(settings: Settings, name: str = "welcome-guide") -> Path:
    return settings.templates_path / name


def base_of(html: str) -> str:
    match = re.search(r'name="base" value="([0-9a-f]*)"', html)
    assert match
    return match.group(1)


def polish_form(settings: Settings, **changes: str) -> dict[str, str]:
    parts = read_template(folder(settings), "pl")
    return {
        "subject": parts["subject.pl.txt"] or "",
        "body": parts["body.pl.mjml"] or "",
        "text_part": parts["body.pl.txt"] or "",
        **changes,
    }


def save(client, url: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/authoring")
    return client.post(url, data={**data, "action": "save", "csrf_token": token})


def audit_details(app, action: str) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    with app.extensions["nurture"].sessions() as session:
        rows = session.scalars(select(AuditLog).where(AuditLog.action == action)).all()
        return [dict(row.detail or {}) for row in rows]


def test_the_editor_lists_the_languages_and_opens_the_polish_variant(app, marketer, settings):
    index = marketer.get("/authoring").get_data(as_text=True)
    row = index[index.index('href="/authoring/templates/welcome-guide"') :]
    assert "Polish (pl)" in row[: row.index("</tr>")]

    default = marketer.get("/authoring/templates/welcome-guide").get_data(as_text=True)
    assert f'href="{POLISH}"' in default
    assert 'href="/authoring/templates/welcome-guide/add-language"' in default

    response = marketer.get(POLISH)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Template welcome-guide, Polish (pl)" in html
    for file in ("subject.pl.txt", "body.pl.mjml", "body.pl.txt"):
        assert f">{file}" in html
    assert "Dzień dobry" in html
    assert "No problems: this text can be saved" in html
    assert 'name="language" value="pl"' in html  # the preview renders this variant
    # A region or an underscore reads the same variant; a code that is no language: 404.
    assert marketer.get(POLISH + "_PL").status_code == 404  # no pl_PL variant yet
    assert marketer.get(POLISH.replace("/pl", "/PL")).headers["Location"].endswith(POLISH)
    assert marketer.get(POLISH.replace("/pl", "/xx")).status_code == 404
    assert marketer.get("/authoring/templates/welcome-guide/languages/de").status_code == 404


def test_a_campaign_page_names_the_languages_of_the_templates_it_sends(app, marketer):
    app.test_cli_runner().invoke(cli, ["campaigns", "sync"])
    html = marketer.get("/campaigns/b2b-nurture").get_data(as_text=True)
    assert "also in Polish (pl)" in html


def test_a_new_variant_starts_from_the_default_files_and_is_created_on_save(
    app, marketer, settings
):
    default_files = read_template(folder(settings))
    token = csrf_token(marketer, "/authoring/templates/welcome-guide/add-language")
    response = marketer.post(
        "/authoring/templates/welcome-guide/add-language",
        data={"language": "de-DE", "csrf_token": token},
    )
    location = response.headers["Location"]
    assert location == "/authoring/templates/welcome-guide/languages/de_DE?new=1"

    html = marketer.get(location).get_data(as_text=True)
    assert "Welcome to Brightpath" in html  # a copy of the default subject, to translate
    assert "new: saving creates it" in html
    subject = "Willkommen bei Brightpath{% if lead.first_name %}, {{ lead.first_name }}{% endif %}"
    saved = save(
        marketer,
        "/authoring/templates/welcome-guide/languages/de_DE",
        {
            "subject": subject,
            "body": default_files["body.mjml"] or "",
            "text_part": "",
            "base": base_of(html),
        },
    )

    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert (folder(settings) / "subject.de_DE.txt").read_text() == subject + "\n"
    assert (folder(settings) / "body.de_DE.mjml").read_text() == default_files["body.mjml"]
    assert not (folder(settings) / "body.de_DE.txt").exists()
    assert read_template(folder(settings)) == default_files
    (detail,) = audit_details(app, "authoring.saved")
    assert detail["language"] == "de_DE" and detail["name"] == "welcome-guide"
    page = marketer.get(saved.headers["Location"]).get_data(as_text=True)
    assert "German (Germany) (de_DE)" in page
    # Once it exists, adding it again is refused next to the field.
    again = marketer.post(
        "/authoring/templates/welcome-guide/add-language",
        data={"language": "de_de", "csrf_token": token},
    )
    assert again.status_code == 422
    assert "already has a de_DE variant" in again.get_data(as_text=True)


def test_a_language_code_that_is_no_language_is_refused_next_to_the_field(marketer):
    url = "/authoring/templates/welcome-guide/add-language"
    token = csrf_token(marketer, url)
    for code in ("klingon", "../../etc", "x" * 40):
        response = marketer.post(url, data={"language": code, "csrf_token": token})
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert 'aria-invalid="true"' in html
    assert marketer.get("/authoring/templates/no-such/add-language").status_code == 404


def test_the_polish_variant_is_edited_and_saved(app, marketer, settings):
    html = marketer.get(POLISH).get_data(as_text=True)
    subject = "Witaj w Brightpath, {{ lead.first_name or 'przyjacielu' }}"

    response = save(
        marketer, POLISH, {**polish_form(settings, subject=subject), "base": base_of(html)}
    )

    assert response.status_code == 302, response.get_data(as_text=True)
    assert (folder(settings) / "subject.pl.txt").read_text() == subject + "\n"
    assert "Saved welcome-guide." in marketer.get(POLISH).get_data(as_text=True)


def test_invalid_mjml_in_a_variant_is_shown_on_its_file_and_line_and_nothing_is_written(
    marketer, settings
):
    before = read_template(folder(settings), "pl")
    html = marketer.get(POLISH).get_data(as_text=True)
    body = (before["body.pl.mjml"] or "").replace("<mj-column>", BOGUS, 1)
    line = body.splitlines().index("    <mj-bogus>x</mj-bogus>") + 1

    response = save(marketer, POLISH, {**polish_form(settings, body=body), "base": base_of(html)})

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"body.pl.mjml, line {line}" in page
    assert "unknown element &lt;mj-bogus&gt;" in page
    assert f'<span class="bad">{line}</span>' in page
    assert read_template(folder(settings), "pl") == before
    # The check as one types says the same, on the variant's file.
    checked = marketer.post(
        "/authoring/check/template/welcome-guide/languages/pl",
        data=polish_form(settings, body=body),
        headers={"X-CSRFToken": csrf_token(marketer, "/authoring")},
    ).get_json()
    assert [(p["file"], p["line"]) for p in checked["problems"]] == [("body.pl.mjml", line)]


def test_a_variant_is_deleted_and_its_readers_get_the_default_files(app, marketer, settings):
    html = marketer.get(POLISH).get_data(as_text=True)
    assert "Delete the Polish (pl) variant" in html
    token = csrf_token(marketer, POLISH)

    response = marketer.post(POLISH + "/delete", data={"csrf_token": token, "base": base_of(html)})

    assert response.status_code == 303
    assert response.headers["Location"] == "/authoring/templates/welcome-guide"
    assert read_template(folder(settings), "pl") == dict.fromkeys(
        ("subject.pl.txt", "body.pl.mjml", "body.pl.txt")
    )
    assert (folder(settings) / "body.mjml").is_file()
    assert "its readers get the default files" in marketer.get(
        response.headers["Location"]
    ).get_data(as_text=True)
    (detail,) = audit_details(app, "authoring.deleted")
    assert detail["language"] == "pl"
    assert marketer.get(POLISH).status_code == 404


def test_a_variant_changed_on_disk_since_it_was_opened_is_not_deleted(marketer, settings):
    html = marketer.get(POLISH).get_data(as_text=True)
    subject = folder(settings) / "subject.pl.txt"
    subject.write_text("Zmieniony temat\n")
    token = csrf_token(marketer, POLISH)

    response = marketer.post(POLISH + "/delete", data={"csrf_token": token, "base": base_of(html)})

    assert response.status_code == 303
    assert subject.read_text() == "Zmieniony temat\n"
    assert "nothing was deleted" in marketer.get(POLISH).get_data(as_text=True)


def test_changes_to_a_variant_need_the_csrf_token_and_the_edit_role(app, marketer, settings):
    before = read_template(folder(settings), "pl")
    html = marketer.get(POLISH).get_data(as_text=True)
    data = {**polish_form(settings, subject="Bez tokenu"), "base": base_of(html), "action": "save"}
    assert marketer.post(POLISH, data=data).status_code == 400
    assert marketer.post(POLISH + "/delete", data={"base": base_of(html)}).status_code == 400

    viewer = signed_in_client(app, "viewer")
    page = viewer.get(POLISH).get_data(as_text=True)
    assert "readonly" in page and "Delete the" not in page and "Add a language" not in page
    token = csrf_token(viewer, "/authoring")
    assert viewer.post(POLISH, data={**data, "csrf_token": token}).status_code == 403
    delete = {"csrf_token": token, "base": base_of(html)}
    assert viewer.post(POLISH + "/delete", data=delete).status_code == 403
    assert viewer.get("/authoring/templates/welcome-guide/add-language").status_code == 403
    sales = signed_in_client(app, "sales-manager")
    assert sales.get(POLISH).status_code == 403
    assert read_template(folder(settings), "pl") == before


def preview(client, **data: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/authoring/preview")
    return client.post("/authoring/preview", data={**data, "csrf_token": token})


def test_the_edited_variant_is_previewed_in_its_language(marketer, settings):
    form = polish_form(settings)
    form["body"] = form["body"].replace("Dzień dobry", "Serdecznie witamy", 1)

    response = preview(marketer, template="welcome-guide", source="edited", language="pl", **form)

    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    page = marketer.get(location).get_data(as_text=True)
    assert "Witamy w Brightpath, Dana" in page
    assert "<dd>Polish (pl)</dd>" in page
    html = marketer.get(location + "/email.html").get_data(as_text=True)
    assert '<html lang="pl"' in html and "Serdecznie witamy" in html


def test_the_preview_form_lets_one_choose_the_language(marketer):
    form = marketer.get("/authoring/preview").get_data(as_text=True)
    assert '<option value="pl">Polish (pl)</option>' in form

    polish = marketer.get(preview(marketer, template="welcome-guide", language="pl-PL").location)
    english = marketer.get(preview(marketer, template="welcome-guide", language="default").location)

    assert "Witamy w Brightpath, Dana" in polish.get_data(as_text=True)
    assert "Welcome to Brightpath, Dana" in english.get_data(as_text=True)
    bad = preview(marketer, template="welcome-guide", language="klingon")
    assert bad.status_code == 422 and "Choose a language." in bad.get_data(as_text=True)


@pytest.mark.parametrize("locale", ["pl-PL", "pl_PL", "pl"])
def test_a_lead_whose_locale_has_a_region_is_previewed_in_the_polish_variant(app, marketer, locale):
    with app.extensions["nurture"].sessions() as session:
        session.add(
            Lead(
                email="jan@firma.example",
                first_name="Jan",
                locale=locale,
                account=Account(name="Firma", domain="firma.example"),
            )
        )
        session.commit()

    response = preview(marketer, template="welcome-guide", lead="jan@firma.example")

    page = marketer.get(response.headers["Location"]).get_data(as_text=True)
    assert "Witamy w Brightpath, Jan" in page


def test_a_variant_may_keep_only_its_subject_but_not_nothing(marketer, settings):
    html = marketer.get(POLISH).get_data(as_text=True)
    empty = {"subject": "", "body": "", "text_part": "", "base": base_of(html)}

    refused = save(marketer, POLISH, empty)

    assert refused.status_code == 422
    assert "a variant needs its own subject or body" in refused.get_data(as_text=True)
    assert (folder(settings) / "body.pl.mjml").is_file()

    subject_only = save(marketer, POLISH, {**empty, "subject": "Witaj w Brightpath"})

    assert subject_only.status_code == 302, subject_only.get_data(as_text=True)
    assert (folder(settings) / "subject.pl.txt").read_text() == "Witaj w Brightpath\n"
    assert not (folder(settings) / "body.pl.mjml").exists()  # the default body is used
    page = marketer.get(POLISH).get_data(as_text=True)
    assert "Witaj w Brightpath" in page
    assert "Delete the Polish (pl) variant" in page and "new: saving creates it" not in page
