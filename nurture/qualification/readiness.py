"""Readiness: the one written definition of a marketing-qualified lead (MQL). Pure.

The readiness file lists **rules**; a lead that meets every condition of any rule is ready
to hand to sales. Conditions combine the fit grade (``min_grade``), behaviour
(``temperature``, ``min_score`` on the decayed score), hand-raises (``hand_raised``: a demo
request, a trial, a pricing contact — the scoring rules flagged ``hand_raiser``) and the
account (``account``: enough engaged contacts at a well-graded account, the buying
committee showing up).

Only marketing-owned leads qualify: subscribers, leads, and recycled leads whose cool-down
has passed. A recycled lead qualifies through a hand-raise only if it raised its hand
*after* it was recycled: sales already said no to the old one.

``evaluate(readiness, facts, now)`` returns a Verdict naming the rule that matched, with a
line of human text per condition (what the sales email says), or why no rule did.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from nurture.leads.stages import SALES_STAGES
from nurture.qualification.icp import meets_grade

TEMPERATURE_ORDER = ("cold", "warm", "hot")


@dataclass(frozen=True)
class AccountCondition:
    """At least ``engaged_contacts`` engaged people (the lead included) at an account whose
    best-graded contact is ``min_grade`` or better. A contact is engaged when its
    temperature is in ``engaged`` (and its decayed score ≥ ``min_score`` when given)."""

    engaged_contacts: int
    engaged: frozenset[str] = frozenset({"warm", "hot"})
    min_score: float | None = None
    min_grade: str | None = None


@dataclass(frozen=True)
class HandRaise:
    """A hand-raise within ``within`` of now (any time when None), of one of ``events``
    (the event types of the hand-raiser scoring rules; any when empty)."""

    within: timedelta | None = None
    events: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ReadinessRule:
    """All of its conditions must hold; None means "not a condition of this rule"."""

    id: str
    description: str = ""
    min_grade: str | None = None
    temperatures: frozenset[str] | None = None
    min_score: float | None = None
    hand_raised: HandRaise | None = None
    account: AccountCondition | None = None
    line: int = 0

    @property
    def name(self) -> str:
        return f"{self.id!r}" + (f" ({self.description})" if self.description else "")


@dataclass(frozen=True)
class Readiness:
    """The MQL definition, as parsed from the readiness file."""

    name: str
    rules: tuple[ReadinessRule, ...]
    recycle_cooldown: timedelta = timedelta(days=30)
    description: str = ""
    checksum: str = ""
    source_path: str | None = None
    # Where a hand-raiser below the hand-raise rules' fit bar goes: "review" (marketing's
    # review queue) or "sales" (handed off like a ready lead, the fit shown).
    outside_icp: str = "review"


@dataclass(frozen=True)
class ContactFacts:
    """One person at the account, as the account condition sees them."""

    lead_id: int
    grade: str | None
    score: float
    temperature: str
    stage: str
    title: str | None = None


@dataclass(frozen=True)
class LeadFacts:
    """What readiness looks at for one lead, at one moment (``score`` is decayed to it)."""

    lead_id: int
    stage: str
    stage_changed_at: datetime | None
    fit_grade: str | None
    fit_score: int | None
    score: float
    temperature: str
    hand_raised_at: datetime | None = None
    hand_raise_event: str | None = None
    account_name: str | None = None
    # The contacts of the lead's account, the lead included; empty without an account.
    # Every one, or only those the account condition reads (``service.readiness_verdicts``:
    # the engaged, and one disqualified entry with everyone's best grade).
    contacts: tuple[ContactFacts, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """The outcome for one lead: the matching rule and why, or why not."""

    lead_id: int
    eligible: bool
    rule: ReadinessRule | None = None
    reasons: tuple[str, ...] = ()
    # Without a match: why the lead cannot qualify now, or per rule the first unmet condition.
    why_not: str | None = None
    unmet: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return self.rule is not None


def eligibility(readiness: Readiness, facts: LeadFacts, now: datetime) -> str | None:
    """Why the lead cannot become an MQL now whatever it does, or None when it can."""
    if facts.stage in SALES_STAGES:
        return f"already at stage {facts.stage} (sales owns the lead)"
    if facts.stage == "disqualified":
        return "disqualified"
    if facts.stage == "recycled" and facts.stage_changed_at is not None:
        until = facts.stage_changed_at + readiness.recycle_cooldown
        if now < until:
            return f"recycled; cool-down until {until:%Y-%m-%d %H:%M} UTC"
    return None


def evaluate(readiness: Readiness, facts: LeadFacts, now: datetime) -> Verdict:
    """The first rule the lead meets now, with a reason per condition, or why none."""
    refusal = eligibility(readiness, facts, now)
    if refusal is not None:
        return Verdict(facts.lead_id, False, why_not=refusal)
    unmet: dict[str, str] = {}
    for rule in readiness.rules:
        reasons: list[str] = []
        failure = None
        for ok, text in _conditions(rule, facts, now):
            if not ok:
                failure = text
                break
            reasons.append(text)
        if failure is None:
            return Verdict(facts.lead_id, True, rule, tuple(reasons))
        unmet[rule.id] = failure
    return Verdict(facts.lead_id, True, why_not="no readiness rule is met", unmet=unmet)


def cannot_be_ready(readiness: Readiness, facts: LeadFacts, now: datetime) -> bool:
    """True when the lead meets no rule whatever its account holds: it is not eligible,
    or every rule has a condition on the lead itself (hand-raise, grade, temperature,
    score) that it does not meet. ``facts.contacts`` is not read. A batch of an import
    skips the account's contacts and the verdict of such a lead (a new, cold lead below
    every rule's grade)."""
    if eligibility(readiness, facts, now) is not None:
        return True
    return all(
        any(not ok for ok, _ in _lead_conditions(rule, facts, now)) for rule in readiness.rules
    )


def _conditions(rule: ReadinessRule, facts: LeadFacts, now: datetime) -> Iterator[tuple[bool, str]]:
    # One at a time: ``evaluate`` stops at a rule's first unmet condition, and the text of
    # the ones after it would be thrown away.
    yield from _lead_conditions(rule, facts, now)
    if rule.account is not None:
        yield _account(rule.account, facts)


def _lead_conditions(
    rule: ReadinessRule, facts: LeadFacts, now: datetime
) -> Iterator[tuple[bool, str]]:
    """The rule's conditions on the lead itself, in the order of the sales email."""
    # Hand-raise first: it is the event sales cares about and the first line of the email.
    if rule.hand_raised is not None:
        yield _hand_raise(rule.hand_raised, facts, now)
    if rule.min_grade is not None:
        yield _grade(rule.min_grade, facts)
    if rule.temperatures is not None:
        ok = facts.temperature in rule.temperatures
        wanted = "/".join(t for t in TEMPERATURE_ORDER if t in rule.temperatures)
        verb = "is" if ok else "is not"
        yield ok, f"engagement {verb} {wanted} (temperature {facts.temperature})"
    if rule.min_score is not None:
        ok = facts.score >= rule.min_score
        sign = "≥" if ok else "below"
        yield ok, f"engagement score {facts.score:.1f} {sign} {rule.min_score:g}"


def _grade(minimum: str, facts: LeadFacts) -> tuple[bool, str]:
    if facts.fit_grade is None:
        return False, f"not graded yet (needs fit grade {minimum} or better)"
    shown = f"fit grade {facts.fit_grade} ({facts.fit_score})"
    if meets_grade(facts.fit_grade, minimum):
        return True, f"{shown}, {minimum} or better"
    return False, f"{shown} is below {minimum}"


def _hand_raise(condition: HandRaise, facts: LeadFacts, now: datetime) -> tuple[bool, str]:
    at = facts.hand_raised_at
    if at is None:
        return False, "has not raised a hand (no demo request, trial or pricing contact)"
    what = facts.hand_raise_event or "hand-raise"
    if condition.events and facts.hand_raise_event not in condition.events:
        return (
            False,
            f"latest hand-raise ({what}) is not one of {', '.join(sorted(condition.events))}",
        )
    if condition.within is not None and now - at > condition.within:
        return (
            False,
            f"latest hand-raise ({what}) was {_ago(now - at)} ago, "
            f"longer than {_ago(condition.within)}",
        )
    if (
        facts.stage == "recycled"
        and facts.stage_changed_at is not None
        and at <= facts.stage_changed_at
    ):
        return False, f"latest hand-raise ({what}) is older than the recycling"
    return True, hand_raise_reason(what, at, now)


def hand_raise_reason(what: str, at: datetime, now: datetime) -> str:
    """The reason a hand-raise at ``at`` gives, as seen at ``now``: ``raised a hand:
    demo.requested 5 min ago``."""
    return f"raised a hand: {what} {_ago(max(now - at, timedelta(0)))} ago"


# What ``hand_raise_reason`` writes, with its relative time as the part to replace.
_HAND_RAISE_REASON = re.compile(r"raised a hand: (?P<what>.+) \d+ (?:min|h|days) ago")


def reasons_as_of(
    reasons: Iterable[str], hand_raised_at: datetime | None, now: datetime
) -> list[str]:
    """Reasons stored when a lead qualified, with the hand-raise's relative time computed
    again for ``now``: a page opened days after the handoff must not say "1 min ago".
    Without the hand-raise's time the stored text is kept as it is."""
    if hand_raised_at is None:
        return list(reasons)
    refreshed = []
    for reason in reasons:
        match = _HAND_RAISE_REASON.fullmatch(reason)
        if match:
            reason = hand_raise_reason(match["what"], hand_raised_at, now)
        refreshed.append(reason)
    return refreshed


def _account(condition: AccountCondition, facts: LeadFacts) -> tuple[bool, str]:
    if not facts.contacts:
        return False, "no account (the account condition needs one)"
    name = facts.account_name or "the account"
    grades = [c.grade for c in facts.contacts if c.grade]
    best = min(grades, key="ABCD".index) if grades else None
    if condition.min_grade is not None and not meets_grade(best, condition.min_grade):
        shown = f"grade {best}" if best else "no graded contact"
        return False, f"{name}: {shown}, below {condition.min_grade}"
    engaged = [
        c
        for c in facts.contacts
        if c.stage != "disqualified"
        and c.temperature in condition.engaged
        and (condition.min_score is None or c.score >= condition.min_score)
    ]
    count = len(engaged)
    grade_text = f", account grade {best}" if condition.min_grade is not None else ""
    if count < condition.engaged_contacts:
        return (
            False,
            f"{name}: {count} engaged contact(s), fewer than {condition.engaged_contacts}",
        )
    return True, f"{name}: {count} engaged contacts (≥ {condition.engaged_contacts}){grade_text}"


def _ago(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


@dataclass(frozen=True)
class Qualification:
    """A lead that meets the MQL definition now: what ``nurture.handoff.hand_off`` gets.

    ``reasons`` are the matched rule's conditions as text; ``fit_reasons``/``fit_missing``
    the ICP explanation (every point, and what sales should ask about).
    """

    lead_id: int
    rule: str
    rule_description: str
    reasons: tuple[str, ...]
    qualified_at: datetime
    fit_grade: str | None
    fit_score: int | None
    score: float
    temperature: str
    hand_raised_at: datetime | None = None
    hand_raise_event: str | None = None
    fit_reasons: tuple[str, ...] = ()
    fit_missing: tuple[str, ...] = ()
    readiness_version: int | None = None
    # The matched rule asks for a hand-raise (the lead then gets an auto-reply), and the id
    # of the event that raised the hand, when known.
    hand_raiser: bool = False
    event_id: int | None = None

    @property
    def actor(self) -> str:
        """The stage-change actor for this qualification (``rule:<id>``)."""
        return f"rule:{self.rule}"

    @property
    def text(self) -> str:
        """Why the lead qualified, for the sales notification and the stage change."""
        title = f"Qualified by rule {self.rule!r}"
        if self.rule_description:
            title += f" ({self.rule_description})"
        return title + ": " + "; ".join(self.reasons)

    def as_json(self) -> dict[str, Any]:
        return {
            "lead_id": self.lead_id,
            "rule": self.rule,
            "rule_description": self.rule_description,
            "reasons": list(self.reasons),
            "qualified_at": self.qualified_at.isoformat(),
            "fit_grade": self.fit_grade,
            "fit_score": self.fit_score,
            "score": round(self.score, 2),
            "temperature": self.temperature,
            "hand_raised_at": self.hand_raised_at.isoformat() if self.hand_raised_at else None,
            "hand_raise_event": self.hand_raise_event,
            "fit_reasons": list(self.fit_reasons),
            "fit_missing": list(self.fit_missing),
            "readiness_version": self.readiness_version,
            "hand_raiser": self.hand_raiser,
            "event_id": self.event_id,
            "text": self.text,
        }
