"""The drip rules: given a campaign, where an enrolment stands, what is known about the lead,
and ``now``, decide what happens next. Pure: no database, no clock, no I/O.

One call to :func:`advance` runs an enrolment forward as far as it can go at ``now``: it
checks exits and the goal, moves the enrolment to the track that matches the lead's stage and
temperature, and walks steps (branches are instant, sends are emitted, waits and closed send
windows stop the walk with a due time). It emits at most one email per call; a following send
step is left due a minute later, when the next pass re-checks the window and the cap.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from nurture.campaigns.schedule import (
    cap_frees_at,
    next_window_opening,
    quiet_hours_end,
    wait_until,
    zone,
)
from nurture.campaigns.spec import (
    AllOf,
    AnyOf,
    AttributeCompare,
    BranchStep,
    Campaign,
    Clicked,
    Condition,
    EventSeen,
    ExitStep,
    FrequencyCap,
    Not,
    Opened,
    ScoreCompare,
    SendStep,
    SendWindow,
    StageIn,
    TemperatureIn,
    Track,
    Unsubscribed,
    WaitStep,
    step_key,
)

# A campaign whose branches loop without a wait would spin forever; stop and park it.
MAX_STEPS_PER_PASS = 200
# Two send steps in a row still leave this gap: nobody should get two emails in the same
# second, and a tick that claims work due "now" must not find the same enrolment again.
BACK_TO_BACK_GAP = timedelta(minutes=1)
# The exit reason of an enrolment that met the campaign's ``goal:`` (reports count these as
# conversions, with the exits at a step marked ``goal: true``).
GOAL_REACHED = "goal reached"


@dataclass(frozen=True)
class LeadFacts:
    """What the rules may know about a lead, gathered by the I/O layer before a pass."""

    stage: str
    temperature: str
    mailable: bool = True
    score: float = 0.0
    timezone: str | None = None
    # Lead fields, ``attributes.<key>`` and ``account.<field>`` by name, for conditions.
    fields: Mapping[str, Any] = field(default_factory=dict)
    # Step ids (in this enrolment) whose email a human opened / clicked (with the URLs).
    opened_steps: frozenset[str] = frozenset()
    clicked: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # Latest human occurrence of each event type since the enrolment began.
    events: Mapping[str, datetime] = field(default_factory=dict)
    # Templates this enrolment already sent: never sent twice, even after a track switch.
    sent_templates: frozenset[str] = frozenset()
    # When campaign emails (from any campaign) went to this lead recently, for the cap.
    recent_sends: Sequence[datetime] = ()
    # Sending policy (per-domain throttle, warm-up cap): no email before this time.
    send_blocked_until: datetime | None = None
    send_blocked_reason: str = ""


@dataclass(frozen=True)
class Position:
    """Where an enrolment stands: ``step`` None means at the start of ``track``."""

    track: str
    step: str | None
    step_started_at: datetime | None = None


@dataclass(frozen=True)
class Defaults:
    """Settings that apply when a campaign does not set its own."""

    send_window: SendWindow
    frequency_cap: FrequencyCap
    timezone: str = "UTC"
    # Wall-clock hours (start, end) in the lead's timezone when no campaign may send,
    # whatever its own window says; None for no quiet hours.
    quiet_hours: tuple[time, time] | None = None


@dataclass(frozen=True)
class Send:
    """Send ``template`` for the step ``key`` (``track/step``) now."""

    key: str
    track: str
    step: str
    template: str


@dataclass(frozen=True)
class HistoryEntry:
    action: str
    track: str | None
    step: str | None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Decision:
    """The outcome of one pass over an enrolment."""

    position: Position
    status: str = "active"  # active | completed | exited
    next_due_at: datetime | None = None
    exit_reason: str | None = None
    goal: bool = False
    send: Send | None = None
    history: list[HistoryEntry] = field(default_factory=list)


# ---------------------------------------------------------------- conditions


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a is not None and a > b,
    "gte": lambda a, b: a is not None and a >= b,
    "lt": lambda a, b: a is not None and a < b,
    "lte": lambda a, b: a is not None and a <= b,
    "in": lambda a, b: a in (b or ()),
    "not_in": lambda a, b: a not in (b or ()),
    "exists": lambda a, b: (a is not None and a != "") == (True if b is None else bool(b)),
    "contains": lambda a, b: a is not None and str(b).lower() in str(a).lower(),
}


def evaluate(condition: Condition, facts: LeadFacts, now: datetime) -> bool:
    """True when ``condition`` holds for the lead at ``now``."""
    match condition:
        case Opened(step=step):
            return step in facts.opened_steps
        case Clicked(step=step, url=url):
            urls = facts.clicked.get(step)
            if urls is None:
                return False
            return url is None or any(url in clicked for clicked in urls)
        case StageIn(stages=stages):
            return facts.stage in stages
        case TemperatureIn(temperatures=temperatures):
            return facts.temperature in temperatures
        case ScoreCompare(op=op, value=value):
            return _safe_compare(op, facts.score, value)
        case AttributeCompare(name=name, op=op, value=value):
            return _safe_compare(op, facts.fields.get(name), value)
        case EventSeen(type=event_type, within=within):
            seen = facts.events.get(event_type)
            return seen is not None and (within is None or seen >= now - within)
        case Unsubscribed():
            return not facts.mailable
        case AllOf(items=items):
            return all(evaluate(item, facts, now) for item in items)
        case AnyOf(items=items):
            return any(evaluate(item, facts, now) for item in items)
        case Not(item=item):
            return not evaluate(item, facts, now)
    raise TypeError(f"unknown condition {condition!r}")


def _safe_compare(op: str, actual: Any, expected: Any) -> bool:
    # A condition comparing text with a number is a false condition, not a crashed worker.
    try:
        return bool(_COMPARE[op](actual, expected))
    except TypeError:
        return False


# ---------------------------------------------------------------- the walk


def choose_track(campaign: Campaign, facts: LeadFacts) -> Track | None:
    """The track a lead belongs on now (the first match in file order)."""
    return campaign.track_for(facts.stage, facts.temperature)


def advance(
    campaign: Campaign,
    position: Position,
    facts: LeadFacts,
    now: datetime,
    defaults: Defaults,
) -> Decision:
    """Run one enrolment forward at ``now`` and say what to do."""
    decision = Decision(position=position)

    if not facts.mailable:
        return _finish(decision, "exited", "unsubscribed")
    for reason, rule in campaign.exit_rules:
        if evaluate(rule, facts, now):
            return _finish(decision, "exited", reason)
    if campaign.goal is not None and evaluate(campaign.goal, facts, now):
        decision.goal = True
        return _finish(decision, "completed", GOAL_REACHED)

    track = choose_track(campaign, facts)
    if track is None:
        return _finish(decision, "exited", "no track matches the lead")
    step_id = position.step
    started = position.step_started_at
    if track.id != position.track:
        decision.history.append(
            HistoryEntry(
                "switched",
                track.id,
                None,
                {"from": position.track, "stage": facts.stage, "temperature": facts.temperature},
            )
        )
        step_id, started = None, None
    decision.position = Position(track.id, step_id, started)

    tz = zone(facts.timezone, defaults.timezone)
    window = campaign.send_window or defaults.send_window
    if campaign.send_window and campaign.send_window.timezone:
        window_tz = zone(campaign.send_window.timezone, defaults.timezone)
    else:
        window_tz = tz
    cap = campaign.frequency_cap or defaults.frequency_cap
    steps = {step.id: index for index, step in enumerate(track.steps)}
    sent_templates = set(facts.sent_templates)
    index = steps.get(step_id, 0) if step_id is not None else 0

    for _ in range(MAX_STEPS_PER_PASS):
        if index >= len(track.steps):
            return _finish(decision, "completed", "end of track")
        step = track.steps[index]
        decision.position = Position(track.id, step.id, decision.position.step_started_at)

        if isinstance(step, SendStep):
            if step.template in sent_templates:
                decision.history.append(
                    HistoryEntry("skipped", track.id, step.id, {"reason": "already received"})
                )
                index += 1
                continue
            if decision.send is not None:
                # One email per pass: the next send waits a short gap and is re-checked
                # against the window and the cap then.
                decision.next_due_at = now + BACK_TO_BACK_GAP
                return decision
            opening = next_window_opening(now, window, window_tz)
            if opening > now:
                return _defer(decision, opening, "outside send window")
            if defaults.quiet_hours is not None:
                quiet_end = quiet_hours_end(now, *defaults.quiet_hours, tz)
                if quiet_end is not None:
                    return _defer(decision, quiet_end, "quiet hours")
            frees = cap_frees_at(facts.recent_sends, now, cap)
            if frees > now:
                return _defer(decision, frees, "frequency cap")
            if facts.send_blocked_until is not None and facts.send_blocked_until > now:
                return _defer(decision, facts.send_blocked_until, facts.send_blocked_reason)
            decision.send = Send(step_key(track.id, step.id), track.id, step.id, step.template)
            sent_templates.add(step.template)
            decision.history.append(
                HistoryEntry("sent", track.id, step.id, {"template": step.template})
            )
            index += 1
            decision.position = Position(track.id, step.id, None)
            continue

        if isinstance(step, WaitStep):
            began = decision.position.step_started_at
            if began is None:
                began = now
                decision.history.append(HistoryEntry("waiting", track.id, step.id, {}))
            due = wait_until(began, step, tz)
            if due > now:
                decision.position = Position(track.id, step.id, began)
                decision.next_due_at = due
                return decision
            decision.position = Position(track.id, step.id, None)
            index += 1
            continue

        if isinstance(step, BranchStep):
            holds = evaluate(step.condition, facts, now)
            target = step.then if holds else step.otherwise
            decision.history.append(
                HistoryEntry("branched", track.id, step.id, {"result": holds, "to": target})
            )
            index = steps[target] if target is not None else index + 1
            decision.position = Position(track.id, step.id, None)
            continue

        if isinstance(step, ExitStep):
            decision.goal = step.goal
            status = "completed"
            return _finish(decision, status, step.reason)

        raise TypeError(f"unknown step {step!r}")

    decision.history.append(
        HistoryEntry("stuck", track.id, decision.position.step, {"limit": MAX_STEPS_PER_PASS})
    )
    return _finish(decision, "exited", "campaign loops without a wait")


def _finish(decision: Decision, status: str, reason: str) -> Decision:
    decision.status = status
    decision.exit_reason = reason
    decision.next_due_at = None
    decision.history.append(
        HistoryEntry(status, decision.position.track, decision.position.step, {"reason": reason})
    )
    return decision


def _defer(decision: Decision, until: datetime, why: str) -> Decision:
    decision.next_due_at = until
    decision.history.append(
        HistoryEntry(
            "deferred",
            decision.position.track,
            decision.position.step,
            {"until": until.isoformat(), "reason": why},
        )
    )
    return decision
