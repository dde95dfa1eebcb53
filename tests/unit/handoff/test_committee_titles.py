"""Committee roles from job titles in Polish, German and English (the bundled titles file),
and the file's own checks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nurture.files.problems import ProblemsError
from nurture.handoff.committee import (
    bundled_rules,
    missing_roles,
    parse_title_rules,
    role_for_title,
)


@pytest.mark.parametrize(
    ("title", "role"),
    [
        # Polish: the CFO and the board decide; "ds." and accents do not matter.
        ("Dyrektor finansowy", "decision maker"),
        ("DYREKTOR FINANSOWY", "decision maker"),
        ("dyrektor finansowy", "decision maker"),
        ("Prezes Zarządu", "decision maker"),
        ("Prezes Zarzadu", "decision maker"),
        ("Członek Zarządu ds. Sprzedaży", "decision maker"),
        ("Dyrektor ds. IT", "decision maker"),
        ("Kierownik działu sprzedaży", "decision maker"),
        ("Główna księgowa", "finance"),
        ("Specjalista ds. zakupów", "finance"),
        ("Kierownik projektu", "champion"),
        ("Programista Python", "technical evaluator"),
        ("Specjalistka ds. marketingu", "user"),
        # German: compounds and their word families.
        ("Geschäftsführer", "decision maker"),
        ("Geschaeftsfuehrer", "decision maker"),
        ("Finanzvorstand", "decision maker"),
        ("Vertriebsleiter", "decision maker"),
        ("Leiter Einkauf", "finance"),
        ("Einkaufsleiterin", "finance"),
        ("Teamleiter Vertrieb", "champion"),
        ("Softwareentwickler", "technical evaluator"),
        ("Sachbearbeiterin", "user"),
        # English, as before.
        ("CFO", "decision maker"),
        ("Chief Financial Officer", "decision maker"),
        ("Head of Finance", "finance"),
        ("VP Finance", "finance"),
        ("VP of Revenue Operations", "decision maker"),
    ],
)
def test_titles_in_polish_german_and_english(title: str, role: str) -> None:
    assert role_for_title(title) == role


def test_a_polish_cfo_counts_as_the_engaged_decision_maker() -> None:
    roles = [role_for_title("Dyrektor finansowy"), role_for_title("Kierownik projektu")]
    assert "decision maker" not in missing_roles(roles)


def test_the_bundled_file_has_every_language_and_role() -> None:
    rules = bundled_rules()
    assert {rule.role for rule in rules} == {
        "decision maker",
        "champion",
        "technical evaluator",
        "finance",
        "user",
    }
    assert all(len(rule.phrases) >= 3 for rule in rules)


def test_a_broken_titles_file_names_the_line() -> None:
    text = """\
rules:
  - role: decision maker
    titles:
      en: [ceo]
  - role: boss
    titles:
      pl: [prezes]
  - role: user
    titles:
      de: []
"""
    with pytest.raises(ProblemsError) as raised:
        parse_title_rules(text, "titles.yaml")
    assert [str(p) for p in raised.value.problems] == [
        "titles.yaml:5: role 'boss' is not one of: decision maker, champion, "
        "technical evaluator, finance, user",
        "titles.yaml:10: titles.de must be a list of titles",
    ]


def test_rules_of_ones_own_replace_the_bundled_ones() -> None:
    rules = parse_title_rules(
        "rules:\n  - role: finance\n    titles: {de: ['*kämmerer']}\n", "mine.yaml"
    )
    assert role_for_title("Stadtkämmerer", rules) == "finance"
    assert role_for_title("CEO", rules) == "unknown"


def test_the_documented_example_is_a_valid_titles_file() -> None:
    doc = (Path(__file__).resolve().parents[3] / "docs" / "qualification.md").read_text()
    section = doc.split("## Buying-committee roles from job titles", 1)[1]
    example = re.search(r"^```yaml\n(.*?)^```", section, re.S | re.M)
    assert example is not None
    rules = parse_title_rules(example.group(1), "docs/qualification.md")
    assert role_for_title("Członek Zarządu", rules) == "decision maker"
    assert role_for_title("Einkaufsleiter", rules) == "finance"
