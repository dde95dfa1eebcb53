"""How a hand-raise is answered. Pure: plain values and ``now`` in, a decision out.

Every hand-raise (a demo request, a trial, a contact-sales form: the scoring rules marked
``hand_raiser``) is answered once. The person gets the auto-reply unless they may not be
written to (``nurture.consent.rules.may_answer``), and the lead goes to one of:

- ``handoff``: a readiness rule handed it to sales (the handoff's own auto-reply names the
  owner; if the rule that matched was not a hand-raise rule, the auto-reply is sent here);
- ``with_sales``: it already belongs to sales (an open handoff, a sales stage): the owner
  has it, the person gets the auto-reply;
- ``sales``: its fit is below the **fit bar** (the loosest ``min_grade`` of the readiness
  file's hand-raise rules) or not known, and the readiness file says
  ``hand_raisers_outside_icp: sales``: handed off like a ready lead, the fit shown;
- ``review``: outside the ICP (the default setting ``review``), or not handed off for
  another reason (a recycled lead's cool-down, a hand-raise type no rule takes, no
  readiness file): marketing's review queue, with a notification to the reviewers;
- ``stale``: raised longer than ``REPLY_WINDOW`` ago (history sent through the events API
  with a past time): recorded, nobody is mailed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from nurture.qualification.icp import meets_grade
from nurture.qualification.readiness import Readiness, ReadinessRule, hand_raise_reason

# A hand-raise older than this when it is first seen is history, not a request to answer.
REPLY_WINDOW = timedelta(days=14)
ROUTES = ("handoff", "with_sales", "sales", "review", "stale", "earlier")
REVIEW_STATUSES = ("open", "sent", "dismissed")


@dataclass(frozen=True)
class HandRaiseFacts:
    """What the answer looks at for one hand-raise of one lead, at one moment."""

    lead_id: int
    raised_at: datetime
    event_type: str | None
    fit_grade: str | None
    fit_score: float | None
    # May get the auto-reply (``nurture.consent.rules.may_answer``).
    may_answer: bool
    # An open handoff from before this evaluation, or a sales stage.
    with_sales: bool = False
    # Handed off by a readiness rule in this evaluation, and whether that handoff already
    # queued its auto-reply.
    handed_off: bool = False
    handoff_replied: bool = False
    # Why readiness did not hand the lead off (the verdict's text), when it did not.
    why_not: str | None = None


@dataclass(frozen=True)
class Answer:
    """What to do about one hand-raise."""

    route: str
    reply: bool
    reasons: tuple[str, ...]
    # The hand-raise rule whose fit bar was missed, or None.
    rule: str | None = None
    outside_icp: bool = False

    @property
    def review(self) -> bool:
        """True when the hand-raise goes to marketing's review queue."""
        return self.route == "review"


def fit_bar(readiness: Readiness | None) -> tuple[str | None, ReadinessRule | None]:
    """The loosest fit grade any hand-raise rule accepts, and that rule; ``(None, rule)``
    when a hand-raise rule takes every fit, ``(None, None)`` without a hand-raise rule."""
    rules = [rule for rule in readiness.rules if rule.hand_raised] if readiness else []
    if not rules:
        return None, None
    for rule in rules:
        if rule.min_grade is None:
            return None, rule
    loosest = max(rules, key=lambda rule: "ABCD".index(rule.min_grade or "D"))
    return loosest.min_grade, loosest


def fit_text(grade: str | None, score: float | None) -> str:
    """``fit grade D (12)``, or that the lead is not graded."""
    if grade is None:
        return "not graded yet"
    return f"fit grade {grade}" + (f" ({score:g})" if score is not None else "")


def answer(facts: HandRaiseFacts, readiness: Readiness | None, now: datetime) -> Answer:
    """How to answer the hand-raise described by ``facts`` under ``readiness``."""
    raised = hand_raise_reason(facts.event_type or "hand-raise", facts.raised_at, now)
    no_reply = () if facts.may_answer else ("no auto-reply: the person may not be written to",)
    if now - facts.raised_at > REPLY_WINDOW:
        days = REPLY_WINDOW.days
        return Answer("stale", False, (raised, f"older than {days} days: not answered now"))
    if facts.handed_off:
        reply = facts.may_answer and not facts.handoff_replied
        return Answer("handoff", reply, (raised, "handed to sales by readiness", *no_reply))
    if facts.with_sales:
        return Answer("with_sales", facts.may_answer, (raised, "sales owns the lead", *no_reply))
    fit = fit_text(facts.fit_grade, facts.fit_score)
    if readiness is None:
        reasons = (raised, fit, "no readiness definition is active", *no_reply)
        return Answer("review", facts.may_answer, reasons)
    bar, rule = fit_bar(readiness)
    if rule is None:
        reasons = (raised, fit, "no readiness rule takes a hand-raise", *no_reply)
        return Answer("review", facts.may_answer, reasons)
    if bar is not None and not meets_grade(facts.fit_grade, bar):
        shown = f"{fit} is below {bar}" if facts.fit_grade else f"{fit}, so not known to be {bar}"
        below = f"{shown}, the fit bar of rule {rule.id!r}: outside the ICP"
        route = "sales" if readiness.outside_icp == "sales" else "review"
        return Answer(route, facts.may_answer, (raised, below, *no_reply), rule.id, True)
    why = facts.why_not or "no readiness rule is met"
    reasons = (raised, fit, f"not handed to sales: {why}", *no_reply)
    return Answer("review", facts.may_answer, reasons, rule.id)
