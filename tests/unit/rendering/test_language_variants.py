"""Language variants of a template: ``subject.pl.txt``, ``body.pl.mjml``, ``body.pl.txt`` and
``_layouts``/``_partials`` variants, each falling back to the default file, chosen by the
recipient's locale, compiled and validated on their own, and saying their language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nurture.platform.config import PROJECT_ROOT
from nurture.rendering.library import TemplateLibrary, sample_context
from tests.unit.rendering.test_rendering import LAYOUT, child, section, write_template

BUNDLED = PROJECT_ROOT / "templates"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "_layouts").mkdir()
    # The shared test layout, with everything a campaign email's footer needs.
    layout = LAYOUT.replace("<mjml>", '<mjml lang="en">').replace(
        "</a> {{", '</a> <a href="{{ preferences_url }}">Preferences</a> {{'
    )
    (tmp_path / "_layouts" / "base.mjml").write_text(layout)
    return tmp_path


@pytest.fixture
def library(root: Path) -> TemplateLibrary:
    return TemplateLibrary(root, check_interval=0)


def html_lang(html: str) -> str:
    found = re.search(r'<html lang="([^"]+)"', html)
    assert found
    return found.group(1)


def test_a_polish_recipient_gets_the_polish_variant_and_others_the_default(library, root):
    write_template(
        root,
        "news",
        child(section("Hello {{ lead.first_name }}")),
        subject="News",
        **{
            "subject_pl_txt": "Nowości",
            "body_pl_mjml": child(section("Cześć {{ lead.first_name }}")),
        },
    )
    context = sample_context()

    polish = library.render("news", context, "pl-PL")
    english = library.render("news", context, "en-US")
    german = library.render("news", context, "de")
    unknown = library.render("news", context, None)

    assert polish.subject == "Nowości" and "Cześć Dana" in polish.html
    assert "Cześć Dana" in polish.text  # derived from the Polish body, not an English body.txt
    for email in (english, german, unknown):
        assert email.subject == "News" and "Hello Dana" in email.html
    assert html_lang(polish.html) == "pl" and html_lang(english.html) == "en"
    assert polish.version != english.version


def test_a_variant_falls_back_file_by_file_to_the_default(library, root):
    # Only a Polish subject: the body is the default one, and so is its hand-written text.
    write_template(
        root,
        "offer",
        child(section("The offer")),
        subject="Offer",
        **{"subject_pl_txt": "Oferta", "body_txt": "The offer, in plain text"},
    )

    email = library.render("offer", sample_context(), "pl")

    assert email.subject == "Oferta"
    assert "The offer" in email.html and email.text.startswith("The offer, in plain text")


def test_layouts_and_partials_have_language_variants_too(library, root):
    (root / "_layouts" / "base.pl.mjml").write_text(
        LAYOUT.replace("HEADER", "NAGŁÓWEK").replace("Unsubscribe", "Wypisz się")
    )
    (root / "_partials").mkdir()
    (root / "_partials" / "sign.mjml").write_text(section("Regards"))
    (root / "_partials" / "sign.pl.mjml").write_text(section("Pozdrawiamy"))
    body = child('{% include "_partials/sign.mjml" %}')
    write_template(root, "bye", body, **{"body_pl_mjml": body})

    polish = library.render("bye", sample_context(), "pl")
    english = library.render("bye", sample_context(), "en")

    assert "NAGŁÓWEK" in polish.html and "Pozdrawiamy" in polish.html
    assert "Wypisz się" in polish.html and "Unsubscribe" not in polish.html
    assert "HEADER" in english.html and "Regards" in english.html


def test_a_new_variant_file_is_picked_up_without_a_restart(library, root):
    folder = write_template(root, "later", child(section("Hello")))
    assert "Hello" in library.render("later", sample_context(), "pl").html

    (folder / "body.pl.mjml").write_text(child(section("Dzień dobry")))

    assert "Dzień dobry" in library.render("later", sample_context(), "pl").html


def test_validation_checks_every_variant_and_names_its_file(library, root):
    folder = write_template(
        root,
        "broken",
        child(section("Hello {{ lead.first_name }}")),
        **{"body_pl_mjml": child(section("Cześć {{ lead.frist_name }}"))},
    )

    problems = library.validate("broken")

    assert [p.path for p in problems] == [folder / "body.pl.mjml"]
    assert "frist_name" in problems[0].message


def test_a_variant_without_the_legal_footer_is_not_fit_to_send(library, root):
    (root / "_layouts" / "bare.mjml").write_text(
        "<mjml><mj-body>{% block content %}{% endblock %}</mj-body></mjml>"
    )
    folder = write_template(
        root,
        "campaign",
        child(section("Hi")),
        **{"body_pl_mjml": child(section("Cześć")).replace("base.mjml", "bare.mjml")},
    )

    problems = library.campaign_problems(
        "campaign", company_name="Brightpath", postal_address="100 Example Street"
    )

    assert problems and {p.path for p in problems} == {folder / "body.pl.mjml"}
    assert any("unsubscribe" in p.message for p in problems)


@pytest.mark.parametrize(
    "name",
    [
        "handoff-auto-reply",
        "confirm-subscription",
        "sales-handoff",
        "sla-reminder",
        "sla-escalation",
        "hand-raise-review",
    ],
)
def test_the_system_emails_ship_a_polish_variant(name):
    library = TemplateLibrary(BUNDLED)
    assert "pl" in library.languages(name)
    assert library.get(name, "pl").language == "pl"
    assert html_lang(library.get(name, "pl").html_source) == "pl"
