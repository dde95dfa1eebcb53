"""Commands: ``nurture team validate``, ``sync`` and ``list`` (the sales team file)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from nurture.cli.group import cli, runtime, valid_or_exit
from nurture.handoff.assignment import unavailable_because
from nurture.handoff.model import OPEN_STATUSES
from nurture.handoff.reps import rep_states
from nurture.handoff.team_parser import load_team_file
from nurture.handoff.team_sync import active_team, active_version, sync_team_file
from nurture.models import Handoff, SalesRep
from nurture.platform.db import utcnow


@cli.group("team")
def team_group() -> None:
    """The sales team: reps, working hours, territories, assignment rules."""


@team_group.command("validate")
@click.argument("path", required=False, type=click.Path(path_type=Path))
def validate_command(path: Path | None) -> None:
    """Check a team file (default: NURTURE_SALES_TEAM_FILE) without touching the database.

    Prints every problem as FILE:LINE: MESSAGE and exits with status 1 if there is any.
    """
    target = path or runtime().settings.sales_team_file
    team = valid_or_exit(target, load_team_file(target))
    click.echo(
        f"ok   {target}: {team.name} ({len(team.reps)} reps, {len(team.rules)} assignment "
        f"rules, fallback {team.fallback}, {len(team.reject_reasons)} reject reasons)"
    )


@team_group.command("sync")
def sync_command() -> None:
    """Load the team file into the database (a new version when it changed; reps mirrored).

    A broken file leaves the previous version active. Exits with status 1 if it failed.
    """
    report = sync_team_file(runtime(), now=utcnow())
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        sys.exit(1)


@team_group.command("list")
def list_command() -> None:
    """The reps of the active team file: availability, open handoffs, rotation."""
    now = utcnow()
    with runtime().sessions() as session:
        team = active_team(session)
        version = active_version(session)
        if team is None or version is None:
            raise click.ClickException("no sales team is synced: run `nurture team sync`")
        states = rep_states(session, lock=False)
        accepted = dict(
            session.execute(
                select(Handoff.rep_id, func.count())
                .where(Handoff.status.in_(OPEN_STATUSES))
                .group_by(Handoff.rep_id)
            ).all()
        )
        rows = {rep.email: rep for rep in session.scalars(select(SalesRep))}
    table = Table(title=f"{team.name} (version {version.number}; manager {team.manager_email})")
    for column in ("rep", "title", "hours", "territories", "segments", "open", "status"):
        table.add_column(column)
    for rep in team.reps:
        state = states.get(rep.email)
        row = rows.get(rep.email)
        open_count = accepted.get(row.id, 0) if row else 0
        capacity = f"/{rep.capacity}" if rep.capacity else ""
        why = unavailable_because(state, now) if state else "not synced"
        table.add_row(
            f"{rep.name}\n{rep.email}",
            rep.title or "",
            f"{rep.working_hours.describe()}\n{rep.timezone}",
            ", ".join(rep.territories),
            ", ".join(sorted(rep.segments)),
            f"{open_count}{capacity}",
            why or "available",
        )
    Console().print(table)
    rules = "; ".join(f"{rule.id} ({'+'.join(rule.match) or 'named reps'})" for rule in team.rules)
    click.echo(f"assignment: account owner → {rules or 'no rules'} → {team.fallback}")
