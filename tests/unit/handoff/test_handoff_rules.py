"""Pure handoff rules: the team file, assignment, committee roles, next steps, links."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from nurture.handoff.assignment import LeadFacts, RepState, assign
from nurture.handoff.committee import role_for_title
from nurture.handoff.links import HandoffLinks
from nurture.handoff.model import outcome_error, stage_path
from nurture.handoff.next_step import Signal, suggest_next_step
from nurture.handoff.team_fields import parse_working_hours
from nurture.handoff.team_parser import load_team_file, load_team_text

BUNDLED = Path(__file__).resolve().parents[3] / "campaigns" / "sales-team.yaml"
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # a Tuesday

TEAM = """\
name: T
manager_email: boss@x.example
contact: {name: Sales, email: sales@x.example}
regions: {emea: [DE, FR]}
segments:
  - {id: enterprise, min_employees: 1000}
  - {id: smb}
reps:
  - {name: Ann, email: ann@x.example, timezone: UTC, working_hours: mon-fri 09:00-17:00,
     territories: [US], segments: [enterprise]}
  - {name: Ben, email: ben@x.example, timezone: UTC, working_hours: mon-fri 09:00-17:00,
     territories: [US], segments: [smb]}
  - {name: Eve, email: eve@x.example, timezone: UTC, working_hours: mon-fri 09:00-17:00,
     territories: [emea], segments: [enterprise, smb]}
assignment:
  rules:
    - {id: size, match: [territory, segment]}
    - {id: region, match: [territory]}
  fallback: FALLBACK
"""


def team(fallback: str = "round-robin"):
    load = load_team_text(TEAM.replace("FALLBACK", fallback), "team.yaml")
    assert load.ok, load.problems
    return load.team


def states(**overrides: dict) -> dict[str, RepState]:
    result = {}
    for number, name in enumerate(("ann", "ben", "eve"), start=1):
        values = dict(
            id=number,
            email=f"{name}@x.example",
            name=name.title(),
            active=True,
            in_team=True,
            timezone="UTC",
            capacity=None,
            out_of_office_until=None,
            open_handoffs=0,
            last_assigned_seq=0,
        )
        values.update(overrides.get(name, {}))
        result[values["email"]] = RepState(**values)
    return result


def test_the_bundled_team_file_is_valid() -> None:
    load = load_team_file(BUNDLED)
    assert load.ok, load.problems
    assert len(load.team.reps) == 5 and load.team.reason("no-budget").stage == "recycled"


def test_problems_name_their_line_and_suggest() -> None:
    text = TEAM.replace("FALLBACK", "sometimes").replace("segments: [smb]}", "segments: [smbb]}")
    problems = [str(p) for p in load_team_text(text + "extra: 1\n", "team.yaml").problems]
    assert problems == [
        "team.yaml:12: segments: unknown segment 'smbb' (did you mean 'smb'?); "
        "defined: enterprise, smb",
        "team.yaml:19: fallback 'sometimes': use round-robin or unassigned",
        "team.yaml:20: unknown field 'extra'",
    ]


def test_working_hours_parse_describe_and_open() -> None:
    hours = parse_working_hours("mon-fri 09:00-17:30")
    assert hours.describe() == "Mon–Fri 09:00–17:30"
    berlin = ZoneInfo("Europe/Berlin")
    assert hours.is_open(NOW, berlin)  # 16:00 in Berlin
    friday_night = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)
    assert hours.next_open(friday_night, berlin) == datetime(2026, 12, 7, 9, 0, tzinfo=berlin)
    with pytest.raises(ValueError, match="the end must be after the start"):
        parse_working_hours("mon-fri 18:00-09:00")


def test_rules_match_territory_and_segment_in_order() -> None:
    big_us = LeadFacts(country="US", employees=5000)
    small_us = LeadFacts(country="US", employees=20)
    assert assign(team(), big_us, states(), NOW).rep_id == 1
    assert assign(team(), small_us, states(), NOW).rep_id == 2
    french = assign(team(), LeadFacts(country="FR", employees=20), states(), NOW)
    assert (french.rep_id, french.rule) == (3, "size")


def test_the_next_rule_takes_over_when_the_first_has_nobody_available() -> None:
    decision = assign(
        team(),
        LeadFacts(country="US", employees=5000),
        states(ann={"capacity": 2, "open_handoffs": 2}),
        NOW,
    )
    assert (decision.rep_id, decision.rule) == (2, "region")
    assert "ann@x.example at capacity (2 of 2 open)" in decision.reason


def test_rotation_prefers_the_longest_waiting_rep() -> None:
    us = LeadFacts(country="US", employees=None)
    assert (
        assign(
            team(), us, states(ann={"last_assigned_seq": 5}, ben={"last_assigned_seq": 3}), NOW
        ).rep_id
        == 2
    )


def test_out_of_office_counts_in_the_reps_own_timezone() -> None:
    # 23:30 UTC on Dec 1 is already Dec 2 in Tokyo: back from an absence that ended Dec 1.
    late = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    us = LeadFacts(country="US", employees=5000)
    away = {"out_of_office_until": date(2026, 12, 1)}
    assert assign(team(), us, states(ann=away), late).rep_id != 1
    assert assign(team(), us, states(ann={**away, "timezone": "Asia/Tokyo"}), late).rep_id == 1


def test_the_account_owner_wins_even_at_capacity_but_not_when_away() -> None:
    facts = LeadFacts(country="FR", employees=20, account_name="Acme", account_owner_id=1)
    full = assign(team(), facts, states(ann={"capacity": 1, "open_handoffs": 1}), NOW)
    assert (full.rep_id, full.method, full.reason) == (1, "account_owner", "Ann owns Acme")
    away = assign(team(), facts, states(ann={"out_of_office_until": date(2026, 12, 9)}), NOW)
    assert away.rep_id == 3 and "account owner, out of office until 2026-12-09" in away.reason


def test_nobody_available_and_the_unassigned_fallback() -> None:
    everyone_out = states(**{n: {"active": False} for n in ("ann", "ben", "eve")})
    decision = assign(team(), LeadFacts(country="US", employees=20), everyone_out, NOW)
    assert (decision.rep_id, decision.method) == (None, "unassigned")
    unmatched = assign(team("unassigned"), LeadFacts(country="BR", employees=20), states(), NOW)
    assert unmatched.rep_id is None and "no assignment rule matched BR" in unmatched.reason
    rotated = assign(team(), LeadFacts(country="BR", employees=20), states(), NOW)
    assert rotated.method == "round_robin"


@pytest.mark.parametrize(
    ("title", "role"),
    [
        ("VP of Revenue Operations", "decision maker"),
        ("Chief Technology Officer", "decision maker"),
        ("Procurement Manager", "finance"),
        ("Senior Data Engineer", "technical evaluator"),
        ("Marketing Manager", "champion"),
        ("Business Analyst", "user"),
        ("", "unknown"),
        ("Wizard", "unknown"),
    ],
)
def test_committee_roles_from_titles(title: str, role: str) -> None:
    assert role_for_title(title) == role


def test_next_step_follows_the_strongest_signal() -> None:
    demo_and_pricing = [
        Signal("page.viewed", url="https://x.example/pricing"),
        Signal("form.submitted", form="demo"),
    ]
    step = suggest_next_step(
        demo_and_pricing,
        hand_raiser=True,
        lead_role="champion",
        committee=[("Dana", "decision maker")],
        missing=["budget"],
    )
    assert step.action == "Call to book the demo, and be ready to talk pricing"
    assert step.prepare == (
        "Loop in Dana, who looks like the decision maker",
        "Ask about budget (not known yet)",
    )
    assert suggest_next_step([Signal("trial.started")], hand_raiser=True).action.startswith(
        "Offer an onboarding call"
    )
    assert (
        "pricing"
        in suggest_next_step(
            [Signal("email.clicked", url="https://x.example/pricing/team")], hand_raiser=False
        ).action
    )
    quiet = suggest_next_step(
        [Signal("email.opened")], hand_raiser=False, lead_role="decision maker"
    )
    assert quiet.action.startswith("Send a personal note") and quiet.prepare == ()


def test_links_are_bound_to_handoff_rep_and_expiry() -> None:
    links = HandoffLinks("secret", "https://n.example")
    expires = NOW + timedelta(days=14)
    signed = links.sign("tok", 7, expires)
    claim = links.read(signed)
    assert (claim.token, claim.rep_id, claim.expires_at) == ("tok", 7, expires)
    assert not claim.expired(NOW) and claim.expired(expires)
    assert links.read(signed[:-2] + "xx") is None
    assert HandoffLinks("other", "https://n.example").read(signed) is None
    assert links.urls("tok", 7, expires)["reject_url"].endswith("/reject")


def test_outcomes_move_forward_and_stages_step_one_at_a_time() -> None:
    assert stage_path("sal", "customer") == ["sql", "opportunity", "customer"]
    assert stage_path("opportunity", "sql") == []
    assert outcome_error(None, "sql") is None and outcome_error("sql", "won") is None
    assert "only move forward" in outcome_error("opportunity", "sql")
    assert "final" in outcome_error("lost", "won")
    assert "unknown outcome" in outcome_error(None, "closed")
