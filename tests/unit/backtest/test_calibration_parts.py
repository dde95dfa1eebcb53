"""The pure parts of calibration: reading a target, choosing the readiness line, the
calibration table, and writing points into a file's own text."""

from __future__ import annotations

import numpy as np
import pytest

from nurture.backtest.fitting import calibration_table
from nurture.backtest.proposal import ProposedRule, icp_points, scoring_points, write_readiness
from nurture.backtest.thresholds import Target, TargetError, choose_rule, parse_target
from nurture.qualification.icp_parser import load_icp_text
from nurture.qualification.readiness_parser import load_readiness_text
from nurture.scoring.parser import load_scoring_text


@pytest.mark.parametrize(("text", "target"), [
    ("precision=0.8", Target("precision", 0.8)),
    ("precision=80%", Target("precision", 0.8)),
    (" Top = 20% ", Target("top", 0.2)),
    ("top=0.05", Target("top", 0.05)),
    ("balanced", Target("balanced")),
])  # fmt: skip
def test_targets_read_as_shares(text, target):
    assert parse_target(text) == target


@pytest.mark.parametrize(("text", "message"), [
    ("recall=0.5", "use precision=0.8, top=20% or balanced"),
    ("precision=", "use precision=0.8"),
    ("top=lots", "'lots' is not a number"),
    ("precision=120%", "between 0 and 1"),
])  # fmt: skip
def test_a_bad_target_says_what_would_do(text, message):
    with pytest.raises(TargetError, match=message):
        parse_target(text)


# Twenty leads: scores 1..20, the top five and lead 10 converted; grades A for even scores.
SCORES = np.arange(1, 21, dtype=float)
CONVERTED = np.array([0] * 9 + [1] + [0] * 5 + [1] * 5)
GRADES = np.array([0 if s % 2 == 0 else 3 for s in range(1, 21)])


def test_a_precision_target_catches_the_most_converters_it_can_at_that_precision():
    choice = choose_rule(SCORES, GRADES, CONVERTED, Target("precision", 0.5))
    # score ≥ 10 hands over 11 leads, 6 converted (55 %): every converter.
    assert (choice.min_score, choice.min_grade) == (10, None)
    assert choice.chosen_on.caught == 6 and choice.met


def test_a_top_share_target_hands_over_no_more_than_the_share():
    choice = choose_rule(SCORES, GRADES, CONVERTED, Target("top", 0.25))
    assert choice.chosen_on.handed_over <= 5
    assert choice.chosen_on.caught == 5  # the top five


def test_a_grade_bar_is_chosen_when_it_pays():
    # Three leads per score: at grade A (even scores) above 10, every one converted.
    scores, grades = np.repeat(SCORES, 3), np.repeat(GRADES, 3)
    converted = ((scores % 2 == 0) & (scores > 10)).astype(int)
    choice = choose_rule(scores, grades, converted, Target("precision", 0.99))
    assert choice.min_grade == "A" and choice.min_score is not None and choice.min_score > 10
    assert choice.chosen_on.precision == 1.0


def test_an_unreachable_precision_is_said_and_the_most_precise_rule_given():
    choice = choose_rule(SCORES, GRADES, CONVERTED, Target("precision", 0.99))
    assert not choice.met
    assert choice.chosen_on.handed_over >= 10


def test_the_calibration_table_compares_predicted_and_observed_by_decile():
    chance = np.linspace(0, 1, 100)
    converted = (chance > 0.85).astype(int)
    rows = calibration_table(chance, converted)
    assert [row.leads for row in rows] == [10] * 10
    assert rows[0].observed == 0 and rows[-1].observed == 1.0
    assert rows[-1].predicted == pytest.approx(chance[90:].mean())
    assert sum(row.converters for row in rows) == converted.sum()


ICP = """name: t
grades: { A: 75, B: 50, C: 25 }
criteria:
  - id: a
    field: attributes.x
    bands: [{ eq: 1, points: 60 }, { eq: 2, points: 10 }]
  - id: b
    field: attributes.y
    bands: [{ eq: 1, points: 39 }]
  - id: c
    field: attributes.z
    bands:
      - { eq: 1, points: 1 }
"""


def test_icp_points_follow_the_weights_and_their_best_bands_add_up_to_100():
    icp = load_icp_text(ICP).value
    weights = {("a", 0): 1.0, ("a", 1): 2.0, ("b", 0): 1.0, ("c", 0): -0.5}
    support = dict.fromkeys(weights, 100)
    points, notes = icp_points(icp, weights, support)
    assert points[("a", 1)] > points[("a", 0)]
    assert points[("c", 0)] == 1  # no positive weight: kept at 1, and said
    assert any("criterion c" in note for note in notes)
    best = points[("a", 1)] + points[("b", 0)] + points[("c", 0)]
    assert best == 100
    assert points[("a", 1)] == pytest.approx(2 * points[("b", 0)], abs=1)


def test_a_flow_style_rule_list_is_replaced_by_the_calibrated_rule():
    text = "name: r\nrules: [{ id: a, min_grade: B }, { id: b, temperature: hot }]\n# end\n"
    proposal = ProposedRule(42, "C", "calibrated: precision ≥ 80%")
    written = write_readiness(text, proposal, ["made here"])
    loaded = load_readiness_text(written)
    assert loaded.ok, loaded.problems
    (rule,) = loaded.value.rules
    assert (rule.id, rule.min_score, rule.min_grade) == ("calibrated", 42, "C")
    assert rule.description == "calibrated: precision ≥ 80%"
    assert "precision ≥ 80%" in written  # readable, not escaped
    assert written.startswith("# made here\n") and written.endswith("# end\n")


SCORING = """name: t
half_life: 30d
bands: { warm: 20, hot: 40 }
rules:
  - { id: demo, event: demo.requested, points: 40, hand_raiser: true }
  - { id: careers, event: page.viewed, points: -10, cap: { per_day: 10, total: 30 } }
  - { id: opens, event: email.opened, points: 2 }
  - { id: rare, event: webinar.attended, points: 15 }
"""


def test_scoring_points_keep_the_scale_scale_caps_and_say_what_to_check():
    scoring = load_scoring_text(SCORING).value
    weights = {"demo": -0.5, "careers": 1.0, "opens": 0.001, "rare": 9.0}
    support = {"demo": 100, "careers": 100, "opens": 100, "rare": 2}
    points, caps, notes = scoring_points(scoring, weights, support)
    # The strongest learnt rule (careers) gets the file's strongest points (40).
    assert points == {"demo": 1, "careers": 40, "opens": 1, "rare": 15}
    assert caps["careers"] == (40.0, 120.0)  # still one event a day, three in all
    text = " | ".join(notes)
    assert "rule demo: the history gives it no positive weight" in text
    assert "rule careers: the history turns its sign (-10 → 40)" in text
    assert "rule opens: carries almost no weight" in text
    assert "rule rare: matched too few leads" in text
