"""Qualification use cases: grading leads against the ICP, and finding the leads that meet
the MQL definition now and handing them to sales.

Everything here runs in the caller's transaction (the lead upsert, the tracking batch's
rescore), so a grade or a handoff commits together with the change that caused it — which
is what makes the handoff event-driven: a demo request scored by the tracking processor
is an MQL in the same commit, within a second of the click. ``regrade_everyone`` owns one
transaction per batch.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from nurture.campaigns.facts import lead_fields
from nurture.handoff import hand_off
from nurture.leads.lifecycle import QUALIFIABLE
from nurture.models import Account, Event, Handoff, Lead
from nurture.models.lead import decayed_score
from nurture.platform.db import among, one_of_known, transaction
from nurture.qualification.grading import (
    FitChange,
    fit_changed_event,
    fit_values,
    regrade_batch,
)
from nurture.qualification.hand_raises import answer_hand_raises
from nurture.qualification.icp import Fit, grade
from nurture.qualification.readiness import (
    ContactFacts,
    LeadFacts,
    Qualification,
    Readiness,
    Verdict,
    cannot_be_ready,
    evaluate,
)
from nurture.qualification.versions import ActiveICP, active_icp, active_readiness

log = logging.getLogger(__name__)


def fit_of(icp: ActiveICP, lead: Lead) -> Fit:
    """The lead's fit under ``icp`` now (pure evaluation over the lead's and account's fields)."""
    return grade(icp.icp, lead_fields(lead))


def regrade_leads(
    session: Session, leads: Iterable[Lead | int], now: datetime, *, reason: str = "data"
) -> list[FitChange]:
    """Grade ``leads`` (objects or ids) with the active ICP and store the result on them.

    Stores ``fit_score``/``fit_grade``/``fit_reasons``/``fit_missing``/``fit_graded_at`` and
    the ICP version; a grade that changes (or a first grade) writes a ``fit.changed`` event
    on the timeline. Returns one FitChange per lead; nothing before an ICP is synced.
    """
    active = active_icp(session)
    if active is None:
        return []
    objects = _leads(session, leads)
    changes: list[FitChange] = []
    events: list[dict[str, Any]] = []
    for lead in objects:
        if lead.erased_at is not None:
            continue
        fit = fit_of(active, lead)
        change = FitChange(lead.id, lead.fit_grade, fit.grade, lead.fit_score, fit.score)
        for name, value in fit_values(fit, active, now).items():
            setattr(lead, name, value)
        changes.append(change)
        if change.grade_changed:
            events.append(fit_changed_event(change, fit, active, now, reason))
    if events:
        session.execute(insert(Event), events)
    return changes


def _leads(session: Session, leads: Iterable[Lead | int]) -> list[Lead]:
    given = list(leads)
    objects = [lead for lead in given if isinstance(lead, Lead)]
    ids = sorted({lead for lead in given if isinstance(lead, int)})
    if ids:
        objects.extend(
            session.scalars(
                select(Lead).where(Lead.id.in_(ids)).options(selectinload(Lead.account))
            )
        )
    return objects


def lead_data_changed(
    session: Session,
    leads: Sequence[Lead],
    now: datetime,
    *,
    account_ids: Iterable[int] = (),
    graded: Mapping[int, Fit] | None = None,
) -> list[Qualification]:
    """The hook for intake (CSV import, API upsert): leads or their accounts changed.

    Regrades ``leads`` and every lead of ``account_ids`` (an account whose firmographics
    changed changes the fit of all its people), then evaluates readiness for them, so a
    lead whose new data makes it an MQL is handed off in the same transaction. ``graded``:
    the new leads graded before their insert, by id (``regrade_batch``).
    """
    if active_icp(session) is None and active_readiness(session) is None:
        return []
    ids = list(dict.fromkeys([lead.id for lead in leads]))
    peers = sorted(set(account_ids))
    if peers:
        known = set(ids)
        ids += [
            lead_id
            for lead_id in session.scalars(
                select(Lead.id).where(among(session, Lead.account_id, peers)).order_by(Lead.id)
            )
            if lead_id not in known
        ]
    regrade_batch(session, ids, now, graded=graded)
    return evaluate_readiness(session, ids, now)


@dataclass(frozen=True)
class RegradeSummary:
    """What ``regrade_everyone`` did."""

    leads: int
    changed_grade: int
    version: int | None
    qualified: int = 0


def regrade_everyone(
    sessions: sessionmaker[Session],
    now: datetime,
    *,
    batch_size: int = 500,
    only_stale: bool = False,
    on_batch: Callable[[int, int], None] | None = None,
) -> RegradeSummary:
    """Regrade every lead (or only those graded by another ICP version, or never) in
    batches of ``batch_size``, one transaction per batch, then evaluate readiness for them.

    ``on_batch(done, total)`` is called after each batch (the CLI's progress bar).
    """
    with transaction(sessions) as session:
        active = active_icp(session)
        if active is None:
            return RegradeSummary(0, 0, None)
        base = select(Lead.id).where(Lead.erased_at.is_(None))
        if only_stale:
            base = base.where(
                (Lead.fit_version_id.is_(None)) | (Lead.fit_version_id != active.version_id)
            )
        total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    done = changed = qualified = 0
    after = 0
    while True:
        with transaction(sessions) as session:
            ids = list(
                session.scalars(base.where(Lead.id > after).order_by(Lead.id).limit(batch_size))
            )
            if not ids:
                break
            changes = regrade_batch(session, ids, now, reason="icp")
            qualified += len(evaluate_readiness(session, ids, now))
        after = ids[-1]
        done += len(ids)
        changed += sum(1 for change in changes if change.grade_changed)
        if on_batch is not None:
            on_batch(done, total)
    return RegradeSummary(done, changed, active.number, qualified)


# ---------------------------------------------------------------- readiness


def readiness_verdicts(
    session: Session,
    lead_ids: Iterable[int],
    now: datetime,
    *,
    lock: bool = False,
    colleagues: bool = False,
    candidates_only: bool = False,
) -> tuple[list[tuple[LeadFacts, Verdict]], int | None]:
    """Each lead's facts and verdict under the active readiness definition (and its
    version number), in the order of the leads' ids.

    Leads at any stage are evaluated (the verdict says why a sales-stage lead cannot
    qualify); ``lock`` takes the leads' rows first (PostgreSQL) so two transactions cannot
    both hand one lead off; ``colleagues`` adds their engaged colleagues when a rule looks
    at the account (``_with_account_peers``). The facts are read as plain columns: a batch
    of an import evaluates hundreds of leads, and few of them are handed off.
    ``candidates_only`` leaves out the leads that no account could make ready
    (``readiness.cannot_be_ready``) and have not raised a hand (a hand-raise is answered
    with its verdict's reasons): their verdict would name no rule.
    """
    active = active_readiness(session)
    ids = sorted(set(lead_ids))
    if active is None or not ids:
        return [], None
    if colleagues:
        ids = _with_account_peers(session, ids, active.readiness)
    query = (
        select(
            Lead.id,
            Lead.stage,
            Lead.stage_changed_at,
            Lead.fit_grade,
            Lead.fit_score,
            Lead.score_value,
            Lead.score_as_of,
            Lead.score_half_life,
            Lead.temperature,
            Lead.hand_raised_at,
            Lead.account_id,
            Account.name.label("account_name"),
            Account.domain.label("account_domain"),
        )
        .outerjoin(Account, Account.id == Lead.account_id)
        .where(among(session, Lead.id, ids), Lead.erased_at.is_(None))
        .order_by(Lead.id)
    )
    if lock:
        query = query.with_for_update(of=Lead).where(Lead.stage.in_(sorted(QUALIFIABLE)))
    leads = session.execute(query).all()
    if not leads:
        return [], active.number
    readiness = active.readiness
    raises = _latest_hand_raises(session, [lead.id for lead in leads if lead.hand_raised_at])
    found = []
    # ``cannot_be_ready`` reads a lead's own facts, not who it is, and a batch's new leads
    # share them (one stage, grade, temperature and zero score): each set is judged once.
    skip: dict[LeadFacts, bool] = {}
    for lead in leads:
        raised = raises.get(lead.id, {})
        facts = LeadFacts(
            lead_id=lead.id,
            stage=lead.stage,
            stage_changed_at=lead.stage_changed_at,
            fit_grade=lead.fit_grade,
            fit_score=lead.fit_score,
            score=decayed_score(lead.score_value, lead.score_as_of, lead.score_half_life, now),
            temperature=lead.temperature,
            hand_raised_at=lead.hand_raised_at,
            hand_raise_event=raised.get("event_type"),
            account_name=(lead.account_name or lead.account_domain) if lead.account_id else None,
        )
        if candidates_only and lead.hand_raised_at is None:
            key = replace(facts, lead_id=0, account_name=None)
            hopeless = skip.get(key)
            if hopeless is None:
                hopeless = skip[key] = cannot_be_ready(readiness, facts, now)
            if hopeless:
                continue
        found.append((facts, lead.account_id))
    contacts: dict[int, list[ContactFacts]] = {}
    conditions = [rule.account for rule in readiness.rules if rule.account is not None]
    if conditions:
        contacts = _contacts(
            session,
            {account_id for _, account_id in found if account_id},
            now,
            engaged=set().union(*(condition.engaged for condition in conditions)),
        )
    results = []
    for facts, account_id in found:
        if account_id:
            facts = replace(facts, contacts=tuple(contacts.get(account_id, ())))
        results.append((facts, evaluate(readiness, facts, now)))
    return results, active.number


def _with_account_peers(session: Session, ids: list[int], readiness: Readiness) -> list[int]:
    """``ids`` plus, when a readiness rule looks at the account, their engaged
    colleagues (the people who count towards that rule) who could qualify: a contact
    turning warm can complete the buying committee that makes the others ready too.
    Colleagues who are not engaged themselves are left to their own next change, so a
    committee forming does not hand sales every cold contact of a big account.

    Peers another transaction holds are skipped (PostgreSQL ``SKIP LOCKED``): that
    transaction is rescoring them and evaluates them itself.
    """
    conditions = [rule.account for rule in readiness.rules if rule.account]
    if not conditions:
        return ids
    engaged = sorted(set().union(*(c.engaged for c in conditions)))
    accounts = select(Lead.account_id).where(
        among(session, Lead.id, ids), Lead.account_id.is_not(None)
    )
    peers = session.scalars(
        select(Lead.id)
        .where(
            Lead.account_id.in_(accounts),
            ~among(session, Lead.id, ids),
            Lead.erased_at.is_(None),
            # Compared as an expression, so no index on the stage is used: SQLite, without
            # statistics, read every lead at a qualifiable stage (nearly all of them)
            # through that index, once per batch of an import, instead of only these
            # accounts' engaged people through the accounts' index.
            (Lead.stage + "").in_(sorted(QUALIFIABLE)),
            one_of_known(Lead.temperature, engaged),
        )
        .order_by(Lead.id)
        .with_for_update(skip_locked=True)
    ).all()
    return sorted({*ids, *peers})


def evaluate_readiness(
    session: Session, lead_ids: Iterable[int], now: datetime
) -> list[Qualification]:
    """Hand every given lead that meets the MQL definition now to sales.

    For each lead at a marketing stage (subscriber, lead, or recycled past its cool-down)
    that meets a readiness rule, builds a Qualification (the rule, a reason per condition,
    the fit explanation) and calls ``nurture.handoff.hand_off(session, lead, qualification,
    now)``, which makes it an MQL, assigns an owner and notifies them. Returns the
    qualifications; nothing before a readiness file is synced. Runs in the caller's
    transaction, right after the change (a score, a grade, a hand-raise) that caused it.
    Then answers the new hand-raises of these leads (``hand_raises.answer_hand_raises``).
    """
    ids = list(lead_ids)
    verdicts, version = readiness_verdicts(
        session, ids, now, lock=True, colleagues=True, candidates_only=True
    )
    handed: dict[int, Handoff] = {}
    ready = [facts.lead_id for facts, verdict in verdicts if verdict.rule is not None]
    raises = _latest_hand_raises(session, ready)
    # Their rows are locked already; the objects are loaded (fresh) for the handoff.
    objects = {
        lead.id: lead
        for lead in session.scalars(
            select(Lead)
            .where(Lead.id.in_(ready))
            .options(selectinload(Lead.account))
            .execution_options(populate_existing=True)
        )
    }
    qualifications = []
    for facts, verdict in verdicts:
        if verdict.rule is None:
            continue
        lead = objects[facts.lead_id]
        raised = raises.get(lead.id, {})
        rule = verdict.rule
        qualification = Qualification(
            lead_id=lead.id,
            rule=rule.id,
            rule_description=rule.description,
            reasons=verdict.reasons,
            qualified_at=now,
            fit_grade=lead.fit_grade,
            fit_score=lead.fit_score,
            score=lead.decayed_score(now),
            temperature=lead.temperature,
            hand_raised_at=lead.hand_raised_at,
            hand_raise_event=raised.get("event_type"),
            fit_reasons=tuple(r.get("text", "") for r in lead.fit_reasons or ()),
            fit_missing=tuple(m.get("text", "") for m in lead.fit_missing or ()),
            readiness_version=version,
            hand_raiser=rule.hand_raised is not None,
            event_id=raised.get("event_id") if rule.hand_raised is not None else None,
        )
        qualifications.append(qualification)
        # A savepoint per lead: a handoff that fails (no way to reach the owner, a refused
        # stage change) is logged and undone alone, and never rolls back the events and
        # scores of the batch that triggered it; the lead is evaluated again at its next
        # change.
        try:
            with session.begin_nested():
                handed[lead.id] = hand_off(session, lead, qualification, now)
        except Exception:
            log.exception("handoff of lead %s (rule %s) failed", lead.id, rule.id)
    # Every hand-raise is answered, handed off or not: the auto-reply, and a lead outside
    # the ICP held for marketing's review (or sent to sales, as the readiness file says).
    answer_hand_raises(session, ids, now, handed_off=handed, verdicts=verdicts)
    return qualifications


def _latest_hand_raises(session: Session, lead_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The properties of each lead's latest ``lead.hand_raised`` event (type, event id)."""
    if not lead_ids:
        return {}
    rows = session.execute(
        select(Event.lead_id, Event.properties)
        .where(Event.lead_id.in_(list(lead_ids)), Event.type == "lead.hand_raised")
        .order_by(Event.occurred_at, Event.id)
    ).all()
    return {lead_id: dict(properties or {}) for lead_id, properties in rows}


def _contacts(
    session: Session, account_ids: set[int], now: datetime, *, engaged: Collection[str]
) -> dict[int, list[ContactFacts]]:
    """The contacts the account conditions look at, by account: every person who could
    count as engaged (a temperature in ``engaged``, not disqualified), and one entry that
    stands for everyone at the account with their best grade (lead id 0, disqualified, so
    never counted as engaged). The account condition reads only the best grade and the
    engaged people, so its verdicts and reasons are those of every person listed."""
    found: dict[int, list[ContactFacts]] = defaultdict(list)
    if not account_ids:
        return found
    # A batch's accounts can hold many more people than the batch, most of them not engaged
    # (a new lead is cold): the database finds their best grade (A < B < C < D, as text)
    # instead of each person coming back as a row, which made an import slow down as the
    # accounts grew.
    people = among(session, Lead.account_id, account_ids)
    best = session.execute(
        select(Lead.account_id, func.min(Lead.fit_grade))
        .where(people, Lead.erased_at.is_(None))
        .group_by(Lead.account_id)
    )
    for account_id, best_grade in best:
        assert account_id is not None  # selected by account
        found[account_id].append(ContactFacts(0, best_grade, 0.0, "", "disqualified"))
    rows = session.execute(
        select(
            Lead.account_id,
            Lead.id,
            Lead.fit_grade,
            Lead.score_value,
            Lead.score_as_of,
            Lead.score_half_life,
            Lead.temperature,
            Lead.stage,
            Lead.title,
        ).where(
            people,
            Lead.erased_at.is_(None),
            one_of_known(Lead.temperature, engaged),
            Lead.stage != "disqualified",
        )
    )
    for person in rows:
        assert person.account_id is not None  # selected by account
        found[person.account_id].append(
            ContactFacts(
                person.id,
                person.fit_grade,
                decayed_score(person.score_value, person.score_as_of, person.score_half_life, now),
                person.temperature,
                person.stage,
                person.title,
            )
        )
    return found
