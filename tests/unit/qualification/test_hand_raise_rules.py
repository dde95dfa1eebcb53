"""How a hand-raise is answered (pure): every one gets the auto-reply unless the person may
not be written to; one outside the ICP (below the hand-raise rules' fit bar) goes to
marketing's review, or to sales when the readiness file says so; the readiness file's
setting is checked with file:line."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from nurture.qualification.hand_raise_rules import HandRaiseFacts, answer, fit_bar
from nurture.qualification.readiness_parser import load_readiness_text

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
READINESS = """\
name: Test MQL
rules:
  - id: hand-raiser
    hand_raised: { within: 14d }
    min_grade: C
  - id: hot-and-fit
    min_grade: B
    temperature: hot
"""


def readiness(text: str = READINESS):
    load = load_readiness_text(text, "readiness.yaml")
    assert load.ok, load.problems
    return load.value


def raised(**changes) -> HandRaiseFacts:
    values = dict(
        lead_id=1,
        raised_at=NOW - timedelta(minutes=3),
        event_type="demo.requested",
        fit_grade="D",
        fit_score=12.0,
        may_answer=True,
    )
    values.update(changes)
    return HandRaiseFacts(**values)


def test_a_fit_d_hand_raiser_is_answered_and_held_for_review():
    decision = answer(raised(), readiness(), NOW)
    assert decision.route == "review" and decision.reply and decision.outside_icp
    assert decision.rule == "hand-raiser"
    assert decision.reasons == (
        "raised a hand: demo.requested 3 min ago",
        "fit grade D (12) is below C, the fit bar of rule 'hand-raiser': outside the ICP",
    )


def test_an_ungraded_hand_raiser_is_outside_the_icp_too():
    decision = answer(raised(fit_grade=None, fit_score=None), readiness(), NOW)
    assert decision.route == "review" and decision.outside_icp
    assert decision.reasons[1] == (
        "not graded yet, so not known to be C, the fit bar of rule 'hand-raiser': outside the ICP"
    )


def test_the_setting_sends_hand_raisers_outside_the_icp_to_sales():
    setting = readiness(READINESS.replace("rules:", "hand_raisers_outside_icp: sales\nrules:"))
    assert setting.outside_icp == "sales"
    decision = answer(raised(), setting, NOW)
    assert decision.route == "sales" and decision.reply


def test_a_person_who_may_not_be_written_to_gets_no_reply_but_is_still_reviewed():
    decision = answer(raised(may_answer=False), readiness(), NOW)
    assert decision.route == "review" and not decision.reply
    assert decision.reasons[-1] == "no auto-reply: the person may not be written to"


def test_a_handed_off_hand_raiser_is_replied_to_once():
    by_handoff = answer(raised(fit_grade="A", handed_off=True, handoff_replied=True), None, NOW)
    assert by_handoff.route == "handoff" and not by_handoff.reply
    # A rule without a hand-raise (hot-and-fit) handed it off: no reply yet, so one here.
    no_reply = answer(raised(fit_grade="A", handed_off=True), None, NOW)
    assert no_reply.route == "handoff" and no_reply.reply


def test_a_lead_that_belongs_to_sales_gets_the_reply_and_no_review():
    decision = answer(raised(with_sales=True), readiness(), NOW)
    assert decision.route == "with_sales" and decision.reply and not decision.review


def test_a_good_fit_not_handed_off_is_reviewed_with_the_reason():
    facts = raised(fit_grade="B", fit_score=60.0, why_not="rule hand-raiser: recycled")
    decision = answer(facts, readiness(), NOW)
    assert decision.route == "review" and not decision.outside_icp
    assert decision.reasons[-1] == "not handed to sales: rule hand-raiser: recycled"


def test_without_a_hand_raise_rule_or_readiness_the_hand_raiser_is_reviewed():
    no_rule = readiness(READINESS.split("  - id: hot-and-fit")[0].replace(
        "hand_raised: { within: 14d }\n    ", "temperature: hot\n    "
    ))  # fmt: skip
    assert fit_bar(no_rule) == (None, None)
    assert answer(raised(), no_rule, NOW).route == "review"
    decision = answer(raised(), None, NOW)
    assert decision.route == "review" and "no readiness definition is active" in decision.reasons


def test_a_hand_raise_from_weeks_ago_is_history_not_a_request():
    decision = answer(raised(raised_at=NOW - timedelta(days=20)), readiness(), NOW)
    assert decision.route == "stale" and not decision.reply


def test_the_fit_bar_is_the_loosest_hand_raise_rule():
    two = readiness(READINESS + "  - id: trial-and-good\n    hand_raised: true\n    min_grade: D\n")
    bar, rule = fit_bar(two)
    assert bar == "D" and rule is not None and rule.id == "trial-and-good"
    assert answer(raised(), two, NOW).route == "review"
    assert not answer(raised(), two, NOW).outside_icp
    open_rule = replace(two.rules[0], min_grade=None)
    assert fit_bar(replace(two, rules=(open_rule,)))[0] is None


@pytest.mark.parametrize("value", ["marketing", "true", "[sales]"])
def test_a_wrong_setting_fails_with_its_line(value: str):
    text = READINESS.replace("rules:", f"hand_raisers_outside_icp: {value}\nrules:")
    load = load_readiness_text(text, "readiness.yaml")
    assert not load.ok
    [problem] = load.problems
    assert problem.line == 2 and "hand_raisers_outside_icp must be review or sales" in str(problem)
