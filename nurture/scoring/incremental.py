"""Scoring leads from their stored score state, reading only the events added since.

A rescore after new events reads, per lead, the stored :class:`ScoreState` (one row of
``lead_score_states``) and the human events of the scored types with a higher id than any
folded in, and folds them in (``nurture.scoring.state.fold``): the lead's
history is not loaded. It falls back to folding the whole history when the stored state
cannot be trusted to extend:

- there is no state, or it was made under another model version;
- a new event happened before the newest one folded in (an events-API call with a past
  ``occurred_at``, hits processed late);
- the events folded in are no longer the lead's scored events: the count and id sum of
  the lead's human events of the scored types, up to the highest id folded in, differ from
  the state's (an anonymous history moved onto the lead, a click reclassified as a
  scanner's, an event of a concurrent transaction committed after a later one). That
  check is one aggregate over ``ix_events_lead_id_scored``, read from the index alone.

Every rescore, full or not, writes the new state.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import Integer, and_, column, func, select, values
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import CTE

from nurture.models import Campaign, Event, LeadScoreState, Message
from nurture.scoring.model import EventFacts, ScoringModel
from nurture.scoring.rules import Evaluation, advance, evaluate
from nurture.scoring.state import ScoreState, sort_key


def load_event_facts(
    session: Session,
    lead_ids: Sequence[int],
    event_types: Iterable[str],
    *,
    after: dict[int, int] | None = None,
) -> dict[int, list[EventFacts]]:
    """Human events of the given types for each lead, with the email's campaign and
    template; with ``after`` (lead id → event id), only the events of those leads with a
    higher id than given."""
    types = sorted(set(event_types))
    found: dict[int, list[EventFacts]] = defaultdict(list)
    if not lead_ids or not types:
        return found
    query = (
        select(
            Event.id,
            Event.lead_id,
            Event.type,
            Event.occurred_at,
            Event.properties,
            Campaign.key,
            Message.template,
        )
        .outerjoin(Message, Message.id == Event.message_id)
        .outerjoin(Campaign, Campaign.id == Event.campaign_id)
        .where(Event.is_machine.is_(False), Event.type.in_(types))
    )
    if after is None:
        query = query.where(Event.lead_id.in_(list(lead_ids)))
    else:
        # One index range per lead (ix_events_lead_id_scored), whatever the others' ids.
        marks = _marks(lead_ids, after)
        query = query.join(marks, and_(Event.lead_id == marks.c.lead_id, Event.id > marks.c.mark))
    rows = session.execute(query).all()
    for event_id, lead_id, event_type, occurred_at, properties, campaign, template in rows:
        found[lead_id].append(
            EventFacts(event_id, event_type, occurred_at, properties or {}, campaign, template)
        )
    return found


def evaluate_leads(
    session: Session,
    lead_ids: Sequence[int],
    model: ScoringModel,
    version_id: int,
    now: datetime,
    *,
    full: bool = False,
) -> dict[int, Evaluation]:
    """Each lead's score at ``now`` under ``model``: from its stored state and the events
    added since where that state holds, from all its events otherwise (or with ``full``).
    Stores the new state of every lead. ``awards`` are those of the events folded in."""
    rows = {
        row.lead_id: row
        for row in session.scalars(
            select(LeadScoreState).where(LeadScoreState.lead_id.in_(list(lead_ids)))
        )
    }
    states = {
        lead_id: state_of(row)
        for lead_id, row in rows.items()
        if not full and row.version_id == version_id and row.max_id is not None
    }
    evaluations: dict[int, Evaluation] = {}
    if states:
        ids = sorted(states)
        new = load_event_facts(
            session,
            ids,
            model.event_types,
            after={lead_id: states[lead_id].max_id or 0 for lead_id in ids},
        )
        counts = _scored_events(session, ids, model.event_types, states)
        for lead_id in ids:
            state = states[lead_id]
            events = sorted(new.get(lead_id, ()), key=sort_key)
            if counts.get(lead_id, (0, 0)) == (state.events, state.id_sum) and all(
                state.precedes(event) for event in events
            ):
                evaluations[lead_id] = advance(model, state, events, now)
    rest = [lead_id for lead_id in lead_ids if lead_id not in evaluations]
    if rest:
        history = load_event_facts(session, rest, model.event_types)
        for lead_id in rest:
            evaluations[lead_id] = evaluate(model, history.get(lead_id, ()), now)
    for lead_id, evaluation in evaluations.items():
        _store(session, rows.get(lead_id), lead_id, version_id, evaluation.state)
    return evaluations


def _scored_events(
    session: Session,
    lead_ids: Sequence[int],
    event_types: Iterable[str],
    states: dict[int, ScoreState],
) -> dict[int, tuple[int, int]]:
    """How many human events of the scored types each lead has up to the highest id its
    state folded in, and the sum of their ids (read from the index alone)."""
    types = sorted(set(event_types))
    marks = _marks(lead_ids, {lead_id: states[lead_id].max_id or 0 for lead_id in lead_ids})
    rows = session.execute(
        select(Event.lead_id, func.count(), func.sum(Event.id))
        .join(marks, and_(Event.lead_id == marks.c.lead_id, Event.id <= marks.c.mark))
        .where(Event.is_machine.is_(False), Event.type.in_(types))
        .group_by(Event.lead_id)
    )
    return {int(lead_id or 0): (count, int(total or 0)) for lead_id, count, total in rows}


def _marks(lead_ids: Sequence[int], marks: dict[int, int]) -> CTE:
    """A ``(lead_id, mark)`` row per lead, to join the events with: the database then
    seeks each lead's range in the index instead of reading every lead's events. (A CTE,
    because SQLite does not name the columns of a VALUES list in FROM.)"""
    rows = values(column("lead_id", Integer), column("mark", Integer), name="marks")
    return rows.data([(lead_id, marks[lead_id]) for lead_id in lead_ids]).cte("marks")


def state_of(row: LeadScoreState) -> ScoreState:
    """The stored state as the pure value."""
    return ScoreState(
        value=row.value,
        value_at=row.value_at,
        last_at=row.last_at,
        last_id=row.last_id,
        max_id=row.max_id,
        events=row.events,
        id_sum=row.id_sum,
        day=date.fromisoformat(row.day) if row.day else None,
        day_used=dict(row.day_used or {}),
        total_used=dict(row.total_used or {}),
    )


def _store(
    session: Session,
    row: LeadScoreState | None,
    lead_id: int,
    version_id: int,
    state: ScoreState,
) -> None:
    if row is None:
        row = LeadScoreState(lead_id=lead_id)
        session.add(row)
    row.version_id = version_id
    row.value = state.value
    row.value_at = state.value_at
    row.last_at = state.last_at
    row.last_id = state.last_id
    row.max_id = state.max_id
    row.events = state.events
    row.id_sum = state.id_sum
    row.day = state.day.isoformat() if state.day else None
    row.day_used = dict(state.day_used)
    row.total_used = dict(state.total_used)
