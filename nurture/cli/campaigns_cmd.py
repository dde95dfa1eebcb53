"""Commands: ``nurture campaigns validate``, ``sync``, ``list``, ``pause`` and ``resume``.

``validate`` reads files only and never touches the database, so it can run in CI or an
editor hook; ``sync`` is the same check followed by storing new versions; ``list`` shows
what is running; ``pause`` and ``resume`` stop and restart a campaign's sending (the same
use cases as the campaign page's buttons).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from nurture.analytics.costs import sync_costs_file
from nurture.campaigns.pausing import (
    CampaignNotFound,
    PauseOutcome,
    pause_campaign,
    resume_campaign,
)
from nurture.campaigns.services import email_brand
from nurture.campaigns.services import template_checks as campaign_template_checks
from nurture.campaigns.sync import sync_campaigns
from nurture.campaigns.validator import TemplateProblems, check_directory
from nurture.cli.group import cli, runtime
from nurture.cli.timestamps import parse_timestamp
from nurture.consent.brand import Brand
from nurture.files.event_catalogue import event_catalogue, read_event_catalogue
from nurture.handoff.team_sync import sync_team_file
from nurture.models import Campaign, CampaignVersion, Enrollment
from nurture.platform.db import transaction, utcnow
from nurture.qualification.watch import sync_qualification_files
from nurture.rendering.library import RenderLimits, TemplateLibrary, render_limits
from nurture.scoring.watch import sync_scoring_file


@dataclass(frozen=True)
class TemplateChecks:
    """How campaign files are checked against the templates folder."""

    exists: Callable[[str], bool]
    problems: TemplateProblems | None
    known: Iterable[str]
    description: str


def template_checks(
    templates_path: Path, brand: Brand, limits: RenderLimits | None = None
) -> TemplateChecks:
    """Checks through the template library: every template a campaign sends rendered
    against sample leads (held to ``limits``, the render budget) and checked for the
    unsubscribe and preferences links and ``brand``'s postal address."""
    library = TemplateLibrary(templates_path, limits=limits)
    exists, problems = campaign_template_checks(library, brand)
    return TemplateChecks(
        exists=exists,
        problems=problems,
        known=library.names(),
        description=f"templates rendered for sample leads from {templates_path}",
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _target(path: Path | None) -> Path:
    target = path or runtime().settings.campaigns_path
    if not target.exists():
        raise click.ClickException(f"no campaign file or folder at {target}")
    return target


@cli.group("campaigns")
def campaigns_group() -> None:
    """Campaign files: check them, load them into the database, see what runs."""


@campaigns_group.command("validate")
@click.argument("path", required=False, type=click.Path(path_type=Path))
def validate_command(path: Path | None) -> None:
    """Check campaign files (a file or a folder; default: the campaigns folder).

    Prints every problem as FILE:LINE: MESSAGE and exits with status 1 if there is any.
    """
    target = _target(path)
    settings = runtime().settings
    checks = template_checks(
        settings.templates_path, email_brand(runtime()), render_limits(settings)
    )
    events = read_event_catalogue(settings.events_file)
    results = check_directory(
        target,
        template_exists=checks.exists,
        template_problems=checks.problems,
        known_templates=checks.known,
        catalogue=events.catalogue,
    )
    problems = len(events.problems)
    for problem in events.problems:
        click.echo(str(problem))
    for item in results:
        if item.ok and item.load.campaign is not None:
            campaign = item.load.campaign
            steps = sum(len(track.steps) for track in campaign.tracks)
            click.echo(
                f"ok   {item.path}: {campaign.id} "
                f"({_count(len(campaign.tracks), 'track')}, {_count(steps, 'step')})"
            )
        for problem in item.problems:
            click.echo(str(problem))
        problems += len(item.problems)
    broken = sum(1 for item in results if item.problems)
    click.echo(
        f"{_count(len(results), 'file')} checked, {len(results) - broken} valid, "
        f"{_count(problems, 'problem')}; {checks.description}"
    )
    if problems or not results:
        if not results:
            click.echo(f"no campaign files (*.yaml, *.yml) in {target}")
        sys.exit(1)


@campaigns_group.command("sync")
@click.argument("path", required=False, type=click.Path(path_type=Path))
def sync_command(path: Path | None) -> None:
    """Load campaign files into the database as new versions (default: the campaigns folder).

    A valid changed file becomes the active version; a broken file is recorded as the
    campaign's last error and its previous version stays active; a campaign whose file was
    removed is archived. The scoring, sales team, ICP, readiness and costs files are synced
    too. Exits with status 1 if any file failed.
    """
    target = _target(path)
    rt = runtime()
    checks = template_checks(
        rt.settings.templates_path, email_brand(rt), render_limits(rt.settings)
    )
    with transaction(rt.sessions) as session:
        report = sync_campaigns(
            session,
            target,
            now=utcnow(),
            template_exists=checks.exists,
            template_problems=checks.problems,
            known_templates=checks.known,
            catalogue=event_catalogue(rt.settings),
        )
    for line in report.lines():
        click.echo(line)
    # The scoring model is versioned like campaigns and synced with them (docs/scoring.md).
    scoring = sync_scoring_file(rt, now=utcnow())
    for line in scoring.lines():
        click.echo(line)
    # And the sales team file (docs/handoff.md).
    team = sync_team_file(rt, now=utcnow())
    for line in team.lines():
        click.echo(line)
    # So are the ICP and readiness files (docs/qualification.md).
    qualification = sync_qualification_files(rt, now=utcnow())
    for item in qualification:
        for line in item.lines():
            click.echo(line)
    # And the costs file, after the campaigns its entries name (docs/costs.md).
    costs = sync_costs_file(rt, now=utcnow())
    for line in costs.lines():
        click.echo(line)
    files_ok = scoring.ok and team.ok and costs.ok and all(item.ok for item in qualification)
    if not report.ok or not files_ok:
        sys.exit(1)


@campaigns_group.command("list")
def list_command() -> None:
    """Show every campaign: version, status, active enrolments and the last sync error."""
    rt = runtime()
    with rt.sessions() as session:
        rows = session.execute(
            select(Campaign, CampaignVersion.number)
            .outerjoin(CampaignVersion, CampaignVersion.id == Campaign.active_version_id)
            .order_by(Campaign.key)
        ).all()
        active = dict(
            session.execute(
                select(Enrollment.campaign_id, func.count())
                .where(Enrollment.status == "active")
                .group_by(Enrollment.campaign_id)
            ).all()
        )
    if not rows:
        click.echo("no campaigns yet: run `nurture campaigns sync`")
        return
    table = Table("key", "name", "version", "status", "active enrolments", "last error")
    table.columns[-1].overflow = "fold"
    for campaign, number in rows:
        error = ""
        if campaign.last_error:
            first = campaign.last_error.splitlines()[0]
            if campaign.source_path and first.startswith(campaign.source_path):
                # The table is narrow: the file name says enough, the key names the campaign.
                first = Path(campaign.source_path).name + first[len(campaign.source_path) :]
            more = len(campaign.last_error.splitlines()) - 1
            error = first + (f" (+{more} more)" if more else "")
            if campaign.last_error_at is not None:
                error += f" [{campaign.last_error_at:%Y-%m-%d %H:%M} UTC]"
        table.add_row(
            campaign.key,
            campaign.name,
            str(number) if number is not None else "-",
            campaign.status,
            str(active.get(campaign.id, 0)),
            error,
        )
    Console().print(table)


# Who the audit log names for a change made from the command line.
ACTOR = "cli"


@campaigns_group.command("pause")
@click.argument("key")
@click.option("--now", "now_text", metavar="TIMESTAMP", help="Pause as of this time (ISO 8601).")
def pause_command(key: str, now_text: str | None) -> None:
    """Pause the campaign KEY (its file id): none of its emails is sent and no lead enters
    it until it is resumed; its enrolments keep their place."""
    _report(pause_campaign, key, now_text)


@campaigns_group.command("resume")
@click.argument("key")
@click.option("--now", "now_text", metavar="TIMESTAMP", help="Resume as of this time (ISO 8601).")
def resume_command(key: str, now_text: str | None) -> None:
    """Resume the paused campaign KEY: its enrolments continue where they are, each email
    within the campaign's send window and caps."""
    _report(resume_campaign, key, now_text)


def _report(change: Callable[..., PauseOutcome], key: str, now_text: str | None) -> None:
    try:
        outcome = change(runtime(), key, actor=ACTOR, now=parse_timestamp(now_text))
    except CampaignNotFound as exc:
        raise click.ClickException(str(exc)) from exc
    if not outcome.changed:
        if outcome.reason in ("already paused", "not paused"):
            click.echo(f"{key}: {outcome.reason}; nothing changed")
            return
        raise click.ClickException(f"{key}: {outcome.reason}")
    live = _count(outcome.enrolments, "live enrolment")
    if outcome.status == "paused":
        click.echo(f"{key}: paused; {live} hold their place")
    else:
        click.echo(
            f"{key}: resumed; {live} continue, {outcome.overdue} of them due now "
            "(sent within the send window and caps)"
        )
