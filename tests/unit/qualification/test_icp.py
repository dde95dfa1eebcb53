"""Fit grading: the ICP file (file:line problems), gates, criteria, grades, reasons, missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from nurture.qualification.comparison import Comparison
from nurture.qualification.icp import grade
from nurture.qualification.icp_parser import load_icp_file, load_icp_text

ROOT = Path(__file__).resolve().parents[3]

ICP = """\
name: Test ICP
grades: { A: 80, B: 60, C: 40 }
gates:
  - id: big-enough
    field: account.employees
    gte: 50
  - id: served
    field: account.country
    in: [DE, GB, NO]
    caps_at: C
  - id: has-email-domain
    field: account.domain
    exists: true
    if_missing: unknown
criteria:
  - id: industry
    field: account.industry
    bands:
      - { in: [software, SaaS], points: 30, label: core industry }
      - { in: [retail], points: 10 }
  - id: seniority
    field: title
    label: seniority
    bands:
      - { words: [vp, vice president, chief, cfo], points: 40, label: C-level or VP }
      - { words: [head, director], points: 25 }
      - { words: [student], points: -20, label: not a buyer }
  - id: budget
    field: attributes.budget
    bands:
      - { in: [approved, yes], points: 30, label: budget approved }
"""


def icp():
    load = load_icp_text(ICP, "icp.yaml")
    assert load.ok, load.problems
    return load.value


FIT = {
    "account.employees": 500,
    "account.country": "de",
    "account.domain": "acme.example",
    "account.industry": "Software",
    "title": "VP Revenue",
    "attributes.budget": "Approved",
}


def test_the_bundled_icp_file_is_valid():
    load = load_icp_file(ROOT / "campaigns" / "icp.yaml")
    assert load.ok, load.problems


def test_a_perfect_fit_scores_100_with_a_reason_for_every_point():
    fit = grade(icp(), FIT)
    assert (fit.score, fit.grade) == (100, "A")
    assert [r.points for r in fit.criteria] == [30, 40, 30]
    assert sum(r.points for r in fit.criteria) == fit.score
    assert fit.reasons()[3:] == [
        "+30 industry: account.industry is 'Software' (core industry; of 30)",
        "+40 seniority: title is 'VP Revenue' (C-level or VP; of 40)",
        "+30 budget: attributes.budget is 'Approved' (budget approved; of 30)",
    ]
    assert all(g.passed for g in fit.gates)
    assert fit.missing == ()


def test_the_first_matching_band_counts_and_thresholds_give_the_grade():
    fit = grade(icp(), {**FIT, "title": "Head of Sales", "attributes.budget": None})
    assert fit.score == 55 and fit.grade == "C"
    fit = grade(icp(), {**FIT, "title": "Director", "account.industry": "retail"})
    assert (fit.score, fit.grade) == (65, "B")


def test_title_words_match_whole_words_only():
    assert Comparison("words", ("vp",)).test("SVP, VP Sales") is True
    assert Comparison("words", ("vp",)).test("MVP builder") is False
    assert Comparison("words", ("vice president",)).test("Vice-President Finance") is True


def test_a_failed_gate_caps_the_grade_and_says_which():
    fit = grade(icp(), {**FIT, "account.employees": 12})
    assert fit.score == 100 and fit.grade_by_score == "A" and fit.grade == "D"
    assert [g.gate for g in fit.failed_gates] == ["big-enough"]
    assert fit.summary == "D (100), capped by gate 'big-enough'"
    assert (
        "gate 'big-enough' FAILED: account.employees is 12, needs ≥ 50 → grade capped at D"
        in fit.reasons()
    )


def test_a_gate_may_cap_at_a_softer_grade():
    fit = grade(icp(), {**FIT, "account.country": "FR"})
    assert fit.grade == "C"


def test_numbers_given_as_text_compare_as_numbers():
    fit = grade(icp(), {**FIT, "account.employees": "1,200"})
    assert fit.gates[0].passed is True
    fit = grade(icp(), {**FIT, "account.employees": "lots"})
    assert fit.gates[0].passed is None


def test_a_lead_without_fit_data_is_graded_d_with_everything_missing():
    fit = grade(icp(), {})
    assert (fit.score, fit.grade, fit.has_data) == (0, "D", False)
    assert fit.summary == "D (0), capped by gate 'has-email-domain', no fit data yet"
    # Unknown, not failed; only the gate that tests presence itself fails.
    assert [g.passed for g in fit.gates] == [None, None, False]
    assert [m.text for m in fit.missing] == [
        "account.employees (for gate big-enough)",
        "account.country (for gate served)",
        "account.domain (for gate has-email-domain)",
        "account.industry (for industry, up to 30 points)",
        "title (for seniority, up to 40 points)",
        "attributes.budget (for budget, up to 30 points)",
    ]
    assert fit.missing_json()[0]["used_by"] == ["gate big-enough"]


def test_if_missing_fail_makes_a_missing_value_fail_the_gate():
    text = ICP.replace("    gte: 50\n", "    gte: 50\n    if_missing: fail\n")
    load = load_icp_text(text)
    assert load.ok, load.problems
    fit = grade(load.value, {**FIT, "account.employees": None})
    assert fit.grade == "D" and fit.failed_gates[0].gate == "big-enough"


def test_negative_points_are_reasons_too_and_the_score_stays_within_0_100():
    fit = grade(icp(), {"title": "Student"})
    assert fit.score == 0
    assert fit.criteria[1].text == "-20 seniority: title is 'Student' (not a buyer; of 40)"


def test_a_value_no_band_rewards_says_so():
    fit = grade(icp(), {**FIT, "account.industry": "mining"})
    assert fit.criteria[0].text == (
        "+0 industry: account.industry is 'mining', which no band of the profile rewards (up to 30)"
    )
    assert fit.missing == ()


def test_reasons_are_stored_as_json():
    fit = grade(icp(), FIT)
    first = fit.reasons_json()[0]
    assert first["kind"] == "gate" and first["passed"] is True and first["value"] == 500
    last = fit.reasons_json()[-1]
    assert last["kind"] == "criterion" and last["points"] == 30 and last["max_points"] == 30


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("    gte: 50\n", "    gte: 50\n    lte: 10\n"),
            "icp.yaml:4: gate big-enough needs exactly one comparison (found gte, lte)",
        ),
        (
            ("field: account.employees", "field: account.employes"),
            "icp.yaml:5: unknown account field 'employes' (did you mean 'employees'?)",
        ),
        (
            ("grades: { A: 80, B: 60, C: 40 }", "grades: { A: 50, B: 60, C: 40 }"),
            "icp.yaml:2: grades must go down from A to C (A 50, B 60, C 40)",
        ),
        (
            ("points: 30, label: budget approved", "points: 20, label: budget approved"),
            "icp.yaml:15: the best bands of the criteria add up to 90, not 100 "
            "(industry 30, seniority 40, budget 20)",
        ),
        (
            ("points: 40, label", "pts: 40, label"),
            "icp.yaml:25: unknown field 'pts' (did you mean 'points'?)",
        ),
        (
            ("    caps_at: C\n", "    caps_at: E\n"),
            "icp.yaml:10: caps_at must be a grade A, B, C or D, not 'E'",
        ),
        (
            ("points: 25 }", "points: 2.5 }"),
            "icp.yaml:26: points must be a whole number, not a number 2.5",
        ),
    ],
)
def test_problems_name_their_line(change, expected):
    load = load_icp_text(ICP.replace(*change), "icp.yaml")
    assert not load.ok
    assert any(str(p).startswith(expected) for p in load.problems), load.problems


def test_an_empty_or_broken_file_is_a_problem_not_a_crash():
    assert [str(p) for p in load_icp_text("", "x.yaml").problems] == ["x.yaml:1: the file is empty"]
    broken = load_icp_text("name: [", "x.yaml")
    assert broken.problems[0].message.startswith("YAML syntax error")
