"""Commands: ``nurture icp validate|sync|show|regrade|explain`` and ``nurture readiness
validate|sync|show|check``, and ``nurture leads stages EMAIL`` (stage history).

``validate`` reads the file only and never touches the database (CI, editor hooks).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.orm import Session

from nurture.cli.group import cli, runtime, valid_or_exit
from nurture.cli.leads_cmd import leads_group
from nurture.cli.timestamps import parse_timestamp
from nurture.files.event_catalogue import event_catalogue
from nurture.leads.lifecycle import stage_history, time_in_stage
from nurture.leads.queries import get_lead
from nurture.models import Lead
from nurture.platform.db import transaction, utcnow
from nurture.qualification.icp_parser import load_icp_file
from nurture.qualification.readiness_parser import load_readiness_file
from nurture.qualification.service import fit_of, readiness_verdicts, regrade_everyone
from nurture.qualification.versions import active_icp, active_readiness, sync_file


def _sync(kind: str, path: Path) -> None:
    rt = runtime()
    with transaction(rt.sessions) as session:
        report = sync_file(
            session, kind, path, now=utcnow(), catalogue=event_catalogue(rt.settings)
        )
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        sys.exit(1)


def _lead(session: Session, ref: str) -> Lead:
    lead = get_lead(session, ref)
    if lead is None:
        raise click.ClickException(f"no lead {ref!r}")
    return lead


# ---------------------------------------------------------------- icp


@cli.group("icp")
def icp_group() -> None:
    """Fit grading: the ideal customer profile (NURTURE_ICP_FILE)."""


@icp_group.command("validate")
@click.argument("path", required=False, type=click.Path(path_type=Path))
def icp_validate(path: Path | None) -> None:
    """Check an ICP file (default: NURTURE_ICP_FILE): every problem as FILE:LINE: MESSAGE,
    exit status 1 if there is any."""
    target = path or runtime().settings.icp_file
    icp = valid_or_exit(target, load_icp_file(target))
    g = icp.grades
    click.echo(
        f"ok   {target}: {icp.name} ({len(icp.gates)} gates, {len(icp.criteria)} criteria; "
        f"A ≥ {g.a}, B ≥ {g.b}, C ≥ {g.c})"
    )


@icp_group.command("sync")
def icp_sync() -> None:
    """Load the ICP file into the database as a new version when it changed."""
    _sync("icp", runtime().settings.icp_file)


@icp_group.command("show")
def icp_show() -> None:
    """Print the active ICP: gates, criteria and their bands."""
    with runtime().sessions() as session:
        active = active_icp(session)
    if active is None:
        raise click.ClickException("no ICP is active: run `nurture icp sync`")
    icp, g = active.icp, active.icp.grades
    console = Console()
    gates = Table(title=f"{icp.name} (version {active.number}): gates")
    for column in ("gate", "field", "needs", "else grade at most"):
        gates.add_column(column)
    for gate in icp.gates:
        gates.add_row(gate.id, gate.field, gate.comparison.describe(), gate.caps_at)
    console.print(gates)
    criteria = Table(title=f"criteria (A ≥ {g.a}, B ≥ {g.b}, C ≥ {g.c}, else D)")
    for column in ("criterion", "field", "band", "points"):
        criteria.add_column(column)
    for criterion in icp.criteria:
        for index, band in enumerate(criterion.bands):
            criteria.add_row(
                criterion.name if index == 0 else "",
                criterion.field if index == 0 else "",
                band.label or band.comparison.describe(),
                f"{band.points:+d}",
            )
    console.print(criteria)


@icp_group.command("explain")
@click.argument("ref", metavar="EMAIL_OR_ID")
def icp_explain(ref: str) -> None:
    """Grade one lead now with the active ICP and explain every point (nothing is stored)."""
    with runtime().sessions() as session:
        active = active_icp(session)
        if active is None:
            raise click.ClickException("no ICP is active: run `nurture icp sync`")
        lead = _lead(session, ref)
        fit = fit_of(active, lead)
        click.echo(f"{lead.full_name} <{lead.email}>: fit {fit.summary}")
        for line in fit.reasons():
            click.echo(f"  {line}")
        if fit.missing:
            click.echo("missing (ask about these):")
            for missing in fit.missing:
                click.echo(f"  {missing.text}")


@icp_group.command("regrade")
@click.option("--only-stale", is_flag=True, help="Only leads graded with another ICP version.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Leads per transaction.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def icp_regrade(only_stale: bool, batch_size: int | None, no_progress: bool) -> None:
    """Regrade every lead with the active ICP (after an ICP change), in batches, then hand
    off the leads the new grades make ready. Run `nurture icp sync` first."""
    rt = runtime()
    with Progress(
        TextColumn("regrading"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(),
        disable=no_progress,
    ) as progress:
        task = progress.add_task("regrade", total=None)
        summary = regrade_everyone(
            rt.sessions,
            utcnow(),
            batch_size=batch_size or rt.settings.batch_size,
            only_stale=only_stale,
            on_batch=lambda done, total: progress.update(task, completed=done, total=total),
        )
    if summary.version is None:
        raise click.ClickException("no ICP is active: run `nurture icp sync`")
    click.echo(
        f"regraded {summary.leads} lead(s) with ICP version {summary.version}; "
        f"{summary.changed_grade} changed grade; {summary.qualified} qualified"
    )


# ---------------------------------------------------------------- readiness


@cli.group("readiness")
def readiness_group() -> None:
    """The MQL definition (NURTURE_READINESS_FILE)."""


@readiness_group.command("validate")
@click.argument("path", required=False, type=click.Path(path_type=Path))
def readiness_validate(path: Path | None) -> None:
    """Check a readiness file (default: NURTURE_READINESS_FILE)."""
    target = path or runtime().settings.readiness_file
    catalogue = event_catalogue(runtime().settings)
    readiness = valid_or_exit(target, load_readiness_file(target, catalogue=catalogue))
    click.echo(f"ok   {target}: {readiness.name} ({len(readiness.rules)} rules)")


@readiness_group.command("sync")
def readiness_sync() -> None:
    """Load the readiness file into the database as a new version when it changed."""
    _sync("readiness", runtime().settings.readiness_file)


@readiness_group.command("show")
def readiness_show() -> None:
    """Print the active MQL definition."""
    with runtime().sessions() as session:
        active = active_readiness(session)
    if active is None:
        raise click.ClickException(
            "no readiness definition is active: run `nurture readiness sync`"
        )
    readiness = active.readiness
    table = Table(title=f"{readiness.name} (version {active.number})")
    for column in ("rule", "conditions (all of them)"):
        table.add_column(column)
    for rule in readiness.rules:
        parts = []
        if rule.hand_raised is not None:
            within = rule.hand_raised.within
            parts.append("hand raised" + (f" within {within}" if within else ""))
        if rule.min_grade:
            parts.append(f"grade {rule.min_grade} or better")
        if rule.temperatures:
            parts.append("temperature " + "/".join(sorted(rule.temperatures)))
        if rule.min_score is not None:
            parts.append(f"score ≥ {rule.min_score:g}")
        if rule.account is not None:
            a = rule.account
            parts.append(
                f"≥ {a.engaged_contacts} engaged contacts at the account"
                + (f" (grade {a.min_grade}+)" if a.min_grade else "")
            )
        table.add_row(rule.name, "; ".join(parts))
    Console().print(table)
    click.echo(f"recycled leads wait {readiness.recycle_cooldown} before they can qualify again")


@readiness_group.command("check")
@click.argument("ref", metavar="EMAIL_OR_ID")
@click.option("--now", "now_text", metavar="TIMESTAMP", help="As of this time (ISO 8601).")
def readiness_check(ref: str, now_text: str | None) -> None:
    """Say whether one lead meets the MQL definition now, and why (nothing changes)."""
    now = parse_timestamp(now_text)
    with runtime().sessions() as session:
        lead = _lead(session, ref)
        verdicts, version = readiness_verdicts(session, [lead.id], now)
    if version is None:
        raise click.ClickException(
            "no readiness definition is active: run `nurture readiness sync`"
        )
    (_, verdict), *_ = verdicts
    if verdict.rule is not None:
        click.echo(f"ready: rule {verdict.rule.name}")
        for reason in verdict.reasons:
            click.echo(f"  {reason}")
        return
    click.echo(f"not ready: {verdict.why_not}")
    for rule, unmet in verdict.unmet.items():
        click.echo(f"  {rule}: {unmet}")


# ---------------------------------------------------------------- stage history


@leads_group.command("stages")
@click.argument("ref", metavar="EMAIL_OR_ID")
def stages_command(ref: str) -> None:
    """A lead's lifecycle: current stage, time in it, and every change (who and why)."""
    now = utcnow()
    with runtime().sessions() as session:
        lead = _lead(session, ref)
        history = stage_history(session, lead.id)
        click.echo(f"{lead.full_name} <{lead.email}>: {lead.stage} for {time_in_stage(lead, now)}")
        table = Table()
        for column in ("at (UTC)", "from", "to", "by", "why"):
            table.add_column(column)
        for change in history:
            table.add_row(
                f"{change.at:%Y-%m-%d %H:%M}",
                change.from_stage or "",
                change.to_stage,
                change.actor,
                change.reason,
            )
    Console().print(table)
