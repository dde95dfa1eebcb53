"""Who gets a qualified lead: pure assignment rules. No session, no clock.

The order, as sales teams expect it:

1. **The account owner.** A lead whose company already has an owner goes to that rep, as
   long as the rep is active and not out of office. Capacity does not stop it: splitting one
   account between two reps costs more than one more lead in a full queue.
2. **The team file's rules**, in order. A rule applies to leads of its ``when`` (segment,
   territory); its candidates are the reps who cover what it ``match``es (the lead's
   territory and/or segment) and, if it names ``reps``, only those. The first rule with an
   *available* candidate wins.
3. **Round-robin among every available rep** (``fallback: round-robin``), unless the file
   says ``fallback: unassigned``.
4. Nobody available: the handoff is created without an owner and flagged, and the manager
   is told. A lead is never dropped.

Available means active, in the team, not out of office today (in the rep's timezone) and
below capacity (open handoffs). Among a rule's available candidates the rotation picks the
rep whose last assignment is oldest (``last_assigned_seq``, kept in the database so several
workers agree).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from nurture.handoff.team import AssignmentRule, Rep, Team


@dataclass(frozen=True)
class RepState:
    """What the database knows about a rep right now."""

    id: int
    email: str
    name: str
    active: bool
    in_team: bool
    timezone: str
    capacity: int | None
    out_of_office_until: date | None
    open_handoffs: int
    last_assigned_seq: int


@dataclass(frozen=True)
class LeadFacts:
    """What assignment looks at: the lead's country, its account's size and owner."""

    country: str | None
    employees: int | None
    account_name: str | None = None
    account_owner_id: int | None = None


@dataclass(frozen=True)
class Assignment:
    """The decision: the rep (None when nobody is available), how, and why."""

    rep_id: int | None
    method: str  # account_owner | rule | round_robin | unassigned
    reason: str
    rule: str | None = None
    segment: str | None = None
    skipped: tuple[tuple[str, str], ...] = ()
    # True when no assignment rule applies to the lead at all (``unassigned`` fallback).
    no_rule: bool = False
    # The lead's country as assignment saw it (None: unknown).
    country: str | None = None

    @property
    def assigned(self) -> bool:
        return self.rep_id is not None


def unavailable_because(
    state: RepState, now: datetime, *, ignore_capacity: bool = False
) -> str | None:
    """Why ``state`` cannot take a lead at ``now``, or None when the rep can."""
    if not state.in_team:
        return "no longer in the team file"
    if not state.active:
        return "inactive"
    if state.out_of_office_until is not None:
        today = now.astimezone(ZoneInfo(state.timezone)).date()
        if today <= state.out_of_office_until:
            return f"out of office until {state.out_of_office_until.isoformat()}"
    if not ignore_capacity and state.capacity is not None and state.open_handoffs >= state.capacity:
        return f"at capacity ({state.open_handoffs} of {state.capacity} open)"
    return None


def next_in_rotation(candidates: Sequence[RepState]) -> RepState:
    """The candidate whose last assignment is the oldest (never assigned first)."""
    return min(candidates, key=lambda state: (state.last_assigned_seq, state.id))


def assign(
    team: Team, lead: LeadFacts, states: Mapping[str, RepState], now: datetime
) -> Assignment:
    """Choose the owner of a qualified lead (see the module docstring for the order).

    ``states`` maps each rep's email to its current state; reps of the file missing from it
    (not synced yet) are not candidates.
    """
    skipped: list[tuple[str, str]] = []
    segment = team.segment_for(lead.employees)
    by_id = {state.id: state for state in states.values()}

    owner = by_id.get(lead.account_owner_id) if lead.account_owner_id is not None else None
    if owner is not None:
        why = unavailable_because(owner, now, ignore_capacity=True)
        if why is None:
            company = lead.account_name or "the account"
            return Assignment(
                owner.id, "account_owner", f"{owner.name} owns {company}", segment=segment
            )
        skipped.append((owner.email, f"account owner, {why}"))

    for rule in team.rules:
        if not _rule_applies(rule, lead.country, segment):
            continue
        covering = [
            states[rep.email]
            for rep in team.reps
            if rep.email in states and _covers(rule, rep, lead.country, segment)
        ]
        if not covering:
            continue
        available, away = _split(covering, now)
        skipped.extend(away)
        if not available:
            continue
        chosen = next_in_rotation(available)
        return Assignment(
            chosen.id,
            "rule",
            _rule_reason(rule, chosen, available, lead.country, segment) + _skipped_text(skipped),
            rule=rule.id,
            segment=segment,
            skipped=tuple(skipped),
        )

    if team.fallback == "round-robin":
        everyone = [states[rep.email] for rep in team.reps if rep.email in states]
        available, away = _split(everyone, now)
        skipped.extend(item for item in away if item not in skipped)
        if available:
            chosen = next_in_rotation(available)
            reason = (
                f"round-robin among the {len(available)} available reps "
                f"(no assignment rule had an available rep for {_lead_text(lead.country, segment)})"
            )
            return Assignment(
                chosen.id,
                "round_robin",
                reason + _skipped_text(skipped),
                segment=segment,
                skipped=tuple(skipped),
            )
    reason = f"nobody available for {_lead_text(lead.country, segment)}"
    no_rule = team.fallback == "unassigned" and not skipped
    if no_rule:
        reason = f"no assignment rule matched {_lead_text(lead.country, segment)}"
    return Assignment(
        None,
        "unassigned",
        reason + _skipped_text(skipped),
        segment=segment,
        skipped=tuple(skipped),
        no_rule=no_rule,
        country=lead.country,
    )


def _rule_applies(rule: AssignmentRule, country: str | None, segment: str | None) -> bool:
    if rule.segments is not None and segment not in rule.segments:
        return False
    return rule.countries is None or country in rule.countries


def _covers(rule: AssignmentRule, rep: Rep, country: str | None, segment: str | None) -> bool:
    if rule.reps and rep.email not in rule.reps:
        return False
    if "territory" in rule.match and (country is None or country not in rep.countries):
        return False
    return "segment" not in rule.match or (segment is not None and segment in rep.segments)


def _split(
    candidates: Sequence[RepState], now: datetime
) -> tuple[list[RepState], list[tuple[str, str]]]:
    available: list[RepState] = []
    away: list[tuple[str, str]] = []
    for state in candidates:
        why = unavailable_because(state, now)
        if why is None:
            available.append(state)
        else:
            away.append((state.email, why))
    return available, away


def _lead_text(country: str | None, segment: str | None) -> str:
    return f"{country or 'unknown country'}, {segment or 'unknown size'}"


def _rule_reason(
    rule: AssignmentRule,
    chosen: RepState,
    available: Sequence[RepState],
    country: str | None,
    segment: str | None,
) -> str:
    covers = []
    if "territory" in rule.match:
        covers.append(f"covers {country}")
    if "segment" in rule.match:
        covers.append(f"{segment} accounts")
    what = " and ".join(covers) or "named by the rule"
    reason = f"rule {rule.id}: {chosen.name} {what}"
    if len(available) > 1:
        others = ", ".join(state.name for state in available if state.id != chosen.id)
        reason += f"; next in rotation before {others}"
    return reason


def _skipped_text(skipped: Sequence[tuple[str, str]]) -> str:
    if not skipped:
        return ""
    return " (skipped: " + "; ".join(f"{email} {why}" for email, why in skipped) + ")"
