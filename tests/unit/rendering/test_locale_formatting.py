"""The email filters ``number``, ``currency``, ``date`` and ``datetime``: each recipient reads
figures in their own conventions, and a mistake in a template is a validation problem at its
file and line, never a failed send."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from nurture.platform.config import PROJECT_ROOT
from nurture.rendering.library import TemplateLibrary, sample_context
from nurture.rendering.problems import TemplateError
from tests.unit.rendering.test_rendering import LAYOUT, child, section, write_template

NBSP = "\xa0"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "_layouts").mkdir()
    (tmp_path / "_layouts" / "base.mjml").write_text(LAYOUT)
    return tmp_path


@pytest.fixture
def library(root: Path) -> TemplateLibrary:
    return TemplateLibrary(root, check_interval=0)


def figures(library: TemplateLibrary, root: Path, line: str, **lead: object) -> str:
    """The text part of a one-line template rendered for the sample lead (changed by
    ``lead``)."""
    write_template(root, "figures", child(section("[" + line + "]")))
    context = sample_context()
    context["lead"] = replace(context["lead"], **lead)
    text = library.render("figures", context).text
    return text[text.index("[") + 1 : text.index("]")]


def test_a_polish_lead_reads_polish_amounts_and_an_american_lead_american_ones(library, root):
    line = '{{ 1234.5 | currency("PLN") }} / {{ 1234.5 | number(2) }} / {{ 1250 | number }}'

    polish = figures(library, root, line, locale="pl-PL")
    american = figures(library, root, line, locale="en-US")

    assert polish == f"1{NBSP}234,50{NBSP}zł / 1{NBSP}234,50 / 1{NBSP}250"
    assert american == "PLN1,234.50 / 1,234.50 / 1,250"


def test_dates_follow_the_lead_language_and_moments_their_timezone(library, root):
    line = '{{ "2026-12-01" | date("long") }} / {{ "2026-12-01T23:30:00Z" | datetime("short") }}'

    polish = figures(library, root, line, locale="pl", timezone="Europe/Warsaw")
    american = figures(library, root, line, locale="en-US", timezone="America/Chicago")

    # 23:30 UTC is already the next day in Warsaw, and still 17:30 in Chicago.
    assert polish == "1 grudnia 2026 / 2.12.2026, 00:30"
    assert american.startswith("December 1, 2026 / 12/1/26, 5:30")


def test_a_lead_without_a_locale_reads_the_language_of_the_variant_sent(library, root):
    write_template(
        root,
        "offer",
        child(section("Price {{ 99.9 | currency('EUR') }}")),
        body_pl_mjml=child(section("Cena {{ 99.9 | currency('EUR') }}")),
    )
    context = sample_context()
    context["lead"] = replace(context["lead"], locale=None)

    polish = library.render("offer", context, "pl")
    default = library.render("offer", context, None)

    assert f"Cena 99,90{NBSP}€" in polish.text
    assert "Price €99.90" in default.text


def test_an_empty_value_prints_nothing_and_text_numbers_are_numbers(library, root):
    line = '{{ none | number }}|{{ "" | date }}|{{ "1234.5" | currency("USD") }}'

    assert figures(library, root, line, locale="en-US") == "||$1,234.50"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ('1234 | currency("XYZ")', "unknown currency 'XYZ'"),
        ("1234 | currency", "unknown currency None"),
        ("lead.first_name | number", "'Dana' is not a number"),
        ('lead.email | date("medium")', "is not a date"),
        ('"2026-12-01" | date("huge")', "unknown style 'huge'"),
        ("1.5 | number(99)", "digits must be a whole number"),
        ('1.5 | currency("EUR", -1)', "digits must be a whole number"),
        ("(10 ** 40) | number(2)", "is too large"),
    ],
)
def test_a_mistake_with_a_filter_is_a_validation_problem_at_its_line(
    library, root, expression, message
):
    write_template(root, "bad", child(section("Hi") + section("{{ " + expression + " }}")))

    problems = library.validate("bad")

    assert problems, "the template should not validate"
    problem = problems[0]
    assert problem.path == root / "bad" / "body.mjml"
    assert problem.line == 4
    assert message in problem.message
    with pytest.raises(TemplateError):
        library.render("bad", sample_context())


def test_the_guides_example_renders_each_leads_own_conventions(tmp_path):
    guide = (PROJECT_ROOT / "docs" / "templates.md").read_text()
    section = guide.split("## Numbers, amounts and dates", 1)[1]
    example = re.search(r"```jinja\n(.*?)```", section, re.DOTALL)
    assert example is not None, "docs/templates.md lost its formatting example"
    for shared in ("_layouts", "_partials"):
        shutil.copytree(PROJECT_ROOT / "templates" / shared, tmp_path / shared)
    write_template(tmp_path, "renewal", example.group(1))
    library = TemplateLibrary(tmp_path, check_interval=0)
    assert library.validate("renewal") == []
    context = sample_context()

    def rendered(locale: str) -> str:
        context["lead"] = replace(context["lead"], locale=locale)
        return " ".join(library.render("renewal", context).text.split())

    polish, american = rendered("pl-PL"), rendered("en-US")
    assert "1 234,50 zł a year, renewing on 1 grudnia 2026" in polish.replace(NBSP, " ")
    assert "PLN1,234.50 a year, renewing on December 1, 2026" in american
    assert "420 people at Northwind Logistics" in american


def test_the_polish_price_list_prints_prices_in_polish(tmp_path):
    library = TemplateLibrary(PROJECT_ROOT / "templates", check_interval=0)
    context = sample_context()
    context["lead"] = replace(context["lead"], locale="pl-PL")

    text = library.render("hot-pricing-guide", context, "pl-PL").text

    assert f"od 3{NBSP}600{NBSP}zł miesięcznie" in text
    assert f"od 9{NBSP}600{NBSP}zł miesięcznie" in text
    assert "wycena indywidualna" in text
