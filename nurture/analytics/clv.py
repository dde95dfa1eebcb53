"""Customer lifetime value from history (docs/analytics.md, "Revenue and CLV").

A **customer** is an account that won a deal (``handoffs.outcome = 'won'``; a lead without
an account is a customer of its own), or an account with revenue entries but no deal won
in Nurture (a customer from before). It became a customer on the earlier of its first won
deal and its first revenue entry. The report covers the customers that became customers
in the period ``[from, to)``, and for each counts the revenue booked before ``to``: the
deal values of its won deals and its revenue entries (historical CLV).

Filters and groupings are the funnel's (``scope``), read from the lead of the customer's
first won deal; ``month`` is the month it became a customer. A customer with only revenue
entries has no such lead: it is in the no-value group and left out by any lead filter.
Amounts are reported in one currency; those in another are listed apart, never summed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, null, select
from sqlalchemy.orm import Session

from nurture.analytics.clv_rules import (
    ZERO,
    add_to,
    average,
    currency_error,
    money,
    months_between,
    split_currency,
)
from nurture.analytics.filters import FilterError, ReportFilter, month_key, months
from nurture.analytics.scope import check_filter, scoped
from nurture.handoff.team import Team
from nurture.models import Account, Handoff, Lead, RevenueEntry

ERASED = "(erased)"
# A customer key: ("account", id) or, for a won lead without an account, ("lead", id).
CustomerKey = tuple[str, int]


@dataclass(frozen=True)
class Customer:
    """One customer: when it became one, its revenue to date in the report's currency and
    apart from it, and the group it is reported under."""

    group: str | None
    account_id: int | None
    name: str
    since: date
    months: int
    deals: int
    entries: int
    revenue: Decimal
    other_currencies: dict[str, Decimal]

    def as_dict(self) -> dict[str, object]:
        """The customer as plain values (amounts as exact strings)."""
        return {
            "group": self.group,
            "account_id": self.account_id,
            "customer": self.name,
            "since": self.since.isoformat(),
            "months_as_customer": self.months,
            "deals": self.deals,
            "entries": self.entries,
            "revenue": money(self.revenue),
            "other_currencies": {code: money(v) for code, v in self.other_currencies.items()},
        }


@dataclass(frozen=True)
class ClvRow:
    """One group: its customers, their revenue in the report's currency, the average CLV
    of those whose revenue is wholly in it, and the amounts in other currencies."""

    group: str | None
    customers: int
    revenue: Decimal
    average_clv: Decimal | None
    customers_in_other_currencies: int
    other_currencies: dict[str, Decimal]

    def as_dict(self) -> dict[str, object]:
        """The row as plain values."""
        return {
            "group": self.group,
            "customers": self.customers,
            "revenue": money(self.revenue),
            "average_clv": money(self.average_clv),
            "customers_in_other_currencies": self.customers_in_other_currencies,
            "other_currencies": {code: money(v) for code, v in self.other_currencies.items()},
        }


@dataclass(frozen=True)
class ClvReport:
    """The customers who became customers in the period, grouped; the currency of the
    figures."""

    filter: ReportFilter
    currency: str
    rows: list[ClvRow]
    customers: list[Customer] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """The report as plain values (the API's body)."""
        return {
            "filter": self.filter.as_dict(),
            "currency": self.currency,
            "rows": [row.as_dict() for row in self.rows],
            "customers": [customer.as_dict() for customer in self.customers],
        }


@dataclass
class _Tally:
    since: date
    deals: int = 0
    entries: int = 0
    first_deal: tuple[datetime, int] | None = None
    amounts: dict[str, Decimal] = field(default_factory=dict)


def report_currency(team: Team | None, wanted: str | None) -> str:
    """The currency a report is made in: the one asked for, else the sales team file's
    (the one deal values default to), else USD (the deals' own default)."""
    if wanted:
        return wanted
    return team.currency.upper() if team is not None else "USD"


def parse_currency(text: str | None) -> str | None:
    """The ``currency`` argument, upper case (None when not given); ``FilterError``
    naming it when it is not an ISO 4217 code."""
    code = (text or "").strip().upper() or None
    problem = currency_error(code)
    if problem is not None:
        raise FilterError({"currency": problem})
    return code


def clv_report(
    session: Session, report: ReportFilter, *, currency: str | None = None, now: datetime
) -> ClvReport:
    """The CLV of the customers won in ``report``'s period (``FilterError`` for a filter
    naming nothing), in ``currency`` (default: ``report_currency``)."""
    team = check_filter(session, report)
    code = report_currency(team, currency)
    end = report.end_at
    tallies: dict[CustomerKey, _Tally] = {}
    won = (
        select(
            Handoff.id,
            Handoff.lead_id,
            func.coalesce(Handoff.account_id, Lead.account_id),
            Handoff.outcome_at,
            Handoff.deal_value,
            Handoff.deal_currency,
        )
        .join(Lead, Lead.id == Handoff.lead_id)
        .where(Handoff.outcome == "won", Handoff.outcome_at.is_not(None), Handoff.outcome_at < end)
    )
    for handoff_id, lead_id, account_id, won_at, value, deal_currency in session.execute(won):
        assert won_at is not None  # the query asks for won deals with their moment
        key: CustomerKey = ("account", account_id) if account_id else ("lead", lead_id)
        tally = tallies.setdefault(key, _Tally(since=won_at.date()))
        tally.since = min(tally.since, won_at.date())
        tally.deals += 1
        if tally.first_deal is None or (won_at, handoff_id) < tally.first_deal:
            tally.first_deal = (won_at, handoff_id)
        # A deal won without a value is a customer whose revenue is not known: it counts
        # as a customer with nothing in the report's currency.
        if value is not None:
            add_to(tally.amounts, {(deal_currency or code).upper(): value})
    entries = select(
        RevenueEntry.account_id, RevenueEntry.booked_on, RevenueEntry.amount, RevenueEntry.currency
    ).where(RevenueEntry.booked_on < report.end)
    for account_id, booked_on, amount, entry_currency in session.execute(entries):
        tally = tallies.setdefault(("account", account_id), _Tally(since=booked_on))
        tally.since = min(tally.since, booked_on)
        tally.entries += 1
        add_to(tally.amounts, {entry_currency: amount})
    customers_in = {
        key: tally for key, tally in tallies.items() if report.start <= tally.since < report.end
    }
    groups = _deal_groups(session, report, team, customers_in)
    names = _names(session, customers_in)
    until = min(report.end, now.date())
    customers: list[Customer] = []
    lead_filtered = any(
        value is not None
        for value in (report.source, report.campaign, report.owner, report.grade, report.segment)
    )
    for key, tally in customers_in.items():
        if tally.first_deal is not None:
            keys = groups.get(tally.first_deal[1], [])
        else:
            keys = [] if lead_filtered else [None]
        inside, apart = split_currency(tally.amounts, code)
        for group in keys:
            customers.append(
                Customer(
                    group=month_key(tally.since) if report.group_by == "month" else group,
                    account_id=key[1] if key[0] == "account" else None,
                    name=names[key],
                    since=tally.since,
                    months=months_between(tally.since, until),
                    deals=tally.deals,
                    entries=tally.entries,
                    revenue=inside,
                    other_currencies=apart,
                )
            )
    customers.sort(key=lambda c: (c.group is None, c.group or "", -c.revenue, c.name))
    return ClvReport(report, code, _rows(report, customers), customers)


def _deal_groups(
    session: Session, report: ReportFilter, team: Team | None, customers: dict[Any, _Tally]
) -> dict[int, list[str | None]]:
    """The first won deal of each customer that passes the filter, with its groups (a
    lead in two campaigns is in two groups)."""
    first_deals = [t.first_deal[1] for t in customers.values() if t.first_deal is not None]
    if not first_deals:
        return {}
    by_month = report.group_by == "month"
    statement = (
        select(Handoff.id).join(Lead, Lead.id == Handoff.lead_id).where(Handoff.id.in_(first_deals))
    )
    narrowed, group = scoped(
        statement,
        replace(report, group_by=None) if by_month else report,
        team,
        when=Handoff.outcome_at,
    )
    column = group if group is not None else null()
    found: dict[int, list[str | None]] = defaultdict(list)
    for handoff_id, key in session.execute(narrowed.add_columns(column.label("report_group"))):
        found[handoff_id].append(None if key is None else str(key))
    return found


def _names(session: Session, customers: dict[CustomerKey, _Tally]) -> dict[CustomerKey, str]:
    """How each customer is named: its account's domain (or name), or a won lead's address
    when it has no account (``(erased)`` once the person was erased)."""
    accounts = [key[1] for key in customers if key[0] == "account"]
    leads = [key[1] for key in customers if key[0] == "lead"]
    names: dict[CustomerKey, str] = {}
    if accounts:
        for account_id, domain, name in session.execute(
            select(Account.id, Account.domain, Account.name).where(Account.id.in_(accounts))
        ):
            names[("account", account_id)] = domain or name or f"account {account_id}"
    if leads:
        for lead_id, email, erased_at in session.execute(
            select(Lead.id, Lead.email, Lead.erased_at).where(Lead.id.in_(leads))
        ):
            names[("lead", lead_id)] = ERASED if erased_at is not None else email
    return names


def _rows(report: ReportFilter, customers: list[Customer]) -> list[ClvRow]:
    """One row per group (every month of the period for ``month``; no value last)."""
    by_group: dict[str | None, list[Customer]] = defaultdict(list)
    for customer in customers:
        by_group[customer.group].append(customer)
    if report.group_by is None:
        order: list[str | None] = [None]
    elif report.group_by == "month":
        order = [month_key(month) for month in months(report.start, report.end)]
    else:
        named = sorted(group for group in by_group if group is not None)
        order = [*named, *([None] if None in by_group else [])]
    rows = []
    for group in order:
        members = by_group.get(group, [])
        whole = [c.revenue for c in members if not c.other_currencies]
        other: dict[str, Decimal] = {}
        for customer in members:
            add_to(other, customer.other_currencies)
        rows.append(
            ClvRow(
                group=group,
                customers=len(members),
                revenue=sum((c.revenue for c in members), ZERO),
                average_clv=average(whole),
                customers_in_other_currencies=len(members) - len(whole),
                other_currencies=dict(sorted(other.items())),
            )
        )
    return rows


def clv_table(report: ClvReport) -> tuple[list[str], list[list[str | int | float | None]]]:
    """The groups: customers, revenue and average CLV in the report's currency, and the
    customers and amounts in other currencies (``USD 1200.00; GBP 50.00``)."""
    header = [
        "group",
        "customers",
        f"revenue_{report.currency.lower()}",
        f"average_clv_{report.currency.lower()}",
        "customers_in_other_currencies",
        "other_currencies",
    ]
    rows: list[list[str | int | float | None]] = [
        [
            row.group,
            row.customers,
            money(row.revenue),
            money(row.average_clv),
            row.customers_in_other_currencies,
            _others(row.other_currencies),
        ]
        for row in report.rows
    ]
    return header, rows


def customer_table(report: ClvReport) -> tuple[list[str], list[list[str | int | float | None]]]:
    """One row per customer (and group): since, months, deals, entries, revenue."""
    header = [
        "group",
        "customer",
        "since",
        "months_as_customer",
        "deals",
        "entries",
        f"revenue_{report.currency.lower()}",
        "other_currencies",
    ]
    rows: list[list[str | int | float | None]] = [
        [
            c.group,
            c.name,
            c.since.isoformat(),
            c.months,
            c.deals,
            c.entries,
            money(c.revenue),
            _others(c.other_currencies),
        ]
        for c in report.customers
    ]
    return header, rows


def _others(amounts: dict[str, Decimal]) -> str | None:
    return "; ".join(f"{code} {money(v)}" for code, v in amounts.items()) or None
