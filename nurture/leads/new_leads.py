"""Inserting new leads as plain rows, the objects kept for the rest of the use case.

The unit of work's flush of hundreds of new ``Lead`` objects (each a full set of attribute
events, then one long multi-row INSERT … RETURNING) was the largest cost of an import's
batch. Here the rows are written by the database's bulk path
(``platform.bulk_rows.insert_rows``), and each object then joins the session as a
persistent, unchanged lead with every column loaded, exactly as a flush would have left
it: what runs after the insert in the same transaction (events, grading, enrolment,
readiness) sees the same leads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state, set_committed_value

from nurture.models import Account, Lead
from nurture.models.lead import derived_columns
from nurture.platform.bulk_rows import insert_rows
from nurture.platform.db import table_of


def insert_new_leads(
    session: Session,
    new: Sequence[tuple[Lead, Account | None]],
    *,
    before_insert: Callable[[], None] | None = None,
) -> None:
    """Insert the transient ``Lead`` objects of ``new`` (each with the account it joins,
    which must have its id already) and add them to the session as persistent leads.

    A column the object was not given gets its Python-side default, or stays NULL, as in
    an ORM flush (a JSON column left unset is SQL NULL, not JSON ``null``).
    ``before_insert`` runs once every object holds the values its row will have, and may
    set more of them (the upsert grades the new leads there, so their fit is written with
    the row instead of by an UPDATE of every new row right after its INSERT).
    """
    if not new:
        return
    table = table_of(Lead)
    attributes = [(attr.key, attr.columns[0]) for attr in inspect(Lead).column_attrs]
    # Each column's default once: (attribute, value, or the function that makes one).
    fill: list[tuple[str, Any, Callable[[Any], Any] | None]] = []
    for key, column in attributes:
        default = column.default
        if default is not None and default.is_scalar:
            fill.append((key, default.arg, None))
        elif default is not None and default.is_callable:
            fill.append((key, None, default.arg))
        else:
            fill.append((key, None, None))
    for lead, account in new:
        if lead.id is not None:
            raise ValueError(f"lead {lead.email} has an id already: it is not new")
        if account is not None and account.id is None:
            raise ValueError(f"the account of {lead.email} has no id yet: flush it first")
        # Written to the instance's dict, every column: the object is transient, and
        # ``make_transient_to_detached`` below takes the dict as its loaded state, so
        # reading a column later costs no query (an attribute event per column and lead
        # cost more than the insert).
        given = lead.__dict__
        given["account_id"] = None if account is None else account.id
        given.update(derived_columns(given))
        for key, value, make in fill:
            if key not in given:
                given[key] = value if make is None else make(None)
    if before_insert is not None:
        before_insert()
    states = [lead.__dict__ for lead, _ in new]
    # A column no row gives a value is left out: NULL as in a flush, and for JSON columns
    # SQL NULL rather than the JSON ``null`` an explicit None would store.
    names = [
        (key, column.name)
        for key, column in attributes
        if key != "id"
        and (
            table.c[column.name].server_default is not None
            or any(state[key] is not None for state in states)
        )
    ]
    rows = [{name: state[key] for key, name in names} for state in states]
    ids = insert_rows(session, table, rows)
    # ``_update_impl`` is SQLAlchemy's private step of ``Session.add``; should a release
    # drop it, the public call adds the leads the same way, only slower.
    attach = getattr(session, "_update_impl", None)
    for (lead, account), lead_id in zip(new, ids, strict=True):
        # Into the transient object's state like its other columns: the identity key is
        # made from it below.
        lead.__dict__["id"] = lead_id
        make_transient_to_detached(lead)
        # Straight into the identity map, as ``Session.add`` does for a detached object,
        # without its save-update cascade: a new lead's relationships are all unloaded but
        # ``account``, set below to an account the session holds already, so the cascade
        # finds nothing to add, and walking Lead's relationships for each of a batch's leads
        # was most of the cost of adding them (7 % of an import's processor time).
        if attach is not None:
            attach(instance_state(lead))
        else:
            session.add(lead)
        set_committed_value(lead, "account", account)
