"""The scoring rules: points, conditions, caps, negatives, decay, bands, hand-raisers and
explanations, on plain values (no database)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nurture.scoring.model import EventFacts, is_hand_raiser
from nurture.scoring.parser import load_scoring_file, load_scoring_text
from nurture.scoring.rules import cools_at, evaluate, explain, score_history

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BUNDLED = Path(__file__).resolve().parents[3] / "campaigns" / "scoring.yaml"

MODEL_TEXT = """
name: Test model
half_life: 14d
bands: { warm: 20, hot: 50 }
rules:
  - id: demo
    event: demo.requested
    points: 40
    hand_raiser: true
  - id: careers
    event: page.viewed
    when: { url: ["/careers*", "*jobs.example.com*"] }
    points: -10
  - id: pricing
    event: page.viewed
    when: { url: /pricing* }
    points: 10
    cap: { per_day: 10, total: 30 }
  - id: sales-form
    event: form.submitted
    when: { form: contact-sales }
    points: 30
    hand_raiser: true
  - id: newsletter-click
    event: email.clicked
    when: { campaign: newsletter, template: "weekly-*" }
    points: 2
  - id: enterprise-trial
    event: trial.started
    when: { properties: { plan: [enterprise, business] } }
    points: 25
  - id: unsubscribed
    event: email.unsubscribed
    points: -30
  - id: page
    event: page.viewed
    points: 1
    cap: { per_day: 3 }
"""


@pytest.fixture(scope="module")
def model():
    load = load_scoring_text(MODEL_TEXT, "test.yaml")
    assert load.ok, load.problems
    return load.model


_ids = iter(range(1, 1_000_000))


def ev(kind: str, at: datetime = T0, **properties) -> EventFacts:
    campaign = properties.pop("campaign", None)
    template = properties.pop("template", None)
    return EventFacts(next(_ids), kind, at, properties, campaign, template)


def test_a_matching_event_earns_the_rules_points(model):
    assert evaluate(model, [ev("demo.requested")], T0).score == 40


def test_events_no_rule_matches_earn_nothing(model):
    assert evaluate(model, [ev("email.opened"), ev("webinar.attended")], T0).score == 0


def test_the_first_matching_rule_wins_so_specific_rules_beat_general_ones(model):
    scored = evaluate(model, [ev("page.viewed", url="https://brightpath.example/pricing")], T0)
    assert [a.rule.id for a in scored.awards] == ["pricing"]
    scored = evaluate(model, [ev("page.viewed", url="https://brightpath.example/blog")], T0)
    assert [a.rule.id for a in scored.awards] == ["page"]


def test_url_patterns_match_the_path_or_the_whole_url_case_insensitively(model):
    careers = [
        ev("page.viewed", url="https://brightpath.example/Careers/engineer"),
        ev("page.viewed", url="https://jobs.example.com/listing/3"),
    ]
    assert [a.rule.id for a in evaluate(model, careers, T0).awards] == ["careers", "careers"]


def test_negative_points_lower_the_score(model):
    events = [ev("demo.requested"), ev("email.unsubscribed"), ev("page.viewed", url="/careers")]
    assert evaluate(model, events, T0).score == 40 - 30 - 10


def test_form_campaign_template_and_property_conditions(model):
    assert evaluate(model, [ev("form.submitted", form="Contact-Sales")], T0).score == 30
    assert evaluate(model, [ev("form.submitted", form="newsletter")], T0).score == 0
    assert evaluate(model, [ev("form.submitted")], T0).score == 0
    click = ev("email.clicked", campaign="newsletter", template="weekly-2026-48", url="/x")
    assert evaluate(model, [click], T0).score == 2
    other = ev("email.clicked", campaign="b2b-nurture", template="weekly-2026-48")
    assert evaluate(model, [other], T0).score == 0
    assert evaluate(model, [ev("trial.started", plan="business")], T0).score == 25
    assert evaluate(model, [ev("trial.started", plan="free")], T0).score == 0


def test_the_daily_cap_limits_points_per_utc_day_and_resets_the_next_day(model):
    pricing = "https://brightpath.example/pricing"
    day1 = [ev("page.viewed", T0 + timedelta(minutes=i), url=pricing) for i in range(3)]
    day2 = [ev("page.viewed", T0 + timedelta(days=1, minutes=i), url=pricing) for i in range(3)]
    scored = evaluate(model, day1 + day2, T0 + timedelta(days=1, hours=1))
    assert [a.points for a in scored.awards] == [10, 0, 0, 10, 0, 0]
    assert sum(a.capped for a in scored.awards) == 40


def test_the_total_cap_limits_a_rule_over_all_time(model):
    pricing = "https://brightpath.example/pricing"
    events = [ev("page.viewed", T0 + timedelta(days=d), url=pricing) for d in range(5)]
    scored = evaluate(model, events, T0)
    assert [a.points for a in scored.awards] == [10, 10, 10, 0, 0]


def test_caps_go_to_the_earliest_events_whatever_order_they_arrive_in(model):
    late = ev("page.viewed", T0 + timedelta(hours=5), url="/blog/b")
    early = [ev("page.viewed", T0 + timedelta(hours=h), url="/blog/a") for h in range(3)]
    scored = evaluate(model, [late, *early], T0 + timedelta(hours=6))
    assert [a.event.id for a in scored.awards if a.points] == [e.id for e in early]


def test_scores_halve_every_half_life_and_fade_over_weeks(model):
    events = [ev("demo.requested")]
    assert evaluate(model, events, T0 + timedelta(days=14)).score == pytest.approx(20)
    assert evaluate(model, events, T0 + timedelta(days=28)).score == pytest.approx(10)
    assert evaluate(model, events, T0 + timedelta(weeks=12)).score == pytest.approx(40 / 64)


def test_each_award_decays_from_its_own_time(model):
    events = [
        ev("demo.requested", T0),
        ev("form.submitted", T0 + timedelta(days=14), form="contact-sales"),
    ]
    now = T0 + timedelta(days=28)
    assert evaluate(model, events, now).score == pytest.approx(40 / 4 + 30 / 2)


def test_temperature_bands(model):
    bands = model.bands
    assert [bands.temperature(s) for s in (-5, 0, 19.9, 20, 49.99, 50, 500)] == [
        "cold", "cold", "cold", "warm", "warm", "hot", "hot",
    ]  # fmt: skip


def test_a_hot_lead_cools_when_its_decayed_score_crosses_the_floor(model):
    # 80 points halve to 40 after 14 days: below hot (50) after log2(80/50) half-lives.
    moment = cools_at(model, 80, T0, "hot")
    expected = T0 + timedelta(days=14) * math.log2(80 / 50)
    assert abs((moment - expected).total_seconds()) <= 1
    assert evaluate(model, [ev("demo.requested", T0), ev("demo.requested", T0)], moment).score < 50
    assert cools_at(model, 10, T0, "cold") is None


def test_hand_raisers_are_flagged_by_their_rule(model):
    assert is_hand_raiser(ev("demo.requested"), model)
    assert is_hand_raiser(ev("form.submitted", form="contact-sales"), model)
    assert not is_hand_raiser(ev("form.submitted", form="newsletter"), model)
    assert not is_hand_raiser(ev("page.viewed", url="/pricing"), model)
    scored = evaluate(model, [ev("page.viewed", url="/pricing"), ev("demo.requested")], T0)
    assert [a.rule.id for a in scored.hand_raises] == ["demo"]


def test_the_explanation_adds_up_to_the_score_after_caps_and_decay(model):
    events = [
        *(ev("page.viewed", T0 - timedelta(days=d), url="/pricing") for d in range(6)),
        *(ev("page.viewed", T0 - timedelta(days=3, minutes=m), url="/blog") for m in range(5)),
        ev("demo.requested", T0 - timedelta(days=20)),
        ev("page.viewed", T0 - timedelta(days=1), url="/careers"),
    ]
    explanation = explain(model, events, T0)
    assert sum(part.now for part in explanation.rules) == pytest.approx(explanation.score)
    assert explanation.score == pytest.approx(evaluate(model, events, T0).score)
    by_rule = {part.rule.id: part for part in explanation.rules}
    assert by_rule["pricing"].events == 6
    assert by_rule["pricing"].awarded == 30
    assert by_rule["pricing"].capped == 30
    assert by_rule["page"].awarded == 3
    assert by_rule["careers"].now < 0
    # Largest contribution first; events newest first within a rule.
    assert explanation.rules[0].rule.id == "pricing"
    recent = by_rule["pricing"].awards
    assert recent[0].event.occurred_at > recent[-1].event.occurred_at
    data = explanation.as_dict()
    assert data["temperature"] == explanation.temperature
    assert round(sum(r["points_now"] for r in data["rules"]), 1) == round(data["score"], 1)


def test_the_bundled_model_is_valid_and_rewards_intent_over_reading():
    load = load_scoring_file(BUNDLED)
    assert load.ok, load.problems
    model = load.model
    reader = [ev("page.viewed", T0 + timedelta(minutes=i), url="/blog/x") for i in range(50)]
    buyer = [ev("page.viewed", url="/pricing"), ev("demo.requested")]
    assert evaluate(model, reader, T0).score < model.bands.warm
    assert model.bands.temperature(evaluate(model, buyer, T0).score) in ("warm", "hot")
    assert is_hand_raiser(ev("demo.requested"), model)
    job_seeker = [ev("page.viewed", url="https://brightpath.example/careers")] * 3
    assert evaluate(model, job_seeker, T0).score < 0


def test_the_score_history_is_the_score_each_moment_would_have_shown(model):
    # A demo request at T0 and pricing views on two days (capped at 10 a day).
    events = [
        ev("demo.requested"),
        ev("page.viewed", T0 + timedelta(days=7), url="/pricing"),
        ev("page.viewed", T0 + timedelta(days=7, hours=1), url="/pricing/team"),
        ev("page.viewed", T0 + timedelta(days=14), url="/pricing"),
    ]
    now = T0 + timedelta(days=28)
    moments = [
        T0 - timedelta(days=1),
        T0,
        T0 + timedelta(days=7, hours=2),
        T0 + timedelta(days=14),
        now,
    ]
    history = score_history(explain(model, events, now), moments)
    # The second view of day 7 is capped to nothing; each award halves every 14 days.
    assert history[:2] == [0.0, 40.0]
    assert history[3] == pytest.approx(20 + 10 / math.sqrt(2) + 10)
    assert history[4] == pytest.approx(10 + 10 / 2**1.5 + 5)
    # Every point agrees with scoring the events that had happened by then.
    for moment, value in zip(moments, history, strict=True):
        past = [e for e in events if e.occurred_at <= moment]
        assert value == pytest.approx(evaluate(model, past, moment).score)


def test_a_model_remembers_matches_without_mixing_up_values_that_compare_equal():
    load = load_scoring_text(
        """
name: Flags
half_life: 14d
bands: { warm: 20, hot: 50 }
rules:
  - id: flagged
    event: trial.started
    when: { properties: { flag: ["true"] } }
    points: 5
""",
        "flags.yaml",
    )
    assert load.ok, load.problems
    flags = load.model
    # True == 1 in Python, but the text pattern "true" matches True only; a list cannot be
    # remembered and is matched each time.
    assert [
        evaluate(flags, [ev("trial.started", flag=value)], T0).score for value in (True, 1)
    ] == [
        5,
        0,
    ]
    for _ in range(2):
        assert evaluate(flags, [ev("trial.started", flag=["true"])], T0).score == 0
        assert evaluate(flags, [ev("trial.started", flag=True)], T0).score == 5
