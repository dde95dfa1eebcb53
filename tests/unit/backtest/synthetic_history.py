"""A synthetic history whose generating rule is known, and files to calibrate on it.

Conversion is driven by demo requests (strongly), pricing-page views (moderately) and a
software company (fit); newsletter opens and company size drive nothing. Every rule and
criterion starts with the same points, so whatever ranking calibration finds comes from
the outcomes alone.
"""

from __future__ import annotations

import functools
import math
import random
from datetime import UTC, datetime, timedelta

from nurture.backtest import HistoryLead, Model, Outcome
from nurture.backtest.calibrate import Files
from nurture.qualification.icp_parser import load_icp_text
from nurture.qualification.readiness_parser import load_readiness_text
from nurture.scoring import EventFacts
from nurture.scoring.parser import load_scoring_text

START = datetime(2026, 1, 1, tzinfo=UTC)

SCORING = """# Test scoring: every rule starts equal.
name: synthetic
half_life: 3650d
bands: { warm: 20, hot: 40 }
rules:
  # the hand-raiser
  - id: demo
    event: demo.requested
    points: 10
    hand_raiser: true
    description: Asked for a demo
  - id: pricing
    event: page.viewed
    when: { url: "/pricing*" }
    points: 10
    cap: { per_day: 20, total: 50 }
  - id: newsletter
    event: email.opened
    points: 10
    cap: { per_day: 10 }
  - id: unused
    event: webinar.attended
    points: 7
"""

ICP = """# Test ICP: both criteria start equal.
name: synthetic
grades: { A: 75, B: 50, C: 25 }
gates:
  - { id: served, field: account.country, in: [GB, PL] }
criteria:
  - id: industry
    field: account.industry
    bands:
      - { in: [software], points: 50, label: software }
      - { in: [retail], points: 25, label: retail }
  - id: size
    field: account.employees
    bands:
      - { gte: 500, points: 50, label: big }
      - { gte: 50, points: 25, label: medium }
"""

READINESS = """name: synthetic
# hand-written rule
rules:
  - { id: hot, temperature: hot }
"""


def synthetic_files() -> Files:
    scoring = load_scoring_text(SCORING)
    icp = load_icp_text(ICP)
    readiness = load_readiness_text(READINESS)
    assert scoring.value and icp.value and readiness.value
    return Files(Model(scoring.value, icp.value, readiness.value), SCORING, ICP, READINESS)


def synthetic_lead(rng: random.Random, number: int) -> HistoryLead:
    created = START + timedelta(hours=rng.randrange(0, 24 * 300))
    busy = rng.random()
    demo = rng.random() < 0.25
    pricing = rng.choice([0, 0, 1, 2, 3])
    opens = int(busy * 8)
    software = rng.random() < 0.4
    logit = -3.2 + 2.4 * demo + 0.7 * pricing + 1.3 * software
    converts = rng.random() < 1 / (1 + math.exp(-logit))
    events = []
    at = created
    kinds = ["email.opened"] * opens + ["page.viewed"] * pricing + ["demo.requested"] * demo
    rng.shuffle(kinds)
    for kind in kinds:
        at += timedelta(hours=rng.randrange(1, 48))
        url = {"url": "https://example.test/pricing"} if kind == "page.viewed" else {}
        events.append(EventFacts(len(events) + 1, kind, at, url))
    converted_at = at + timedelta(days=rng.randrange(1, 30)) if converts else None
    if converts:
        # Sales' follow-up after the purchase: must never count (it would be a leak).
        events.append(EventFacts(len(events) + 1, "demo.requested", converted_at, {}))
    fields = {
        "account.industry": "software" if software else rng.choice(["retail", "media"]),
        "account.employees": rng.choice([10, 100, 1000]),
        "account.country": rng.choice(["GB", "PL", "GB", "US"]),
    }
    return HistoryLead(
        key=f"s{number}",
        created_at=created,
        fields=fields,
        outcome=Outcome(converts, converted_at, 1000.0 if converts else None),
        events=tuple(events),
    )


@functools.cache
def synthetic_history(leads: int = 1500, seed: int = 3) -> tuple[HistoryLead, ...]:
    rng = random.Random(seed)
    return tuple(synthetic_lead(rng, number) for number in range(leads))
