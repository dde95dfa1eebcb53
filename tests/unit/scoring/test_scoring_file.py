"""Scoring files: every problem reported with its file and line, never just the first."""

from __future__ import annotations

from nurture.scoring.parser import load_scoring_file, load_scoring_text, parse_scoring_data


def problems(text: str) -> list[str]:
    load = load_scoring_text(text, "scoring.yaml")
    assert not load.ok
    return [str(problem) for problem in load.problems]


def test_every_problem_is_reported_with_its_line():
    text = """\
name: Broken
half_life: 0d
bands: { warm: 30, hot: 20 }
rules:
  - id: page
    event: page.viewed
    points: 1
  - id: Pricing Page
    event: page.viewed
    when: { url: /pricing, colour: red }
    points: ten
    cap: { per_day: -1 }
  - id: echo
    event: temperature.changed
    point: 3
"""
    assert problems(text) == [
        "scoring.yaml:2: half_life must be longer than zero",
        "scoring.yaml:3: bands.hot (20) must be above bands.warm (30)",
        "scoring.yaml:8: rule id 'Pricing Page' may only use lower-case letters, digits and "
        "dashes (e.g. pricing-page)",
        "scoring.yaml:10: unknown field 'colour'",
        "scoring.yaml:11: points must be a number, not text 'ten'",
        "scoring.yaml:12: cap.per_day must be above zero",
        "scoring.yaml:13: missing field 'points' in rule echo",
        "scoring.yaml:14: temperature.changed is written by the scoring engine itself and "
        "cannot be scored (it would feed the score back into itself)",
        "scoring.yaml:15: unknown field 'point' (did you mean 'points'?)",
    ]


def test_a_rule_hidden_behind_a_catch_all_rule_is_an_error():
    text = """\
name: Order
half_life: 30d
bands: { warm: 25, hot: 60 }
rules:
  - id: any-page
    event: page.viewed
    points: 1
  - id: pricing
    event: page.viewed
    when: { url: /pricing* }
    points: 10
"""
    assert problems(text) == [
        "scoring.yaml:8: rule 'pricing' never applies: rule 'any-page' on line 5 has no "
        "conditions and scores every page.viewed event first (put specific rules before "
        "general ones)"
    ]


def test_missing_sections_duplicates_and_yaml_errors():
    assert problems("name: x\n") == [
        "scoring.yaml:1: missing field 'half_life' in the scoring file",
        "scoring.yaml:1: missing field 'bands' in the scoring file",
        "scoring.yaml:1: missing field 'rules' in the scoring file",
    ]
    text = """\
name: Dupes
half_life: 30d
half_life: 20d
bands: { warm: 25, hot: 60 }
rules:
  - { id: a, event: custom.x.y, points: 1 }
  - { id: a, event: custom.x.z, points: 2, hand_raiser: yes }
"""
    assert problems(text) == [
        "scoring.yaml:3: duplicate key 'half_life' (first on line 2): the later one wins",
        "scoring.yaml:7: hand_raiser must be true or false, not 'yes'",
    ]
    assert problems("name: [unclosed\n") == [
        "scoring.yaml:2: YAML syntax error: expected ',' or ']', but got '<stream end>'"
    ]


def test_a_cap_per_day_above_the_total_and_negative_hand_raisers_are_refused():
    text = """\
name: Caps
half_life: 30d
bands: { warm: 25, hot: 60 }
rules:
  - id: a
    event: demo.requested
    points: -5
    hand_raiser: true
    cap: { per_day: 20, total: 10 }
"""
    assert problems(text) == [
        "scoring.yaml:8: a hand-raiser rule must give positive points",
        "scoring.yaml:9: cap.per_day (20) is above cap.total (10)",
    ]


def test_a_missing_file_is_reported(tmp_path):
    load = load_scoring_file(tmp_path / "nope.yaml")
    assert not load.ok
    assert str(load.problems[0]).endswith(":0: cannot read file: No such file or directory")


def test_stored_specs_parse_back_to_the_same_model(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: Round trip\nhalf_life: 2w\nbands: {warm: 1, hot: 2}\n"
        "rules:\n  - {id: a, event: custom.x.y, points: 1.5, when: {properties: {plan: [a, b]}}}\n"
    )
    load = load_scoring_file(path)
    assert load.ok
    again = parse_scoring_data(load.data, str(path), checksum=load.checksum)
    assert again == load.model
