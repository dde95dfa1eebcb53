"""Grading a batch of leads from plain column values.

An import regrades every lead it writes. Doing that through the ORM (load each lead and its
account as objects, build its fields, set six attributes, flush one UPDATE per lead) cost
more than the import itself; here one query reads only the columns the ICP looks at (the
leads' and their accounts'), the pure rules grade each lead, and one UPDATE per distinct
fit writes it to all the leads that have it. The results are those of
``service.regrade_leads`` (the per-lead path, kept for single leads), which the import's
equivalence test checks.

Leads with the same values in the fields the ICP reads get the same fit, so a fit is
computed once per distinct set of values in a batch (``grade`` is pure).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from nurture.campaigns.vocabulary import ACCOUNT_FIELD_NAMES, LEAD_FIELD_NAMES
from nurture.models import Account, Event, Lead
from nurture.platform.db import among, bulk_insert, table_of, utcnow
from nurture.qualification.icp import ICP, Fit, grade
from nurture.qualification.versions import ActiveICP, active_icp

# The columns a regrade writes, in the order ``_stored`` compares them.
FIT_COLUMNS = (
    "fit_score",
    "fit_grade",
    "fit_reasons",
    "fit_missing",
    "fit_graded_at",
    "fit_version_id",
)


@dataclass(frozen=True)
class FitChange:
    """What a regrade did to one lead."""

    lead_id: int
    grade_before: str | None
    grade: str
    score_before: int | None
    score: int

    @property
    def grade_changed(self) -> bool:
        return self.grade != self.grade_before


def fit_values(fit: Fit, active: ActiveICP, now: datetime) -> dict[str, Any]:
    """The lead columns that store ``fit`` (``FIT_COLUMNS``)."""
    return {
        "fit_score": fit.score,
        "fit_grade": fit.grade,
        "fit_reasons": fit.reasons_json(),
        "fit_missing": fit.missing_json(),
        "fit_graded_at": now,
        "fit_version_id": active.version_id,
    }


def fit_changed_event(
    change: FitChange, fit: Fit, active: ActiveICP, now: datetime, reason: str
) -> dict[str, Any]:
    """The ``fit.changed`` timeline event of a grade that changed (or a first grade)."""
    return {
        "lead_id": change.lead_id,
        "type": "fit.changed",
        "occurred_at": now,
        "recorded_at": now,
        "is_machine": False,
        "machine_reasons": [],
        "properties": {
            "from": change.grade_before,
            "to": fit.grade,
            "score": fit.score,
            "score_before": change.score_before,
            "summary": fit.summary,
            "reason": reason,
            "icp_version": active.number,
        },
    }


class _Fields:
    """Which columns hold the fields an ICP reads (as ``campaigns.facts.lead_fields``
    names them), and the facts of one row of them."""

    def __init__(self, icp: ICP) -> None:
        self.names = sorted(icp.fields)
        lead = [n for n in self.names if n in LEAD_FIELD_NAMES]
        account = [
            n.removeprefix("account.")
            for n in self.names
            if n.removeprefix("account.") in ACCOUNT_FIELD_NAMES and n.startswith("account.")
        ]
        self.lead_attributes = any(n.startswith("attributes.") for n in self.names)
        self.account_attributes = any(n.startswith("account.attributes.") for n in self.names)
        columns: list[Any] = [Lead.id, Lead.account_id]
        columns += [getattr(Lead, n).label(f"l_{n}") for n in lead]
        columns += [getattr(Account, n).label(f"a_{n}") for n in account]
        if self.lead_attributes:
            columns.append(Lead.attributes.label("l_attributes"))
        if self.account_attributes:
            columns.append(Account.attributes.label("a_attributes"))
        self.columns = columns
        self.lead, self.account = lead, account

    def facts(self, row: Any) -> dict[str, Any]:
        """The facts of a row of ``columns``."""
        account = row.account_id is not None
        return self._facts(
            lambda n: getattr(row, f"l_{n}"),
            row.l_attributes if self.lead_attributes else None,
            (lambda n: getattr(row, f"a_{n}")) if account else None,
            row.a_attributes if account and self.account_attributes else None,
        )

    def object_facts(self, lead: Lead, account: Account | None) -> dict[str, Any]:
        """The facts of a lead not yet inserted, from its object and its account's (the
        same names and values ``facts`` reads from a row of the inserted lead)."""
        return self._facts(
            lambda n: getattr(lead, n),
            lead.attributes if self.lead_attributes else None,
            (lambda n: getattr(account, n)) if account is not None else None,
            account.attributes if account is not None and self.account_attributes else None,
        )

    def _facts(
        self,
        lead_value: Callable[[str], Any],
        lead_attributes: dict[str, Any] | None,
        account_value: Callable[[str], Any] | None,
        account_attributes: dict[str, Any] | None,
    ) -> dict[str, Any]:
        values: dict[str, Any] = {n: lead_value(n) for n in self.lead}
        for key, value in (lead_attributes or {}).items():
            values[f"attributes.{key}"] = value
        if account_value is not None:
            for n in self.account:
                values[f"account.{n}"] = account_value(n)
            for key, value in (account_attributes or {}).items():
                values[f"account.attributes.{key}"] = value
        return values

    def key(self, facts: dict[str, Any]) -> tuple[Any, ...] | None:
        """What makes two leads' fits equal: the values (and their types: 1 and True read
        differently in a reason) of the fields the ICP reads; None when not hashable."""
        key = tuple((type(v), v) for v in (facts.get(n) for n in self.names))
        try:
            hash(key)
        except TypeError:
            return None
        return key


# A fit and its stored values, by the values it was graded from (``_Fields.key``).
_Fits = dict[tuple[Any, ...], tuple[Fit, dict[str, Any]]]


def _graded(
    fits: _Fits, fields: _Fields, facts: dict[str, Any], active: ActiveICP, now: datetime
) -> tuple[Fit, dict[str, Any]]:
    """The fit of ``facts`` and the columns it is stored in, graded once per distinct set
    of facts in ``fits`` (a batch's leads often share them)."""
    key = fields.key(facts)
    known = fits.get(key) if key is not None else None
    if known is None:
        fit = grade(active.icp, facts)
        known = (fit, fit_values(fit, active, now))
        if key is not None:
            fits[key] = known
    return known


def grade_new_leads(
    session: Session, new: Sequence[tuple[Lead, Account | None]], now: datetime
) -> dict[Lead, Fit]:
    """Grade leads about to be inserted (``hooks.leads_creating``): each object gets its fit
    columns (``FIT_COLUMNS``), so the fit goes in with the row. Returns each lead's fit for
    ``regrade_batch(graded=...)``, which then writes their ``fit.changed`` events instead
    of grading them again. Nothing before an ICP is synced."""
    active = active_icp(session)
    if active is None or not new:
        return {}
    fields = _Fields(active.icp)
    fits: _Fits = {}
    graded: dict[Lead, Fit] = {}
    for lead, account in new:
        fit, values = _graded(fits, fields, fields.object_facts(lead, account), active, now)
        # The object is transient: its dict is the row it will be (and its loaded state).
        lead.__dict__.update(values)
        graded[lead] = fit
    return graded


def regrade_batch(
    session: Session,
    lead_ids: Iterable[int],
    now: datetime,
    *,
    reason: str = "data",
    graded: Mapping[int, Fit] | None = None,
) -> list[FitChange]:
    """``service.regrade_leads`` for leads given by id, set-based: the same fits, events and
    FitChanges. Leads of the session that are loaded get the stored values too, so what
    runs later in the transaction (enrolment, readiness) sees the new fit.

    ``graded`` holds, by id, the fits of leads this transaction inserted already graded
    (``grade_new_leads``): they are not read or written again; each gets the change and the
    ``fit.changed`` event of a first grade, as if it had been graded after its insert."""
    active = active_icp(session)
    ids = list(dict.fromkeys(lead_ids))
    if active is None or not ids:
        return []
    graded = graded or {}
    fields = _Fields(active.icp)
    rest = [lead_id for lead_id in ids if lead_id not in graded]
    rows = (
        session.execute(
            select(
                *fields.columns,
                Lead.fit_score,
                Lead.fit_grade,
                Lead.fit_graded_at,
                Lead.fit_version_id,
            )
            .outerjoin(Account, Account.id == Lead.account_id)
            .where(among(session, Lead.id, rest), Lead.erased_at.is_(None))
        ).all()
        if rest
        else []
    )
    by_id = {row.id: row for row in rows}
    fits: _Fits = {}
    changes: list[FitChange] = []
    events: list[dict[str, Any]] = []
    writes: list[tuple[int, dict[str, Any]]] = []
    # The first grade's event of each fit the new leads share: its properties are one
    # object, encoded once by the bulk insert (and the fit's summary made once).
    firsts: dict[int, dict[str, Any]] = {}
    for lead_id in ids:
        first = graded.get(lead_id)
        if first is not None:
            change = FitChange(lead_id, None, first.grade, None, first.score)
            changes.append(change)
            event = firsts.get(id(first))
            if event is None:
                event = firsts[id(first)] = fit_changed_event(change, first, active, now, reason)
            events.append({**event, "lead_id": lead_id})
            continue
        row = by_id.get(lead_id)
        if row is None:
            continue  # erased (or gone)
        fit, values = _graded(fits, fields, fields.facts(row), active, now)
        change = FitChange(lead_id, row.fit_grade, fit.grade, row.fit_score, fit.score)
        changes.append(change)
        if change.grade_changed:
            events.append(fit_changed_event(change, fit, active, now, reason))
        # The values are shared between the leads of one fit: nothing changes them.
        writes.append((lead_id, values))
    _store(session, writes, by_id, now)
    if events:
        bulk_insert(session.connection(), table_of(Event), events)
    return changes


def _store(
    session: Session, writes: list[tuple[int, dict[str, Any]]], rows: dict[int, Any], now: datetime
) -> None:
    """Write the fits that differ from the stored ones, stamping ``updated_at`` as the ORM's
    flush of a changed lead does, and set them on the loaded leads without marking those
    changed. One UPDATE per distinct fit (a batch's leads share a handful of fits: one
    company, one title), so each fit's JSON is encoded once, not once per lead."""
    regraded_now = {
        lead_id
        for lead_id, values in writes
        if rows[lead_id].fit_graded_at == now
        and rows[lead_id].fit_version_id == values["fit_version_id"]
    }
    if regraded_now:
        # Graded at this same moment already (twice in one import): only a real difference
        # is written, as the ORM writes only changed attributes.
        stored = _stored(session, sorted(regraded_now))
        writes = [
            (lead_id, values)
            for lead_id, values in writes
            if lead_id not in regraded_now
            or stored.get(lead_id) != tuple(values[c] for c in FIT_COLUMNS[:4])
        ]
    if not writes:
        return
    stamp = utcnow()
    by_fit: dict[int, tuple[dict[str, Any], list[int]]] = {}
    for lead_id, values in writes:
        by_fit.setdefault(id(values), (values, []))[1].append(lead_id)
    table = table_of(Lead)
    for values, lead_ids in by_fit.values():
        session.execute(
            update(table)
            .where(among(session, table.c.id, lead_ids))
            .values(**values, updated_at=stamp)
        )
    identity = session.identity_map
    for lead_id, values in writes:
        lead = identity.get(Session.identity_key(Lead, lead_id))
        if lead is None:
            continue
        for name in FIT_COLUMNS:
            set_committed_value(lead, name, values[name])
        set_committed_value(lead, "updated_at", stamp)


def _stored(session: Session, ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
    rows = session.execute(
        select(Lead.id, Lead.fit_score, Lead.fit_grade, Lead.fit_reasons, Lead.fit_missing).where(
            Lead.id.in_(ids)
        )
    )
    return {row.id: tuple(row[1:]) for row in rows}
