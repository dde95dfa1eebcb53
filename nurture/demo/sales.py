"""The demo's sales team at work: the reps of the bundled team file answer the handoffs made
for them, in their own working hours, through the same use cases as the inbox's buttons
(``nurture.handoff.verdicts``); their manager reassigns a lead a rep missed.

What a rep decides is what the first call would tell them: a lead without a say in buying
is the wrong contact, a low-intent one has no budget, a lukewarm one is asked to come back
later (unless the rep already works its account); the rest are accepted and move through
SQL and opportunity to won or lost over the following days. How quickly they answer follows
a fixed round (mostly within the deadline, sometimes late, now and then not at all), so
every run shows each case of the SLA whatever day it starts on. Handoffs made in the last
hours are still waiting when the demo ends.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from nurture.demo.report import DemoResult
from nurture.handoff import HandoffError, accept, convert, reassign, reject
from nurture.handoff.sla.policy import Hours
from nurture.handoff.sla.service import next_rep
from nurture.handoff.team_fields import parse_working_hours
from nurture.models import Account, Handoff, HandoffSla, Lead, SalesRep
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime

# How quickly the owner answers each new handoff, in turn: "prompt" within the deadline,
# "late" after it, "missed" not at all (the SLA escalates it to the manager).
_TIMING = (
    "prompt",
    "prompt",
    "prompt",
    "missed",
    "prompt",
    "late",
    "prompt",
    "prompt",
    "missed",
    "prompt",
    "prompt",
    "late",
)
# Where each accepted lead is heading, in turn ("sal": nowhere yet).
_PIPELINE = ("won", "sql", "lost", "opportunity", "won", "sal")
_PATHS = {
    "won": ("sql", "opportunity", "won"),
    "lost": ("sql", "opportunity", "lost"),
    "opportunity": ("sql", "opportunity"),
    "sql": ("sql",),
    "sal": (),
}
# The ICP's seniority words: without one, the person does not decide on a purchase.
_DECIDES = re.compile(
    r"\b(chief|ceo|cfo|coo|cro|cto|cmo|founder|owner|president|vp|vice president|head|"
    r"director|manager|lead|prezes|wiceprezes|dyrektor|dyrektorka|kierownik|kierowniczka|"
    r"właściciel|właścicielka)\b",
    re.IGNORECASE,
)
_NOTES = {
    "wrong-contact": (
        "Researching for their VP; asked for an introduction to whoever owns the budget.",
        "Not involved in buying; gave me the name of their head of sales ops.",
    ),
    "no-budget": (
        "No budget this year; they were comparing prices for next year's plan.",
        "Budget went to a CRM migration; revisit after their fiscal year starts.",
    ),
    "bad-timing": (
        "Renewed with their current tool in October; call back in Q3.",
        "Reorganising the sales team this quarter; asked us to come back in spring.",
    ),
}
_LOST = (
    "Chose a competitor already integrated with their CRM",
    "Project postponed to next fiscal year",
    "Price above their approved budget",
)


def _hours(rep: SalesRep) -> Hours:
    parsed = parse_working_hours(rep.working_hours)
    return Hours(parsed.days, parsed.start, parsed.end, ZoneInfo(rep.timezone))


class SalesTeam:
    """The reps and their manager: ``plan`` decides how the owner of a new handoff will
    answer and queues it with ``later``; ``act`` does it when the clock gets there."""

    def __init__(
        self,
        runtime: Runtime,
        rng: random.Random,
        result: DemoResult,
        later: Callable[..., None],
    ) -> None:
        self.runtime = runtime
        self.rng = rng
        self.result = result
        self.later = later
        policy = runtime.settings.sla
        self.deadline = policy.accept_within if policy is not None else timedelta(hours=1)
        self.fresh = 0
        self.accepted = 0
        self.missed = 0

    def plan(self, session: Session, handoff: Handoff) -> None:
        """Decide how the owner of ``handoff`` (just made) answers it, and when."""
        rep = session.get(SalesRep, handoff.rep_id) if handoff.rep_id else None
        lead = session.get(Lead, handoff.lead_id)
        if rep is None or lead is None:
            return
        hours = _hours(rep)
        timing = "prompt"
        if handoff.previous_id is None:
            timing = _TIMING[self.fresh % len(_TIMING)]
            self.fresh += 1
        if timing == "missed":
            self.missed += 1
            clock = session.get(HandoffSla, handoff.id)
            if self.missed == 1 and clock is not None:
                # The manager reads the escalation within the owner's next working hour and
                # gives the lead to someone else; later misses are still waiting at the end.
                at = hours.add(clock.due_at, timedelta(hours=1))
                self.later(at, "reassign", handoff=handoff.id, manager=rep.manager_email)
            return
        share = self.rng.uniform(0.1, 0.7) if timing == "prompt" else self.rng.uniform(1.3, 2.2)
        at = hours.add(handoff.created_at, self.deadline * share)
        reason = self._reason(session, handoff, lead, rep)
        if reason is None:
            self.later(at, "accept", handoff=handoff.id)
        else:
            note = self.rng.choice(_NOTES[reason])
            self.later(at, "reject", handoff=handoff.id, reason=reason, note=note)

    def _reason(self, session: Session, handoff: Handoff, lead: Lead, rep: SalesRep) -> str | None:
        """Why the rep gives ``lead`` back after the first call; None: they accept it. A
        lukewarm lead is worth a try when colleagues are engaged or the rep works the
        account already."""
        interest = str((lead.attributes or {}).get("interest", "low"))
        if not _DECIDES.search(lead.title or ""):
            return "wrong-contact"
        if interest == "low":
            return "no-budget"
        account = session.get(Account, lead.account_id) if lead.account_id else None
        committee = handoff.qualification_rule == "buying-committee"
        works_account = account is not None and account.owner_id == rep.id
        if interest == "medium" and not (committee or works_account):
            return "bad-timing"
        return None

    def act(self, at: datetime, action: str, data: dict[str, Any]) -> None:
        """Do ``action`` at ``at`` as the rep (or manager) would in the web app."""
        steps: dict[str, Callable[[Session, datetime, dict[str, Any]], str | None]] = {
            "accept": self._accept,
            "reject": self._reject,
            "convert": self._convert,
            "reassign": self._reassign,
        }
        try:
            with transaction(self.runtime.sessions) as session:
                line = steps[action](session, at, data)
        except HandoffError as exc:
            line = exc.message
        if line:
            self.result.sales.append(f"{at:%a %d %b %H:%M}: {line}")

    def _accept(self, session: Session, at: datetime, data: dict[str, Any]) -> str:
        handoff = accept(session, data["handoff"], now=at)
        target = _PIPELINE[self.accepted % len(_PIPELINE)]
        self.accepted += 1
        self._next_step(session, handoff, at, list(_PATHS[target]))
        return f"{handoff.decided_by} accepted {_email(session, handoff)}"

    def _reject(self, session: Session, at: datetime, data: dict[str, Any]) -> str:
        handoff = reject(session, data["handoff"], reason=data["reason"], note=data["note"], now=at)
        return f"{handoff.decided_by} rejected {_email(session, handoff)} ({data['reason']})"

    def _convert(self, session: Session, at: datetime, data: dict[str, Any]) -> str:
        outcome = data["path"][0]
        handoff = convert(
            session,
            data["handoff"],
            outcome=outcome,
            value=data.get("value") if outcome in ("opportunity", "won") else None,
            reason=self.rng.choice(_LOST) if outcome == "lost" else None,
            now=at,
        )
        self._next_step(session, handoff, at, data["path"][1:], value=data.get("value"))
        worth = f" ({handoff.deal_currency} {handoff.deal_value:,.0f})" if outcome == "won" else ""
        return f"{handoff.decided_by} recorded {outcome}{worth} for {_email(session, handoff)}"

    def _next_step(
        self,
        session: Session,
        handoff: Handoff,
        at: datetime,
        path: list[str],
        value: Decimal | None = None,
    ) -> None:
        """Queue the next stage of an accepted lead a few working days on."""
        rep = session.get(SalesRep, handoff.rep_id) if handoff.rep_id else None
        if not path or rep is None:
            return
        if value is None:
            value = self._deal_value(session, handoff)
        later = _hours(rep).add(at, timedelta(hours=8 * self.rng.uniform(1.5, 4)))
        self.later(later, "convert", handoff=handoff.id, path=path, value=value)

    def _deal_value(self, session: Session, handoff: Handoff) -> Decimal:
        """A yearly contract priced by the size of the company."""
        account = session.get(Account, handoff.account_id) if handoff.account_id else None
        employees = (account.employees if account else None) or 0
        low, high = (60, 150) if employees >= 1000 else (20, 60) if employees >= 200 else (8, 20)
        return Decimal(self.rng.randint(low, high) * 1000)

    def _reassign(self, session: Session, at: datetime, data: dict[str, Any]) -> str | None:
        handoff = session.get(Handoff, data["handoff"])
        if handoff is None or handoff.status != "offered":
            return None
        to = next_rep(session, handoff, at)
        if to is None:
            return f"nobody could take {_email(session, handoff)} from its late owner"
        manager = data.get("manager") or "the sales manager"
        reassign(
            session,
            handoff.id,
            to=to,
            reason="Missed the response deadline",
            actor=f"user:{manager}",
            now=at,
        )
        return f"{manager} reassigned {_email(session, handoff)} to {to.email} (deadline missed)"


def _email(session: Session, handoff: Handoff) -> str:
    lead = session.get(Lead, handoff.lead_id)
    return lead.email if lead is not None else "?"
