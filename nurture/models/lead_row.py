"""A lead and its account read as plain column values, for the send engine's batches.

Loading a batch of 500 leads as ORM objects (identity map, instance state, instrumented
attributes, the account relationship) cost the send engine more per message than deciding
the drip rules; the engine only reads them. A ``LeadRow`` has the same column attributes
and the two methods readers use (``decayed_score``, ``full_name``), so the pure rules,
consent checks and template contexts accept either (``Lead | LeadRow``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Table, select
from sqlalchemy.orm import Session

from nurture.models.account import Account
from nurture.models.lead import Lead, decayed_score, full_name
from nurture.platform.db import among, table_of

# What deciding (consent, drip facts, the fields campaign conditions compare: every name of
# ``nurture.leads.fields.CONDITION_FIELDS``) and rendering read; each column more costs
# decoding in every batch (the fit grading's explanations, JSON lists of a kilobyte or
# more, most of all). A reader of another column fails loudly (AttributeError).
LEAD_ROW_COLUMNS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "title",
    "phone",
    "timezone",
    "locale",
    "source",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "attributes",
    "stage",
    "temperature",
    "score_value",
    "score_as_of",
    "score_half_life",
    "account_id",
    "consent_status",
    "lawful_basis",
    "unsubscribed_at",
    "suppressed_at",
    "suppression_reason",
    "topic_opt_outs",
    "erased_at",
)
ACCOUNT_ROW_COLUMNS = (
    "id",
    "name",
    "domain",
    "industry",
    "employees",
    "annual_revenue",
    "branches",
    "country",
    "attributes",
)


class AccountRow:
    """An account's ``ACCOUNT_ROW_COLUMNS`` (``Account``'s attribute names), read-only by
    convention."""

    id: int
    name: str | None
    domain: str | None
    industry: str | None
    employees: int | None
    annual_revenue: int | None
    branches: int | None
    country: str | None
    attributes: dict[str, Any]

    def __init__(self, values: Mapping[Any, Any]) -> None:
        self.__dict__.update(values)


class LeadRow:
    """A lead's ``LEAD_ROW_COLUMNS`` (``Lead``'s attribute names) and its account;
    read-only by convention."""

    id: int
    email: str
    first_name: str | None
    last_name: str | None
    title: str | None
    phone: str | None
    timezone: str | None
    locale: str | None
    source: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    attributes: dict[str, Any]
    stage: str
    temperature: str
    score_value: float
    score_as_of: datetime | None
    score_half_life: float | None
    account_id: int | None
    consent_status: str
    lawful_basis: str | None
    unsubscribed_at: datetime | None
    suppressed_at: datetime | None
    suppression_reason: str | None
    topic_opt_outs: list[str]
    erased_at: datetime | None
    account: AccountRow | None

    def __init__(self, values: Mapping[Any, Any], account: AccountRow | None) -> None:
        self.__dict__.update(values)
        self.account = account

    def decayed_score(self, now: datetime) -> float:
        """``Lead.decayed_score``: the behavioural score decayed to ``now``."""
        return decayed_score(self.score_value, self.score_as_of, self.score_half_life, now)

    @property
    def full_name(self) -> str:
        """``Lead.full_name``: first and last name, or the email address."""
        return full_name(self.first_name, self.last_name, self.email)


def _columns(table: Table, names: Sequence[str]) -> list[Column[Any]]:
    return [table.c[name] for name in names]


def load_lead_rows(session: Session, ids: Iterable[int]) -> dict[int, LeadRow]:
    """The leads with these ids as ``LeadRow``s with their accounts, by id (two queries)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    leads_table, accounts_table = table_of(Lead), table_of(Account)
    rows = session.execute(
        select(*_columns(leads_table, LEAD_ROW_COLUMNS)).where(
            among(session, leads_table.c.id, wanted)
        )
    ).mappings()
    values = list(rows)
    account_ids = sorted({row["account_id"] for row in values if row["account_id"] is not None})
    accounts: dict[int, AccountRow] = {}
    if account_ids:
        for row in session.execute(
            select(*_columns(accounts_table, ACCOUNT_ROW_COLUMNS)).where(
                among(session, accounts_table.c.id, account_ids)
            )
        ).mappings():
            accounts[row["id"]] = AccountRow(row)
    return {
        row["id"]: LeadRow(
            row, accounts.get(row["account_id"]) if row["account_id"] is not None else None
        )
        for row in values
    }
