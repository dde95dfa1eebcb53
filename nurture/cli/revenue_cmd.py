"""Commands: ``nurture revenue add|list`` — revenue booked per account after the won deal
(renewals, upsells, other income; docs/analytics.md, "Revenue and CLV")."""

from __future__ import annotations

import json

import click

from nurture.analytics.tables import Cell
from nurture.cli.group import cli, runtime
from nurture.cli.report_cmd import FORMATS, print_table, write_csv
from nurture.handoff.account_view import find_account
from nurture.handoff.revenue import add_revenue, revenue_lines
from nurture.handoff.revenue_rules import KINDS, RevenueError
from nurture.leads.queries import get_lead
from nurture.platform.db import transaction, utcnow

# The CLI's option for each field a revenue entry checks.
_OPTIONS = {
    "amount": "--amount",
    "currency": "--currency",
    "booked_on": "--on",
    "kind": "--kind",
    "note": "--note",
    "lead": "--lead",
}


@cli.group("revenue")
def revenue_group() -> None:
    """Revenue after the won deal: renewals, upsells and other income per account."""


@revenue_group.command("add")
@click.argument("account_ref", metavar="ACCOUNT_DOMAIN")
@click.option("--amount", required=True, help="The amount, e.g. 1200 or 1200.50.")
@click.option("--currency", required=True, help="ISO 4217 code, e.g. EUR.")
@click.option("--on", "booked_on", required=True, metavar="DATE", help="Booked on (YYYY-MM-DD).")
@click.option("--kind", default="other", show_default=True, help=f"{', '.join(KINDS)}.")
@click.option("--note", help="What it was (an invoice number, the product…).")
@click.option("--lead", "lead_ref", help="The person it was sold to (email or id).")
def add_command(
    account_ref: str,
    amount: str,
    currency: str,
    booked_on: str,
    kind: str,
    note: str | None,
    lead_ref: str | None,
) -> None:
    """Book revenue for the account with domain (or id) ACCOUNT_DOMAIN."""
    with transaction(runtime().sessions) as session:
        account = find_account(session, account_ref)
        if account is None:
            raise click.UsageError(f"ACCOUNT_DOMAIN: no account with domain or id {account_ref!r}")
        lead_id = None
        if lead_ref:
            lead = get_lead(session, lead_ref)
            if lead is None or lead.erased_at is not None:
                raise click.UsageError(f"--lead: no lead {lead_ref!r}")
            lead_id = lead.id
        try:
            entry = add_revenue(
                session,
                account,
                amount=amount,
                currency=currency,
                booked_on=booked_on,
                kind=kind,
                note=note,
                lead_ref=lead_id,
                who="cli",
                now=utcnow(),
            )
        except RevenueError as error:
            raise click.UsageError(
                "; ".join(f"{_OPTIONS.get(k, k)}: {why}" for k, why in error.errors.items())
            ) from None
        click.echo(
            f"revenue {entry.id}: {entry.amount:.2f} {entry.currency} on {entry.booked_on} "
            f"({entry.kind}) for {account.domain or account.name}"
        )


@revenue_group.command("list")
@click.option("--account", "account_ref", help="Only this account (domain or id).")
@click.option("--limit", type=click.IntRange(1, 100000), default=1000, show_default=True)
@click.option("--format", "output", type=click.Choice(FORMATS), default="table", show_default=True)
def list_command(account_ref: str | None, limit: int, output: str) -> None:
    """Revenue entries, newest booking first."""
    with runtime().sessions() as session:
        account_id = None
        if account_ref:
            account = find_account(session, account_ref)
            if account is None:
                raise click.UsageError(f"--account: no account with domain or id {account_ref!r}")
            account_id = account.id
        lines = revenue_lines(session, account_id=account_id, limit=limit)
    if output == "json":
        click.echo(json.dumps({"entries": [line.as_dict() for line in lines]}, indent=2))
        return
    header = ["id", "booked_on", "account", "amount", "currency", "kind", "lead", "note", "who"]
    rows: list[list[Cell]] = [
        [
            line.id,
            line.booked_on,
            line.account,
            f"{line.amount:.2f}",
            line.currency,
            line.kind,
            line.lead,
            line.note,
            line.who,
        ]
        for line in lines
    ]
    if output == "csv":
        write_csv(header, rows)
    else:
        print_table(
            f"revenue entries ({len(lines)})",
            header,
            [["-" if cell is None else str(cell) for cell in row] for row in rows],
        )
