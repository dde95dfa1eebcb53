"""Commands: ``nurture scoring validate``, ``sync``, ``rescore`` and ``show``.

``validate`` reads the file only and never touches the database (CI, editor hooks);
``sync`` stores a new version; ``rescore`` applies the active version to every lead.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from nurture.cli.group import cli, runtime, valid_or_exit
from nurture.files.event_catalogue import event_catalogue
from nurture.platform.db import utcnow
from nurture.scoring.parser import half_life_text, load_scoring_file
from nurture.scoring.service import rescore_everyone
from nurture.scoring.versions import active_model
from nurture.scoring.watch import sync_scoring_file


@cli.group("scoring")
def scoring_group() -> None:
    """The behavioural scoring model: check it, load it, rescore leads."""


@scoring_group.command("validate")
@click.argument("path", required=False, type=click.Path(path_type=Path))
def validate_command(path: Path | None) -> None:
    """Check a scoring file (default: NURTURE_SCORING_FILE).

    Prints every problem as FILE:LINE: MESSAGE and exits with status 1 if there is any.
    """
    target = path or runtime().settings.scoring_file
    settings = runtime().settings
    model = valid_or_exit(target, load_scoring_file(target, catalogue=event_catalogue(settings)))
    hand_raisers = sum(1 for rule in model.rules if rule.hand_raiser)
    click.echo(
        f"ok   {target}: {model.name} ({len(model.rules)} rules, {hand_raisers} hand-raisers, "
        f"half-life {half_life_text(model.half_life)}, warm ≥ {model.bands.warm:g}, "
        f"hot ≥ {model.bands.hot:g})"
    )


@scoring_group.command("sync")
def sync_command() -> None:
    """Load the scoring file into the database as a new version when it changed.

    A broken file leaves the previous version active. Exits with status 1 if it failed.
    """
    report = sync_scoring_file(runtime(), now=utcnow())
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        sys.exit(1)


@scoring_group.command("rescore")
@click.option(
    "--only-stale", is_flag=True, help="Only leads scored with another model version (or never)."
)
@click.option("--batch-size", type=click.IntRange(min=1), help="Leads per transaction.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def rescore_command(only_stale: bool, batch_size: int | None, no_progress: bool) -> None:
    """Recompute every lead's score with the active model (after a model change).

    Temperatures that change are recorded on the timeline and move enrolments to the
    matching track at the next tick. Run `nurture scoring sync` first to load an edit.
    """
    rt = runtime()
    now = utcnow()
    console = Console()
    with Progress(
        TextColumn("rescoring"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=no_progress,
        transient=False,
    ) as progress:
        task = progress.add_task("rescore", total=None)

        def on_batch(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        summary = rescore_everyone(
            rt.sessions,
            now,
            batch_size=batch_size or rt.settings.batch_size,
            only_stale=only_stale,
            on_batch=on_batch,
        )
    if summary.version is None:
        raise click.ClickException("no scoring model is active: run `nurture scoring sync`")
    click.echo(
        f"rescored {summary.leads} lead(s) with scoring version {summary.version}; "
        f"{summary.changed_temperature} changed temperature"
    )


@scoring_group.command("show")
def show_command() -> None:
    """Print the active model's rules."""
    with runtime().sessions() as session:
        active = active_model(session)
    if active is None:
        raise click.ClickException("no scoring model is active: run `nurture scoring sync`")
    model = active.model
    table = Table(
        title=f"{model.name} (version {active.number}; half-life {half_life_text(model.half_life)};"
        f" warm ≥ {model.bands.warm:g}, hot ≥ {model.bands.hot:g})"
    )
    for column in ("rule", "event", "when", "points", "cap/day", "cap total", "hand-raiser"):
        table.add_column(column)
    for rule in model.rules:
        c = rule.conditions
        when = "; ".join(
            f"{name}: {', '.join(map(str, values))}"
            for name, values in (
                ("url", c.urls),
                ("campaign", c.campaigns),
                ("template", c.templates),
                ("form", c.forms),
                *((f"properties.{k}", v) for k, v in c.properties),
            )
            if values
        )
        table.add_row(
            rule.id,
            rule.event,
            when,
            f"{rule.points:+g}",
            "" if rule.cap.per_day is None else f"{rule.cap.per_day:g}",
            "" if rule.cap.total is None else f"{rule.cap.total:g}",
            "yes" if rule.hand_raiser else "",
        )
    Console().print(table)
