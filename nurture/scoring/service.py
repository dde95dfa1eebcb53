"""Scoring use cases: rescoring leads after events, cooling temperatures as scores decay,
rescoring everyone after a model change, and explaining a lead's score.

These run inside the caller's transaction (the tracking batch, the tick), so a score
commits together with the events that caused it; ``rescore_everyone`` owns one transaction
per batch.

A rescore after new events adds them to the lead's stored score state without reading
its history (``nurture.scoring.incremental``); it recomputes from every event when the
state cannot be extended (no state, another model version, an event older than the
newest scored, a rewritten history) and always for ``rescore_everyone`` (``nurture
scoring rescore``). Both give the same numbers: docs/scoring.md, "How the score is kept".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from nurture.campaigns.enrolment import lead_changed
from nurture.models import Campaign, Event, Lead, Message
from nurture.platform import hooks
from nurture.platform.db import transaction
from nurture.scoring.incremental import evaluate_leads, load_event_facts
from nurture.scoring.model import EventFacts, is_hand_raiser
from nurture.scoring.rules import Evaluation, Explanation, cools_at, explain
from nurture.scoring.versions import ActiveModel, active_model


@dataclass(frozen=True)
class ScoreChange:
    """What a rescore did to one lead. Scores are decayed values at the rescore's ``now``."""

    lead_id: int
    score_before: float
    score: float
    temperature_before: str
    temperature: str
    # Set when this rescore found a hand-raise newer than the one recorded on the lead.
    hand_raised_at: datetime | None = None
    enrolments_due: int = 0

    @property
    def temperature_changed(self) -> bool:
        return self.temperature != self.temperature_before


def rescore_leads(
    session: Session,
    lead_ids: Iterable[int],
    now: datetime,
    *,
    reason: str = "events",
    full: bool = False,
) -> list[ScoreChange]:
    """Bring the scores of ``lead_ids`` up to date with their human events under the
    active model: from each lead's stored score state and the events added since, or from
    all its events when that state cannot be extended (``nurture.scoring.incremental``) or
    with ``full``. Both give the same numbers.

    Updates ``score_value``/``score_as_of``/``temperature`` (and the hand-raise) on each
    lead; when the temperature band changes, writes a ``temperature.changed`` event and calls
    ``nurture.campaigns.enrolment.lead_changed`` so the lead's enrolments move to the matching track
    at once. A new hand-raise writes ``lead.hand_raised`` and calls it too. Returns one
    ScoreChange per lead found; nothing (an empty list) before a model is synced.
    """
    ids = sorted(set(lead_ids))
    if not ids:
        return []
    active = active_model(session)
    if active is None:
        return []
    # Locking the rows (PostgreSQL; SQLite's write lock already serialises) makes two
    # concurrent rescores of one lead run one after the other, so the second one sees the
    # first one's committed events instead of overwriting a newer score with an older one.
    leads = session.scalars(
        select(Lead).where(Lead.id.in_(ids)).order_by(Lead.id).with_for_update()
    ).all()
    found = [lead.id for lead in leads]
    evaluations = evaluate_leads(session, found, active.model, active.version_id, now, full=full)
    changes = [_apply(session, lead, evaluations[lead.id], active, reason) for lead in leads]
    if reason != "decay":
        # Event-driven readiness (docs/qualification.md): a score or hand-raise that makes
        # a lead an MQL hands it to sales in this same transaction. Cooling never does.
        hooks.publish(hooks.leads_rescored, session, lead_ids=ids, now=now)
    return changes


def _apply(
    session: Session, lead: Lead, evaluation: Evaluation, active: ActiveModel, reason: str
) -> ScoreChange:
    now = evaluation.now
    model = active.model
    score_before = lead.decayed_score(now)
    temperature_before = lead.temperature
    score = evaluation.score
    temperature = model.bands.temperature(score)
    lead.score_value = score
    lead.score_as_of = now
    lead.score_version_id = active.version_id
    lead.score_half_life = model.half_life.total_seconds()
    lead.temperature_cools_at = cools_at(model, score, now, temperature)

    new_hand_raise = None
    if evaluation.hand_raises:
        latest = evaluation.hand_raises[-1]
        when = latest.event.occurred_at
        if lead.hand_raised_at is None or when > lead.hand_raised_at:
            lead.hand_raised_at = new_hand_raise = when
            session.add(
                _timeline_event(
                    lead,
                    "lead.hand_raised",
                    now,
                    {
                        "event_id": latest.event.id,
                        "event_type": latest.event.type,
                        "rule": latest.rule.id,
                        "raised_at": when.isoformat(),
                    },
                )
            )
    if temperature != temperature_before:
        lead.temperature = temperature
        session.add(
            _timeline_event(
                lead,
                "temperature.changed",
                now,
                {
                    "from": temperature_before,
                    "to": temperature,
                    "score": round(score, 2),
                    "score_before": round(score_before, 2),
                    "reason": reason,
                    "scoring_version": active.number,
                },
            )
        )
    due = 0
    if temperature != temperature_before or new_hand_raise is not None:
        session.flush()
        due = lead_changed(session, lead, now)
    return ScoreChange(
        lead.id, score_before, score, temperature_before, temperature, new_hand_raise, due
    )


def _timeline_event(lead: Lead, kind: str, now: datetime, properties: dict) -> Event:
    return Event(
        lead_id=lead.id,
        type=kind,
        occurred_at=now,
        recorded_at=now,
        is_machine=False,
        machine_reasons=[],
        properties=properties,
    )


def cool_temperatures(session: Session, now: datetime, *, limit: int = 500) -> list[ScoreChange]:
    """Rescore leads whose decayed score has fallen below their band's floor by ``now``.

    Each lead records when that happens (``temperature_cools_at``, indexed), so a tick reads
    one short index range instead of every lead, and nothing rewrites scores on a schedule.
    """
    query = (
        select(Lead.id)
        .where(Lead.temperature_cools_at <= now)
        .order_by(Lead.temperature_cools_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Workers sharing the database take disjoint leads instead of waiting on each other.
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    return rescore_leads(session, ids, now, reason="decay") if ids else []


@dataclass(frozen=True)
class RescoreSummary:
    """What ``rescore_everyone`` did."""

    leads: int
    changed_temperature: int
    version: int | None


def rescore_everyone(
    sessions: sessionmaker[Session],
    now: datetime,
    *,
    batch_size: int = 500,
    only_stale: bool = False,
    on_batch: Callable[[int, int], None] | None = None,
) -> RescoreSummary:
    """Rescore every lead (or, with ``only_stale``, those scored by another model version)
    in batches of ``batch_size``, one transaction per batch.

    ``on_batch(done, total)`` is called after each batch (the CLI's progress bar).
    """
    with transaction(sessions) as session:
        active = active_model(session)
        if active is None:
            return RescoreSummary(0, 0, None)
        base = select(Lead.id)
        if only_stale:
            base = base.where(
                (Lead.score_version_id.is_(None)) | (Lead.score_version_id != active.version_id)
            )
        total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    done = changed = 0
    after = 0
    while True:
        with transaction(sessions) as session:
            query = base.where(Lead.id > after).order_by(Lead.id).limit(batch_size)
            ids = list(session.scalars(query))
            if not ids:
                break
            changes = rescore_leads(session, ids, now, reason="model", full=True)
        after = ids[-1]
        done += len(ids)
        changed += sum(1 for change in changes if change.temperature_changed)
        if on_batch is not None:
            on_batch(done, total)
    return RescoreSummary(done, changed, active.number)


@dataclass(frozen=True)
class LeadScore:
    """A lead's score now, explained; ``version`` is the active model's number."""

    explanation: Explanation
    version: int
    model_name: str
    stored_score: float
    stored_version_id: int | None
    hand_raised_at: datetime | None


def lead_score(session: Session, lead: Lead, now: datetime) -> LeadScore | None:
    """Explain ``lead``'s score at ``now`` under the active model (None before any sync).

    Read-only: it recomputes from the events, so the explanation always adds up to the
    score it shows, even for a lead not yet rescored with the active version.
    """
    active = active_model(session)
    if active is None:
        return None
    events = load_event_facts(session, [lead.id], active.model.event_types).get(lead.id, [])
    return LeadScore(
        explanation=explain(active.model, events, now),
        version=active.number,
        model_name=active.model.name,
        stored_score=lead.decayed_score(now),
        stored_version_id=lead.score_version_id,
        hand_raised_at=lead.hand_raised_at,
    )


def event_is_hand_raiser(session: Session, event: Event) -> bool:
    """True when ``event`` (a stored, human event) is a hand-raise under the active model."""
    if event.is_machine:
        return False
    active = active_model(session)
    if active is None:
        return False
    campaign = template = None
    if event.campaign_id is not None:
        campaign = session.scalar(select(Campaign.key).where(Campaign.id == event.campaign_id))
    if event.message_id is not None:
        template = session.scalar(select(Message.template).where(Message.id == event.message_id))
    facts = EventFacts(
        event.id, event.type, event.occurred_at, event.properties or {}, campaign, template
    )
    return is_hand_raiser(facts, active.model)
