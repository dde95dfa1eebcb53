"""The account engagement score and buying committee (pure)."""

from __future__ import annotations

import pytest

from nurture.handoff.account_view import Person, aggregate, committee
from nurture.platform.policies import parse_account_score_method


def test_sum_max_and_top_n_aggregate_the_peoples_scores():
    scores = [10.0, 40.0, 5.0, 25.0, -15.0]
    assert aggregate(scores, "sum") == 80.0
    assert aggregate(scores, "max") == 40.0
    assert aggregate(scores, "top3") == 75.0
    assert aggregate(scores, "top1") == 40.0
    assert aggregate([], "top3") == 0.0


def test_a_crowd_of_barely_engaged_readers_does_not_outrank_a_committee_with_top3():
    crowd = [3.0] * 40
    committee_scores = [45.0, 30.0, 20.0]
    assert aggregate(crowd, "sum") > aggregate(committee_scores, "sum")
    assert aggregate(crowd, "top3") < aggregate(committee_scores, "top3")


def test_negative_people_never_pull_the_account_below_zero():
    assert aggregate([-20.0, -5.0], "sum") == 0.0


@pytest.mark.parametrize("text", ["sum", "MAX", "top3", "top-5"])
def test_methods_are_read_case_insensitively(text):
    assert parse_account_score_method(text) in ("sum", "max", "top3", "top5")


@pytest.mark.parametrize("text", ["avg", "top", "top0", "top100"])
def test_unknown_methods_say_what_to_write(text):
    with pytest.raises(ValueError, match=r"sum, max or topN|at least 1"):
        parse_account_score_method(text)


def person(name: str, title: str | None, temperature: str, role: str) -> Person:
    return Person(
        1, f"{name}@x.example", name, title, role, "lead", temperature, 30.0, "A", None, None
    )


def test_the_committee_lists_engaged_people_by_role_and_leaves_gaps_empty():
    roles = committee(
        [
            person("Vera", "VP Finance", "hot", "finance"),
            person("Chen", "IT Architect", "warm", "technical evaluator"),
            person("Cold", "CEO", "cold", "decision maker"),
        ]
    )
    assert roles["finance"] == ["Vera"]
    assert roles["technical evaluator"] == ["Chen"]
    assert roles["decision maker"] == []  # the CEO has not engaged
