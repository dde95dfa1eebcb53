"""Replaying one past lead through the scoring, ICP and readiness files (pure).

The replay walks the lead's timeline oldest first and, at each moment something changed,
asks the product's own rules what they would have said then, knowing only what had
happened by then:

- the score is the real scoring fold (``nurture.scoring.rules.advance``: rules, caps,
  decay; the same numbers as a rescore), one event at a time;
- the fit grade is ``nurture.qualification.grade`` over the lead's fields, without its
  aggregate-only facts (``attributes.history.*``) until ``facts_at``;
- the hand-raise is the latest event a ``hand_raiser`` scoring rule scored;
- readiness is ``nurture.qualification.evaluate`` on those facts.

The history lead is a marketing-owned ``lead`` until it converted: nothing at or after
its conversion is replayed (sales had it then). Readiness conditions only become true when
the score rises, a hand is raised or the grade changes (decay and time only take them
away), so the rule is asked at those moments, which is what makes 100,000 leads fast; a
readiness file that asks for a *cold* temperature is asked at every event instead.

``facts_at`` gives one lead's facts at any moment (what calibration will learn from);
``replay`` says when, by which rule, and otherwise why not.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from nurture.backtest.history import HistoryLead
from nurture.qualification import ICP, Fit, Readiness, grade
from nurture.qualification import evaluate as evaluate_readiness
from nurture.qualification.readiness import LeadFacts
from nurture.scoring import EventFacts, ScoringModel
from nurture.scoring.rules import advance
from nurture.scoring.state import EMPTY, ScoreState, fold, sort_key

# The stage a history lead has while marketing owns it (before its outcome).
HISTORY_STAGE = "lead"
_AGGREGATE_PREFIX = "attributes.history."
# The grade a moment is first asked with (nothing is easier to qualify with).
BEST_GRADE = "A"
# How many distinct sets of graded values a model remembers the fit of.
_FIT_MEMORY = 65536


@dataclass(frozen=True)
class Model:
    """The three files a backtest replays history through."""

    scoring: ScoringModel
    icp: ICP
    readiness: Readiness

    _fits: dict[tuple[Any, ...], Fit] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def grade(self, fields: Mapping[str, Any]) -> Fit:
        """``nurture.qualification.grade`` of ``fields`` under the ICP, remembered per set
        of the values it reads (a history repeats its titles, industries and accounts)."""
        names = sorted(self.icp.fields)
        key = tuple(fields.get(name) for name in names)
        try:
            return self._fits[key]
        except KeyError:
            pass
        except TypeError:  # a list value (several departments): not remembered
            return grade(self.icp, fields)
        if len(self._fits) >= _FIT_MEMORY:
            self._fits.clear()
        fit = self._fits[key] = grade(self.icp, {name: fields.get(name) for name in names})
        return fit

    @functools.cached_property
    def _needs(self) -> tuple[tuple[float, bool], ...]:
        """Per readiness rule that a history lead can meet: the lowest score it asks
        for (by ``min_score`` or the floor of its coolest temperature) and whether it
        asks for a hand-raise. Rules about the account are left out: a history lead
        has no colleagues to count."""
        bands = self.scoring.bands
        needs = []
        for rule in self.readiness.rules:
            if rule.account is not None:
                continue
            floor = -math.inf
            if rule.temperatures is not None:
                floors = [bands.floor(t) or -math.inf for t in rule.temperatures]
                floor = min(floors, default=math.inf)
            if rule.min_score is not None:
                floor = max(floor, rule.min_score)
            needs.append((floor, rule.hand_raised is not None))
        return tuple(needs)

    def may_hold(self, score: float, raised: bool) -> bool:
        """False when no readiness rule can hold with this score and hand-raise, whatever
        the rest (a cheap test before asking the rules themselves)."""
        return any(score >= floor and (raised or not hand) for floor, hand in self._needs)

    @property
    def reads_aggregates(self) -> bool:
        """True when the ICP grades some aggregate-only fact (``attributes.history.*``)."""
        return any(name.startswith(_AGGREGATE_PREFIX) for name in self.icp.fields)

    @property
    def rises_only(self) -> bool:
        """True when every readiness rule's temperature condition includes every band
        above its lowest (so readiness can only start holding when the score rises)."""
        order = ("cold", "warm", "hot")
        for rule in self.readiness.rules:
            wanted = rule.temperatures
            if wanted is None:
                continue
            lowest = min((order.index(t) for t in wanted if t in order), default=len(order))
            if any(t not in wanted for t in order[lowest:]):
                return False
        return True


@dataclass(frozen=True)
class Replay:
    """What the readiness rule would have done with one lead.

    ``handed_over_at``/``rule``/``reasons`` when it would have handed the lead over;
    otherwise ``unmet`` (per rule, the first condition not met at the last moment asked)
    and ``checked_at`` (that moment).
    """

    lead: HistoryLead
    handed_over_at: datetime | None = None
    rule: str | None = None
    reasons: tuple[str, ...] = ()
    unmet: Mapping[str, str] = field(default_factory=dict)
    checked_at: datetime | None = None
    fit_grade: str | None = None
    score: float = 0.0

    @property
    def handed_over(self) -> bool:
        return self.handed_over_at is not None


def fields_known(lead: HistoryLead, at: datetime) -> Mapping[str, Any]:
    """The lead's fields known at ``at``: its aggregate-only facts only from ``facts_at``
    (from its creation when the history does not say)."""
    if lead.facts_at is None or at >= lead.facts_at:
        return lead.fields
    return {k: v for k, v in lead.fields.items() if not k.startswith(_AGGREGATE_PREFIX)}


def facts_at(model: Model, lead: HistoryLead, at: datetime) -> tuple[LeadFacts, Fit]:
    """The readiness facts and the fit of ``lead`` at ``at``, from its events up to then
    (none later: no peeking), scored and graded by ``model``'s files."""
    events = [event for event in lead.events if event.occurred_at <= at]
    evaluation = advance(model.scoring, EMPTY, sorted(events, key=sort_key), at)
    raised: EventFacts | None = None
    for award in evaluation.awards:
        if award.rule.hand_raiser:
            raised = award.event
    fit = grade(model.icp, fields_known(lead, at))
    return _facts(model, evaluation.state, fit, raised, at), fit


def _facts(
    model: Model,
    state: ScoreState,
    fit: Fit | None,
    raised: EventFacts | None,
    at: datetime,
) -> LeadFacts:
    """The readiness facts at ``at``; without ``fit``, the best grade (see ``replay``)."""
    score = state.score(at, model.scoring.half_life)
    return LeadFacts(
        lead_id=0,
        stage=HISTORY_STAGE,
        stage_changed_at=None,
        fit_grade=fit.grade if fit else BEST_GRADE,
        fit_score=fit.score if fit else None,
        score=score,
        temperature=model.scoring.bands.temperature(score),
        hand_raised_at=raised.occurred_at if raised else None,
        hand_raise_event=raised.type if raised else None,
    )


def replay(model: Model, lead: HistoryLead, *, until: datetime | None = None) -> Replay:
    """When ``model``'s readiness rule would first have handed ``lead`` over (before it
    converted, and before ``until`` when given), with the rule and its reasons; or, when
    never, why not at the last moment it was asked (for converters: the report lists the
    ones missed; ``unmet`` is empty for the others, which saves grading them).

    The fit is graded only when it matters: a moment is first asked with the best grade,
    and only when some rule holds with it is the lead graded (with the fields known then)
    and asked again. A grade never makes readiness easier than the best one does, so the
    answer is the same; grading is most of the cost of a replay.
    """
    end = lead.outcome.converted_at if lead.outcome.converted else None
    if until is not None and (end is None or until < end):
        end = until
    if end is not None and lead.created_at >= end:
        return Replay(lead)
    every_event = not model.rises_only
    pending_facts: datetime | None = None
    if (
        lead.facts_at is not None
        and lead.facts_at > lead.created_at
        and model.reads_aggregates
        and lead.has_aggregates
    ):
        pending_facts = lead.facts_at
    state = EMPTY
    raised: EventFacts | None = None
    asked: tuple[ScoreState, EventFacts | None, datetime] | None = None

    half_life = model.scoring.half_life

    def ask(at: datetime) -> Replay | None:
        nonlocal asked
        asked = (state, raised, at)
        if not model.may_hold(state.score(at, half_life), raised is not None):
            return None
        facts = _facts(model, state, None, raised, at)
        if evaluate_readiness(model.readiness, facts, at).rule is None:
            return None
        fit = model.grade(fields_known(lead, at))
        facts = _facts(model, state, fit, raised, at)
        verdict = evaluate_readiness(model.readiness, facts, at)
        if verdict.rule is None:
            return None
        return Replay(
            lead,
            handed_over_at=at,
            rule=verdict.rule.id,
            reasons=verdict.reasons,
            checked_at=at,
            fit_grade=fit.grade,
            score=facts.score,
        )

    events = lead.events
    if not every_event:
        # Events no scoring rule scores change nothing a rule reads (the live scorer does
        # not even load them); with rules that only start holding as a score rises, they
        # are not moments worth asking at.
        scored = model.scoring.event_types
        events = tuple(event for event in events if event.type in scored)
    # The first moment is the creation, unless events come at or before it (then theirs).
    found = None if events and events[0].occurred_at <= lead.created_at else ask(lead.created_at)
    rising = False
    for index, event in enumerate(events):
        if found is not None:
            return found
        at = event.occurred_at
        if end is not None and at >= end:
            break
        if pending_facts is not None and pending_facts <= at:
            moment, pending_facts = pending_facts, None
            if moment < at:
                found = ask(moment)
                if found is not None:
                    return found
            rising = True
        state, awards = fold(model.scoring, state, (event,), at)
        rising = rising or every_event
        for award in awards:
            if award.rule.hand_raiser:
                raised, rising = event, True
            if award.points > 0:
                rising = True
        # Events of one instant are one moment: the rules see them all at once.
        if index + 1 < len(events) and events[index + 1].occurred_at == at:
            continue
        if rising:
            found = ask(at)
        rising = False
    if found is None and pending_facts is not None and (end is None or pending_facts < end):
        found = ask(pending_facts)
    if found is not None:
        return found
    if asked is None or not lead.outcome.converted:
        return Replay(lead, checked_at=asked[2] if asked else None)
    state, raised, at = asked
    fit = model.grade(fields_known(lead, at))
    facts = _facts(model, state, fit, raised, at)
    verdict = evaluate_readiness(model.readiness, facts, at)
    return Replay(lead, unmet=verdict.unmet, checked_at=at, fit_grade=fit.grade, score=facts.score)
