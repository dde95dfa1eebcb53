"""The replay's shortcuts (asking only when a score rises, grading only when it can
matter, folding one event at a time) change nothing: on random histories it finds the
same first ready moment and rule as asking the files at every moment from scratch."""

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nurture.backtest import HistoryLead, Model, Outcome, facts_at, replay
from nurture.qualification import evaluate
from nurture.qualification.icp_parser import load_icp_file, load_icp_text
from nurture.qualification.readiness_parser import load_readiness_file, load_readiness_text
from nurture.scoring import EventFacts
from nurture.scoring.parser import load_scoring_file

ROOT = Path(__file__).resolve().parents[3]
START = datetime(2026, 1, 1, tzinfo=UTC)
KINDS = [
    ("email.opened", {}),
    ("email.clicked", {"url": "https://x.test/pricing"}),
    ("page.viewed", {"url": "https://x.test/pricing"}),
    ("page.viewed", {"url": "https://x.test/careers"}),
    ("webinar.attended", {}),
    ("demo.requested", {}),
    ("form.submitted", {"form": "contact-sales"}),
    ("email.unsubscribed", {}),
    ("email.sent", {}),  # no rule scores it
    ("email.sent", {}),
]
COOL_READINESS = """name: cool ones
rules:
  - { id: warm-only, temperature: [warm], min_grade: C }
"""
VISITS_ICP = """name: visits
grades: { A: 75, B: 50, C: 25 }
criteria:
  - { id: visits, field: attributes.history.visits, bands: [{ gte: 5, points: 60 }] }
  - { id: title, field: title, bands: [{ words: [vp, head], points: 40 }] }
"""


def shipped(readiness=None, icp=None) -> Model:
    return Model(
        scoring=load_scoring_file(ROOT / "campaigns" / "scoring.yaml").value,
        icp=load_icp_text(icp).value
        if icp
        else load_icp_file(ROOT / "campaigns" / "icp.yaml").value,
        readiness=(
            load_readiness_text(readiness).value
            if readiness
            else load_readiness_file(ROOT / "campaigns" / "readiness.yaml").value
        ),
    )


def random_lead(rng: random.Random, number: int) -> HistoryLead:
    created = START + timedelta(hours=rng.randrange(0, 24 * 60))
    at = created
    events = []
    for n in range(rng.randrange(0, 15)):
        at += timedelta(hours=rng.choice([0, 1, 5, 30, 200]))
        kind, props = rng.choice(KINDS)
        events.append(EventFacts(n + 1, kind, at, props))
    converted = rng.random() < 0.4
    converted_at = created + timedelta(days=rng.uniform(0, 40)) if converted else None
    fields = {
        "title": rng.choice(["VP Sales", "Head of Sales", "Intern", "Analyst"]),
        "account.industry": rng.choice(["software", "retail"]),
        "account.employees": rng.choice([30, 120, 900]),
        "account.country": rng.choice(["DE", "BR"]),
        "attributes.history.visits": rng.randrange(0, 10),
    }
    facts_time = created + timedelta(days=rng.uniform(0, 20)) if rng.random() < 0.5 else None
    return HistoryLead(
        f"r{number}", created, fields, Outcome(converted, converted_at), tuple(events), facts_time
    )


def brute_force(model: Model, lead: HistoryLead) -> tuple[datetime | None, str | None]:
    end = lead.outcome.converted_at
    moments = {lead.created_at, *(e.occurred_at for e in lead.events)}
    if lead.facts_at is not None:
        moments.add(lead.facts_at)
    for moment in sorted(m for m in moments if end is None or m < end):
        facts, _ = facts_at(model, lead, moment)
        verdict = evaluate(model.readiness, facts, moment)
        if verdict.rule is not None:
            return moment, verdict.rule.id
    return None, None


@pytest.mark.parametrize(
    ("readiness", "icp"),
    [(None, None), (COOL_READINESS, None), (None, VISITS_ICP)],
    ids=["shipped files", "a warm-only rule", "an ICP reading aggregate facts"],
)
def test_the_replay_agrees_with_asking_at_every_moment(readiness, icp):
    model = shipped(readiness, icp)
    rng = random.Random(15)
    handed = 0
    for number in range(300):
        lead = random_lead(rng, number)
        result = replay(model, lead)
        assert (result.handed_over_at, result.rule) == brute_force(model, lead), lead.key
        handed += result.handed_over
    assert handed > 20  # the histories exercise the rules, not only "never ready"
