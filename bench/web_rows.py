"""Rows for ``bench/web_pages.py``'s database: who the leads, accounts, enrolments, messages,
events, lifecycle changes and handoffs of a busy instance are (``bench/web_data.py`` loads
them).

Every row is derived from the lead's number by a seeded generator, so two builds of the
same size hold the same data, and the id ranges of one lead's messages are known to the
events that point at them without a lookup.
"""

from __future__ import annotations

import itertools
import json
import random
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from benchlib import ROOT

# Bump when the generated data changes shape: a cached database of another version is rebuilt.
DATA_VERSION = 3
PASSWORD = "bench password, not for production 1"
# One account per role; the sales ones are reps of campaigns/sales-team.yaml (the inbox of a
# rep is the handoffs of the rep with the user's address).
USERS = {
    "admin": "admin@bench.example",
    "marketer": "marketer@bench.example",
    "viewer": "viewer@bench.example",
    "sales": "maria.lopez@brightpath.example",
    "sales-manager": "dana.ortiz@brightpath.example",
}
CAMPAIGN_SOURCES = (
    ROOT / "campaigns" / "examples" / "b2b-nurture.yaml",
    ROOT / "campaigns" / "examples" / "recycle.yaml",
)

STAGES = (  # (stage, weight): most leads are marketing's, few reached sales
    ("subscriber", 45), ("lead", 38), ("mql", 5), ("sal", 2), ("sql", 1.5),
    ("opportunity", 1), ("customer", 1.5), ("recycled", 4), ("disqualified", 2),
)  # fmt: skip
PATH = ("subscriber", "lead", "mql", "sal", "sql", "opportunity", "customer")
GRADES = (("A", 8), ("B", 17), ("C", 30), ("D", 35), (None, 10))
SOURCES = (("web form", 30), ("csv import", 25), ("api", 15), ("webinar", 10), ("event", 8),
           ("referral", 7), (None, 5))  # fmt: skip
CONSENT = (("granted", 70), ("unknown", 15), ("withdrawn", 5), ("pending", 10))
COUNTRIES = ("US", "GB", "DE", "FR", "PL", "NL", "ES", "IT", "SE", "CA", "AU", "BR", "IN", "JP")
INDUSTRIES = ("logistics", "software", "retail", "manufacturing", "finance", "healthcare")
FIRST = ("Ada", "Grace", "Linus", "Barbara", "Alan", "Edsger", "Frances", "Ken", "Radia",
         "Maria", "Jan", "Zofia", "Piotr", "Chen", "Aisha", "Omar", "Lena", "Sven")  # fmt: skip
LAST = ("Lovelace", "Hopper", "Torvalds", "Liskov", "Turing", "Dijkstra", "Allen", "Nowak",
        "Perlman", "Kowalski", "Smith", "Garcia", "Müller", "Rossi", "Tanaka", "Patel")  # fmt: skip
TITLES = ("Head of RevOps", "VP Sales", "Marketing Ops Manager", "CFO", "Data Analyst", "CTO",
          "Office Manager", "Student", "Director of Logistics", "Procurement Lead")  # fmt: skip
EXIT_REASONS = ("handed to sales", "cold track finished", "warm track finished", "unsubscribed",
                "stage is mql, sal, sql, opportunity, customer", "goal reached: demo_requested",
                "its step was removed from the campaign",
                "opted out of the campaign's topic")  # fmt: skip
MACHINE_OPEN = (["apple-mpp"], ["google-image-proxy"], ["prefetch"], ["too-soon-after-delivery"])
MACHINE_CLICK = (
    ["scanner:mimecast"],
    ["scanner:proofpoint"],
    ["head-request"],
    ["automation-agent"],
)
PAGES = ("/pricing", "/product", "/blog/five-mistakes", "/case-studies/acme", "/docs", "/about")
FORMS = ("demo", "newsletter", "webinar", "contact")
BUSY_EVERY = 1000  # one lead in a thousand is very busy (thousands of events)
BUSY_WEIGHT = 200.0
HISTORY_DAYS = 540


@dataclass(frozen=True)
class Sizes:
    """How big the database is."""

    leads: int
    accounts: int
    events: int
    campaigns: int = 50

    def scaled(self, fraction: float) -> Sizes:
        """The same shape, ``fraction`` of the size (at least one of each)."""
        return Sizes(
            max(1, int(self.leads * fraction)),
            max(1, int(self.accounts * fraction)),
            max(1, int(self.events * fraction)),
            self.campaigns,
        )


def _pick(rng: random.Random, table: tuple[tuple[Any, float], ...]) -> Any:
    return rng.choices([v for v, _ in table], [w for _, w in table])[0]


@dataclass
class Campaigns:
    """What the synced campaigns hold: id, key, and per track its send steps (step, template)."""

    ids: list[int]
    keys: list[str]
    sends: list[list[tuple[str, str, str]]]  # per campaign: (track, step id, template)
    versions: list[int]


# --------------------------------------------------------------------------- per lead


@dataclass
class LeadPlan:
    """Everything about one lead the other tables need, from its number alone."""

    id: int
    stage: str
    account_id: int | None
    created: datetime
    enrollments: int
    messages: int
    busy: bool


def plan_lead(i: int, sizes: Sizes, now: datetime) -> LeadPlan:
    rng = random.Random(i * 7919 + 17)
    stage = _pick(rng, STAGES)
    busy = i % BUSY_EVERY == 3
    account = None
    if rng.random() < 0.2 or busy:  # ~20 % work for a known account, skewed to big ones
        account = 1 + int(sizes.accounts * rng.random() ** 3) % sizes.accounts
    created = now - timedelta(days=HISTORY_DAYS * rng.random() ** 1.5, seconds=rng.randrange(86400))
    enrollments = min(sizes.campaigns, rng.choice((0, 1, 1, 1, 2, 2, 3)) + (2 if busy else 0))
    messages = rng.choice((0, 2, 3, 4, 5, 6, 8)) if enrollments else 0
    return LeadPlan(i, stage, account, created, enrollments, messages, busy)


def event_weight(i: int) -> float:
    """Most leads have a few events, one in BUSY_EVERY has thousands (heavy tail)."""
    if i % BUSY_EVERY == 3:
        return BUSY_WEIGHT
    u = random.Random(i * 104729 + 5).random()
    return min(30.0, 0.15 / (u + 0.005) ** 0.9)


def event_counts(sizes: Sizes) -> array:
    """Events per lead (index 0 unused), summing to exactly ``sizes.events``."""
    weights = array("d", (event_weight(i) for i in range(sizes.leads + 1)))
    weights[0] = 0.0
    scale = sizes.events / sum(weights)
    counts = array("l", [0]) * (sizes.leads + 1)
    cumulative, given = 0.0, 0
    for i in range(1, sizes.leads + 1):
        cumulative += weights[i]
        target = round(cumulative * scale)
        counts[i], given = target - given, target
    return counts


# --------------------------------------------------------------------------- rows


def account_rows(sizes: Sizes, now: datetime) -> Iterator[dict[str, Any]]:
    for a in range(1, sizes.accounts + 1):
        rng = random.Random(a * 31 + 3)
        yield {
            "id": a,
            "domain": f"company{a}.example",
            "name": f"Company {a} {rng.choice(('Ltd', 'GmbH', 'Inc', 'S.A.', 'sp. z o.o.'))}",
            "industry": rng.choice(INDUSTRIES),
            "employees": int(10 ** rng.uniform(0.5, 5)),
            "annual_revenue": int(10 ** rng.uniform(5, 10)),
            "branches": rng.randint(1, 40),
            "country": rng.choice(COUNTRIES),
            "attributes": "{}",
            "created_at": now - timedelta(days=HISTORY_DAYS),
            "updated_at": now - timedelta(days=rng.randrange(HISTORY_DAYS)),
        }


def lead_rows(sizes: Sizes, now: datetime) -> Iterator[dict[str, Any]]:
    for i in range(1, sizes.leads + 1):
        plan = plan_lead(i, sizes, now)
        rng = random.Random(i * 13 + 1)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        consent = _pick(rng, CONSENT)
        grade = _pick(rng, GRADES)
        score = round(rng.expovariate(1 / 25) + (60 if plan.busy else 0), 2)
        as_of = now - timedelta(hours=rng.randrange(24 * 60))
        temperature = "hot" if score >= 60 else "warm" if score >= 30 else "cold"
        domain = f"company{plan.account_id}.example" if plan.account_id else "mail.example"
        yield {
            "id": i,
            "email": f"{first.lower()}.{last.lower()}.{i}@{domain}",
            "first_name": first,
            "last_name": f"{last}{i}",
            "title": rng.choice(TITLES),
            "timezone": "UTC",
            "source": _pick(rng, SOURCES),
            "attributes": json.dumps({"country": rng.choice(COUNTRIES)}),
            "stage": plan.stage,
            "stage_changed_at": plan.created + (now - plan.created) * rng.random(),
            "temperature": temperature,
            "score_value": score,
            "score_as_of": as_of,
            "fit_score": None if grade is None else {"A": 90, "B": 70, "C": 45, "D": 15}[grade],
            "fit_grade": grade,
            "fit_reasons": None if grade is None else '[{"rule": "employees", "points": 20}]',
            "fit_graded_at": None if grade is None else as_of,
            "account_id": plan.account_id,
            "consent_status": consent,
            "lawful_basis": "consent" if consent == "granted" else None,
            "consent_source": "benchmark seed",
            "consent_at": plan.created if consent == "granted" else None,
            "unsubscribed_at": now - timedelta(days=3) if consent == "withdrawn" else None,
            "topic_opt_outs": "[]",
            "soft_bounce_count": 0,
            "created_at": plan.created,
            "updated_at": as_of,
        }


def campaign_rows(
    sizes: Sizes, campaigns: Campaigns, now: datetime, want: str
) -> Iterator[dict[str, Any]]:
    """Enrolments (``want="enrollments"``) or messages: one pass over the leads each, with the
    same numbering, so a message's enrolment id is known without a lookup."""
    enrollment_id = message_id = 0
    n = len(campaigns.ids)
    for i in range(1, sizes.leads + 1):
        plan = plan_lead(i, sizes, now)
        rng = random.Random(i * 97 + 11)
        first = rng.randrange(n)
        mine: list[tuple[int, int]] = []  # (enrolment id, campaign index)
        entries: dict[int, int] = {}
        for k in range(plan.enrollments):
            enrollment_id += 1
            c = (first + k * 7) % n
            entries[c] = entries.get(c, 0) + 1  # few campaigns: a re-entry
            status = rng.choice(("active", "active", "completed", "exited", "exited", "paused"))
            if entries[c] > 1 and status in ("active", "paused"):
                status = "completed"  # one live enrolment per campaign
            mine.append((enrollment_id, c))
            if want != "enrollments":
                continue
            sends = campaigns.sends[c]
            track, step, _ = sends[rng.randrange(len(sends))]
            enrolled = plan.created + timedelta(hours=rng.randrange(1, 240))
            live = status in ("active", "paused")
            yield {
                "id": enrollment_id,
                "lead_id": i,
                "campaign_id": campaigns.ids[c],
                "entry_number": entries[c],
                "status": status,
                "version_id": campaigns.versions[c],
                "track": track,
                "step": step,
                "next_due_at": now + timedelta(minutes=rng.randrange(1, 30 * 1440))
                if status == "active"
                else None,
                "enrolled_at": enrolled,
                "finished_at": None if live else enrolled + timedelta(days=rng.randrange(1, 60)),
                "exit_reason": rng.choice(EXIT_REASONS) if status == "exited" else None,
            }
        if want != "messages" or not mine:
            continue
        used: set[tuple[int, str]] = set()
        for m in range(plan.messages):
            enrolment, c = mine[m % len(mine)]
            track, step, template = campaigns.sends[c][m // len(mine) % len(campaigns.sends[c])]
            step_key = f"{track}/{step}"
            if (enrolment, step_key) in used:  # unique (enrolment, step)
                continue
            used.add((enrolment, step_key))
            message_id += 1
            queued = plan.created + timedelta(days=m * 3 + 1, hours=rng.randrange(12))
            queued = min(queued, now - timedelta(minutes=rng.randrange(1, 600)))
            bounced = rng.random() < 0.03
            yield {
                "id": message_id,
                "lead_id": i,
                "campaign_id": campaigns.ids[c],
                "enrollment_id": enrolment,
                "step_key": step_key,
                "kind": "campaign",
                "template": template,
                "subject": f"{template.replace('-', ' ').capitalize()}",
                "to_address": f"lead{i}@bench.example",
                "message_id": f"bench.{message_id}@brightpath.example",
                "token": f"{message_id:032x}",
                "status": "sent",
                "attempts": 1,
                "smtp_code": 250,
                "queued_at": queued,
                "sent_at": queued + timedelta(seconds=2),
                "bounced_at": queued + timedelta(minutes=5) if bounced else None,
                "bounce_status": "5.1.1" if bounced else None,
                "bounce_decision": "suppress" if bounced else None,
            }


def message_ranges(sizes: Sizes, campaigns: Campaigns, now: datetime) -> Iterator[tuple[int, int]]:
    """Per lead in order: (first message id, number of messages), as the messages pass numbers."""
    next_id = 1
    for _lead, count in _messages_per_lead(sizes, campaigns, now):
        yield next_id, count
        next_id += count


def _messages_per_lead(
    sizes: Sizes, campaigns: Campaigns, now: datetime
) -> Iterator[tuple[int, int]]:
    rows = campaign_rows(sizes, campaigns, now, "messages")
    current, count = 1, 0
    for row in rows:
        while row["lead_id"] > current:
            yield current, count
            current, count = current + 1, 0
        count += 1
    while current <= sizes.leads:
        yield current, count
        current, count = current + 1, 0


def event_rows(sizes: Sizes, campaigns: Campaigns, now: datetime) -> Iterator[dict[str, Any]]:
    counts = event_counts(sizes)
    ranges = message_ranges(sizes, campaigns, now)
    event_id = 0
    for i in range(1, sizes.leads + 1):
        first_message, messages = next(ranges)
        count = counts[i]
        if not count:
            continue
        plan = plan_lead(i, sizes, now)
        rng = random.Random(i * 31337 + 7)
        span = (now - plan.created).total_seconds()
        for _ in range(count):
            event_id += 1
            # Recent activity weighs a little more (a few % of the events fall in the last week).
            at = now - timedelta(seconds=span * rng.random() ** 1.3 + 1)
            roll = rng.random()
            message = first_message + rng.randrange(messages) if messages else None
            machine: list[str] = []
            properties: dict[str, Any] = {}
            if message is not None and roll < 0.55:
                kind = "email.opened" if roll < 0.35 else "email.clicked"
                if rng.random() < 0.3:
                    machine = rng.choice(MACHINE_OPEN if kind == "email.opened" else MACHINE_CLICK)
                if kind == "email.clicked":
                    properties = {"url": "https://brightpath.example" + rng.choice(PAGES)}
            elif message is not None and roll < 0.62:
                kind = "email.sent"
            elif message is not None and roll < 0.625:
                kind = rng.choice(("email.bounced", "email.unsubscribed", "email.complained"))
            elif roll < 0.95:
                kind = "page.viewed"
                properties = {"url": "https://brightpath.example" + rng.choice(PAGES)}
                message = None
            else:
                kind = "form.submitted"
                properties = {"form": rng.choice(FORMS)}
                message = None
            yield {
                "id": event_id,
                "lead_id": i,
                "type": kind,
                "message_id": message,
                "campaign_id": None,
                "occurred_at": at,
                "recorded_at": at + timedelta(seconds=1),
                "is_machine": bool(machine),
                "machine_reasons": json.dumps(machine),
                "properties": json.dumps(properties),
            }


def stage_change_rows(sizes: Sizes, now: datetime) -> Iterator[dict[str, Any]]:
    change_id = 0
    for i in range(1, sizes.leads + 1):
        plan = plan_lead(i, sizes, now)
        if plan.stage in PATH:
            path = PATH[: PATH.index(plan.stage) + 1]
        else:  # recycled / disqualified: went through lead (and mql for recycled) first
            path = ("subscriber", "lead", "mql", "sal", plan.stage)[
                (0 if plan.stage == "recycled" else 3) :
            ]
        at = plan.created
        # The stay each change ends (nurture.analytics.stay_columns): the COPY runs with
        # the triggers that keep it off. A lead's changes go in time order (ties at ``now``
        # in id order), so the one before is the previous step of the path.
        entered_at: datetime | None = None
        for before, after in itertools.pairwise(path):
            change_id += 1
            at = min(now, at + timedelta(days=1 + (i * change_id) % 30))
            yield {
                "id": change_id,
                "lead_id": i,
                "from_stage": before,
                "to_stage": after,
                "at": at,
                "reason": "readiness rule: engaged and fits" if after == "mql" else "sales",
                "actor": "rule:hand-raiser" if after == "mql" else "user:maria.lopez",
                "rule": "hand-raiser" if after == "mql" else None,
                "stay_began_at": entered_at,
                "stay_stage": None if entered_at is None else before,
            }
            entered_at = at


def handoff_rows(
    sizes: Sizes, now: datetime, reps: list[int], snapshot: str, first_id: int, skip: set[int]
) -> Iterator[dict[str, Any]]:
    """Handoffs of leads sales already has (one lead in five past ``lead``), capped: a few
    thousand at full size, most closed, the open ones spread over the reps (half to the
    first, the rep the benchmark signs in as)."""
    cap = max(40, sizes.leads // 200)
    handoff_id = first_id - 1
    reasons = ("not-a-fit", "no-budget", "wrong-contact", "bad-timing", "duplicate")
    for i in range(5, sizes.leads + 1, 5):
        plan = plan_lead(i, sizes, now)
        if plan.stage in ("subscriber", "lead", "disqualified") or i in skip:
            continue
        handoff_id += 1
        if handoff_id - first_id >= cap:
            return
        rng = random.Random(i * 211 + 1)
        status = {"mql": "offered", "sal": "accepted", "recycled": "rejected"}.get(
            plan.stage, "converted"
        )
        created = now - timedelta(hours=rng.randrange(1, 24 * 90 if status != "offered" else 72))
        decided = None if status == "offered" else created + timedelta(hours=rng.randrange(1, 48))
        rep = reps[0] if rng.random() < 0.5 else rng.choice(reps)
        yield {
            "id": handoff_id,
            "lead_id": i,
            "open_lead_id": i if status in ("offered", "accepted") else None,
            "account_id": plan.account_id,
            "rep_id": rep,
            "status": status,
            "assignment_method": "round_robin",
            "assignment_reason": "next in the rotation",
            "needs_owner": False,
            "qualification_rule": "engaged-and-fits",
            "qualification_reasons": '["score 72 ≥ 60", "grade A"]',
            "hand_raiser": rng.random() < 0.2,
            "fit_grade": "A",
            "fit_score": 90.0,
            "score": 72.0,
            "temperature": "hot",
            "campaign": "bench-00-b2b-nurture",
            "source": "web form",
            "snapshot": snapshot,
            "token": f"h{handoff_id:031x}",
            "created_at": created,
            "decided_at": decided,
            "decided_by": "maria.lopez@brightpath.example" if decided else None,
            "reject_reason": rng.choice(reasons) if status == "rejected" else None,
            "reject_note": "Talked to them; not this quarter." if status == "rejected" else None,
            "outcome": rng.choice(("sql", "opportunity", "won", "lost"))
            if status == "converted"
            else None,
            "outcome_at": decided + timedelta(days=3)
            if status == "converted" and decided
            else None,
        }


def sla_rows(handoffs: list[dict[str, Any]], now: datetime) -> Iterator[dict[str, Any]]:
    for h in handoffs:
        due = h["created_at"] + timedelta(hours=4)
        open_ = h["status"] == "offered"
        breached = (h["decided_at"] or now) > due
        yield {
            "handoff_id": h["id"],
            "policy": "4 business hours",
            "timezone": "UTC",
            "working_hours": "mon-fri 09:00-17:30",
            "started_at": h["created_at"],
            "due_at": due,
            "remind_at": due - timedelta(hours=1),
            "status": "breached" if breached else "pending" if open_ else "met",
            "breached_at": due if breached else None,
            "escalation": "{}",
            "responded_at": h["decided_at"],
            "response": None if open_ else h["status"],
        }
