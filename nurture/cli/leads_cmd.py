"""Commands: ``nurture leads import`` and ``nurture leads list``."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from nurture.cli.group import cli, runtime, runtime_without_app
from nurture.leads.csv_columns import EXTRA_COLUMN_MODES, LeadImportError, parse_mapping
from nurture.leads.csv_import import import_leads_csv
from nurture.leads.fields import LAWFUL_BASES
from nurture.leads.import_summary import (
    BATCH_CONSENT_STATUSES,
    ImportSummary,
    describe_not_mailable,
    not_mailable_legend,
)
from nurture.leads.queries import list_leads
from nurture.leads.stages import LIFECYCLE_STAGES
from nurture.platform.db import transaction, utcnow


@cli.group("leads")
def leads_group() -> None:
    """Leads: import from CSV, list."""


def _source_name(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    value = value.strip()
    if not value or len(value) > 100:
        raise click.BadParameter("a source name has 1 to 100 characters")
    return value


# Without Flask's app context: an import serves no page, and importing the web app would
# only delay the first batch.
@leads_group.command("import", with_appcontext=False)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar='"COLUMN=FIELD"',
    help="Map a column to a field (email, first_name, …, attributes.NAME, or - to skip). "
    "Repeatable; overrides the automatic header recognition.",
)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write rejected rows [default: FILE.rejects.csv beside FILE].",
)
@click.option(
    "--source",
    default="csv",
    show_default=True,
    callback=_source_name,
    help="Recorded as the lead source of new leads and on every lead.created/updated event.",
)
@click.option(
    "--consent",
    type=click.Choice(BATCH_CONSENT_STATUSES),
    help="Consent status the people in this file gave, for rows without a consent column "
    "value, recorded as evidence with the file's name and the time of the import. "
    "granted: they opted in (campaigns may mail them); pending: they must confirm first "
    "(not mailed until they do); withdrawn: they said no (never mailed; applies even over "
    "a stored grant). granted and pending never replace a status a person set themselves.",
)
@click.option(
    "--lawful-basis",
    "--consent-basis",
    "lawful_basis",
    type=click.Choice(LAWFUL_BASES),
    help="Lawful basis recorded for leads that have none (the file's column wins). "
    "consent: mailable only with --consent granted (or a granted consent column); "
    "legitimate_interest, contract: mailable without an opt-in unless consent is pending or "
    "withdrawn; legal_obligation: not a basis for marketing email (not mailed).",
)
@click.option(
    "--extra-columns",
    type=click.Choice(EXTRA_COLUMN_MODES),
    default="ignore",
    show_default=True,
    help="What to do with columns that are not lead fields: keep them as custom "
    "attributes, or ignore them (they are listed in the summary).",
)
@click.option("--batch-size", type=click.IntRange(min=1), help="Rows per transaction.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.pass_context
def import_command(
    ctx: click.Context,
    file: Path,
    maps: tuple[str, ...],
    rejects: Path | None,
    source: str,
    consent: str | None,
    lawful_basis: str | None,
    extra_columns: str,
    batch_size: int | None,
    no_progress: bool,
) -> None:
    """Import leads from a CSV file (comma, semicolon or tab separated; UTF-8).

    Leads are matched by email: new ones are created, existing ones get the given values.
    Column headers are recognised in English, Polish, German and five more languages;
    columns that are not recognised are listed as ignored. Invalid rows are written to the
    rejects file with their line and reason. The summary says how many imported leads
    cannot be mailed, and why. Exits 0 when the file was imported (even with rejects), 1
    when it could not be read.
    """
    with runtime_without_app(ctx) as rt:
        try:
            summary = import_leads_csv(
                rt.sessions,
                file,
                now=utcnow(),
                mapping=parse_mapping(maps),
                rejects_path=rejects,
                default_timezone=rt.settings.default_timezone,
                source=source,
                progress=not no_progress,
                batch_size=batch_size or rt.settings.import_batch_size,
                extra_columns=extra_columns,
                consent_basis=lawful_basis,
                consent=consent,
            )
        except LeadImportError as exc:
            click.echo(f"error: {exc}", err=True)
            raise SystemExit(1) from None
    _print_summary(summary)


def _print_summary(summary: ImportSummary) -> None:
    console = Console()
    table = Table(title=f"Imported {summary.path.name}", show_header=False)
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    rows = [
        ("rows read", summary.rows_read),
        ("created", summary.created),
        ("updated", summary.updated),
        ("unchanged", summary.unchanged),
        ("rejected", summary.rejected),
        ("duplicates (later row kept)", summary.duplicates),
        ("blank rows", summary.blank),
        ("accounts created", summary.accounts_created),
        ("stage changes", summary.stage_changes),
        ("company without account", summary.unlinked_companies),
        ("mailable", summary.mailable),
        ("cannot be mailed", describe_not_mailable(summary.not_mailable)),
        ("seconds", f"{summary.seconds:.1f}"),
    ]
    for label, value in rows:
        table.add_row(label, str(value))
    console.print(table)
    console.print(
        "columns: " + ", ".join(f"{col} → {target}" for col, target in summary.columns.items()),
        highlight=False,
        markup=False,  # column names are the file's text, not rich markup
    )
    if summary.ignored_columns:
        console.print(
            "ignored columns (use --map or --extra-columns attributes to keep them): "
            + ", ".join(
                f"{name} (did you mean {summary.ignored_hints[name]}?)"
                if name in summary.ignored_hints
                else name
                for name in summary.ignored_columns
            ),
            highlight=False,
            markup=False,
        )
    for line in not_mailable_legend(summary.not_mailable):
        console.print(f"cannot be mailed, {line}", highlight=False)
    for note in summary.notes:
        console.print(f"note: {note}", highlight=False, markup=False)
    if summary.unlinked_companies:
        console.print(
            f"{summary.unlinked_companies} row(s) had company data but a free-mail address and "
            "no company_domain, so no account was linked",
            highlight=False,
        )
    if summary.duplicate_lines:
        shown = ", ".join(
            f"{skipped} (kept {kept})" for skipped, kept in summary.duplicate_lines[:10]
        )
        more = len(summary.duplicate_lines) - 10
        console.print(
            "duplicate emails, earlier rows skipped: line "
            + shown
            + (f" … and {more} more" if more > 0 else ""),
            highlight=False,
        )
    if summary.rejected_rows:
        more = summary.rejected - len(summary.rejected_rows)
        console.print("rejected rows:", highlight=False)
        for number, reason in summary.rejected_rows:
            console.print(f"  line {number}: {reason}", highlight=False, markup=False)
        if more > 0:
            console.print(f"  … and {more} more", highlight=False)
    if summary.rejects_path is not None:
        console.print(
            f"{summary.rejected} rejected row(s) written to {summary.rejects_path} "
            "(see the _line and _reason columns; fix them and import that file again)",
            highlight=False,
        )


@leads_group.command("list")
@click.option("--stage", type=click.Choice(LIFECYCLE_STAGES), help="Only leads at this stage.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
def list_command(stage: str | None, limit: int) -> None:
    """List leads, oldest first."""
    with transaction(runtime().sessions) as session:
        leads = list_leads(session, stage=stage, limit=limit)
        table = Table(title="Leads")
        table.add_column("id", justify="right")
        table.add_column("email", overflow="fold")
        table.add_column("name")
        table.add_column("stage")
        table.add_column("temperature")
        table.add_column("account", overflow="fold")
        table.add_column("created", no_wrap=True)
        for lead in leads:
            name = " ".join(p for p in (lead.first_name, lead.last_name) if p)
            account = lead.account.domain or lead.account.name if lead.account else ""
            table.add_row(
                str(lead.id),
                lead.email,
                name,
                lead.stage,
                lead.temperature,
                account or "",
                lead.created_at.strftime("%Y-%m-%d %H:%M"),
            )
    Console().print(table)
    if not leads:
        click.echo("no leads" + (f" at stage {stage}" if stage else ""))
