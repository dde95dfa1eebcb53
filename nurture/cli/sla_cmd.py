"""Commands: ``nurture sla report|list`` — handoff SLA compliance and running clocks."""

from __future__ import annotations

from datetime import timedelta

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from nurture.cli.group import cli, runtime
from nurture.handoff.sla.service import compliance_report
from nurture.models import Handoff, HandoffSla, Lead, SalesRep
from nurture.platform.db import utcnow


@cli.group("sla")
def sla_group() -> None:
    """The handoff SLA (NURTURE_SLA_ACCEPT, NURTURE_SLA_REMIND, NURTURE_SLA_ESCALATE)."""


@sla_group.command("report")
@click.option("--days", type=click.IntRange(1, 3650), default=30, show_default=True)
def report_command(days: int) -> None:
    """Compliance per rep over the last DAYS: met, breached, median working time to respond."""
    settings = runtime().settings
    console = Console()
    policy = settings.sla
    console.print(
        f"SLA: respond within {policy.describe()}"
        if policy
        else "SLA: off (NURTURE_SLA_ACCEPT=off)"
    )
    with runtime().sessions() as session:
        rows = compliance_report(session, since=utcnow() - timedelta(days=days))
    table = Table(title=f"SLA compliance, last {days} days")
    for column in ("rep", "handoffs", "met", "breached", "pending", "met %", "median response"):
        table.add_column(column, justify="left" if column == "rep" else "right")
    for row in rows:
        table.add_row(
            row.rep,
            str(row.handoffs),
            str(row.met),
            str(row.breached),
            str(row.pending),
            "—" if row.rate is None else f"{row.rate:.0%}",
            "—"
            if row.median_business_minutes is None
            else f"{row.median_business_minutes:.0f} business min",
        )
    console.print(table)


@sla_group.command("list")
def list_command() -> None:
    """Running clocks, soonest deadline first."""
    with runtime().sessions() as session:
        rows = session.execute(
            select(HandoffSla, Handoff, Lead, SalesRep)
            .join(Handoff, Handoff.id == HandoffSla.handoff_id)
            .join(Lead, Lead.id == Handoff.lead_id)
            .outerjoin(SalesRep, SalesRep.id == Handoff.rep_id)
            .where(HandoffSla.status == "pending")
            .order_by(HandoffSla.due_at)
        ).all()
        table = Table(title="handoffs waiting for sales")
        for column in ("handoff", "lead", "owner", "due (UTC)", "reminded", "hours"):
            table.add_column(column)
        for sla, handoff, lead, rep in rows:
            table.add_row(
                str(handoff.id),
                lead.email,
                rep.name if rep else "nobody",
                f"{sla.due_at:%Y-%m-%d %H:%M}",
                f"{sla.reminded_at:%H:%M}" if sla.reminded_at else "",
                f"{sla.working_hours} ({sla.timezone})",
            )
        Console().print(table)
