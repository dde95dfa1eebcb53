"""Calibration on a synthetic history with a known generating rule: it recovers which facts
drive conversion, proposes files that parse, keeps the rest of their text, and chooses a
readiness rule that meets its target on leads it has not seen."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from nurture.backtest.calibrate import (
    Calibration,
    CalibrationError,
    Options,
    calibrate,
    proposed_facts,
)
from nurture.backtest.features import cut_off, describe
from nurture.backtest.replay import Model, facts_at
from nurture.backtest.thresholds import parse_target
from nurture.qualification.icp_parser import load_icp_text
from nurture.qualification.readiness_parser import load_readiness_text
from nurture.scoring.parser import load_scoring_text
from tests.unit.backtest.synthetic_history import synthetic_files, synthetic_history

MADE_AT = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)


def run(target: str = "balanced", **kwargs: object) -> Calibration:
    options = Options(target=parse_target(target), replay=False, **kwargs)  # type: ignore[arg-type]
    return calibrate(
        synthetic_files(), synthetic_history(), options, made_at=MADE_AT, source="synthetic"
    )


@pytest.fixture(scope="module")
def balanced() -> Calibration:
    return run()


def test_the_facts_that_drive_conversion_weigh_most_and_newsletter_opens_do_not(balanced):
    ranked = [item.id for item in balanced.importance]
    assert ranked.index("demo") < ranked.index("pricing") < ranked.index("newsletter")
    assert ranked.index("industry") < ranked.index("size")
    directions = {item.id: item.direction for item in balanced.importance}
    assert directions["demo"] == directions["pricing"] == directions["industry"] == "+"
    # Resampled fits agree on the direction of what really drives conversion.
    sure = {item.id: item.agreement for item in balanced.importance}
    assert sure["demo"] == sure["industry"] == 1.0 and sure["pricing"] >= 0.9
    points = balanced.proposed.points.rules
    # The strongest rule keeps the file's largest points; the others in proportion.
    assert points["demo"] == 10
    assert 2 <= points["pricing"] <= 6  # 0.7 / 2.4 of the demo's weight, per view
    assert abs(points["newsletter"]) <= 1
    bands = balanced.proposed.points.bands
    assert bands[("industry", 0)] > bands[("industry", 1)]
    assert bands[("industry", 0)] > max(bands[("size", 0)], bands[("size", 1)])


def test_the_held_out_model_ranks_and_is_calibrated(balanced):
    assert balanced.auc is not None and balanced.auc > 0.72
    assert all(0.6 < a < 0.9 for a in balanced.fitted.cv_auc)
    rows = balanced.calibration
    assert [row.decile for row in rows] == list(range(1, 11))
    assert sum(row.leads for row in rows) == balanced.held_out
    # Predicted and observed agree within a tolerance over the top and bottom halves.
    low = [row for row in rows if row.decile <= 5]
    high = [row for row in rows if row.decile > 5]
    for part in (low, high):
        predicted = sum(row.predicted * row.leads for row in part) / sum(r.leads for r in part)
        observed = sum(row.converters for row in part) / sum(r.leads for r in part)
        assert abs(predicted - observed) < 0.06
    assert rows[-1].observed > 2 * rows[0].observed


def test_unused_rules_keep_their_points_and_say_so(balanced):
    assert balanced.proposed.points.rules["unused"] == 7
    assert any("rule unused" in note and "points kept" in note for note in balanced.notes)


def test_the_proposed_files_parse_keep_their_text_and_give_the_proposed_points(balanced):
    proposed = balanced.proposed
    scoring = load_scoring_text(proposed.scoring)
    icp = load_icp_text(proposed.icp)
    readiness = load_readiness_text(proposed.readiness)
    assert scoring.ok and icp.ok and readiness.ok, [
        *scoring.problems,
        *icp.problems,
        *readiness.problems,
    ]
    assert {r.id: r.points for r in scoring.value.rules} == proposed.points.rules
    # Caps scale with the points: a cap still stops the same number of events.
    pricing = scoring.value.rule("pricing")
    assert pricing.cap.total == pytest.approx(50 / 10 * pricing.points, abs=0.05)
    for criterion in icp.value.criteria:
        for index, band in enumerate(criterion.bands):
            assert band.points == proposed.points.bands[(criterion.id, index)]
    assert sum(c.max_points for c in icp.value.criteria) == 100
    # Comments, ids, conditions and descriptions are the original text.
    assert "# the hand-raiser" in proposed.scoring
    assert 'when: { url: "/pricing*" }' in proposed.scoring
    assert "description: Asked for a demo" in proposed.scoring
    assert "gates:\n  - { id: served, field: account.country, in: [GB, PL] }" in proposed.icp
    assert proposed.scoring.startswith("# PROPOSED by `nurture scoring calibrate`")
    (rule,) = readiness.value.rules
    assert rule.id == "calibrated"
    assert rule.min_score == proposed.rule.min_score
    assert rule.min_grade == proposed.rule.min_grade
    assert "# hand-written rule" in proposed.readiness  # comments outside the rules stay


def test_the_features_are_the_proposed_files_scores(balanced):
    """The score a proposed file gives a lead at its cut-off is exactly the table's
    columns times the proposed points (so the rule is chosen on the real scores)."""

    proposed = balanced.proposed
    model = Model(
        load_scoring_text(proposed.scoring).value,
        load_icp_text(proposed.icp).value,
        load_readiness_text(proposed.readiness).value,
    )
    scores, grades = proposed_facts(balanced.table, proposed.points, model.icp)
    for index, lead in enumerate(synthetic_history()[:300]):
        facts, fit = facts_at(model, lead, cut_off(lead))
        assert facts.score == pytest.approx(scores[index], abs=1e-9)
        assert "ABCD".index(fit.grade) == grades[index]


def test_events_at_or_after_the_conversion_never_count():
    leads = synthetic_history(200)
    converter = next(lead for lead in leads if lead.outcome.converted)
    assert converter.events[-1].occurred_at == converter.outcome.converted_at
    files = synthetic_files()
    with_leak = describe(files.model.scoring, files.model.icp, [converter])
    without = describe(
        files.model.scoring, files.model.icp, [replace(converter, events=converter.events[:-1])]
    )
    assert (with_leak.rows == without.rows).all()
    assert cut_off(converter) < converter.outcome.converted_at


@pytest.mark.parametrize(("target", "check"), [
    ("precision=0.6", lambda f: f.precision >= 0.5),
    ("top=20%", lambda f: 0.15 <= f.share <= 0.25),
])  # fmt: skip
def test_the_readiness_rule_meets_its_target_on_held_out_leads(target, check):
    result = run(target, folds=3)
    assert result.choice.met
    assert check(result.held_out_figures), result.held_out_figures
    assert result.held_out_figures.lift > 1.5


def test_the_same_seed_gives_the_same_proposal_and_another_seed_another_split(balanced):
    again = run(seed=balanced_seed())
    assert again.proposed.scoring == balanced.proposed.scoring
    assert again.held_out_figures == balanced.held_out_figures
    assert run(seed=12, folds=3).held_out_figures != balanced.held_out_figures


def balanced_seed() -> int:
    return Options().seed


def non_converters(leads):
    return [lead for lead in leads if not lead.outcome.converted]


def converters(leads):
    return [lead for lead in leads if lead.outcome.converted]


@pytest.mark.parametrize(("change", "message"), [
    (lambda leads: [], "has no leads"),
    (non_converters, "no lead in the history converted"),
    (converters, "every lead in the history converted"),
    (lambda leads: non_converters(leads) + converters(leads)[:5], "only 5 converters"),
])  # fmt: skip
def test_a_history_too_thin_to_learn_from_is_said_plainly(change, message):
    with pytest.raises(CalibrationError, match=message):
        calibrate(
            synthetic_files(),
            change(synthetic_history(400)),
            Options(replay=False),
            made_at=MADE_AT,
            source="x",
        )


def test_more_folds_than_converters_to_learn_from_is_said_plainly():
    leads = non_converters(synthetic_history(400)) + converters(synthetic_history(400))[:25]
    with pytest.raises(CalibrationError, match="use fewer folds than 30"):
        calibrate(
            synthetic_files(), leads, Options(folds=30, replay=False), made_at=MADE_AT, source="x"
        )
