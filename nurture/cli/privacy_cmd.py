"""Commands: ``nurture leads export|erase``, ``nurture privacy purge``,
``nurture unsubscribes ingest``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from nurture.cli.group import cli, runtime
from nurture.cli.leads_cmd import leads_group
from nurture.platform.db import transaction, utcnow
from nurture.privacy.rights import (
    UnknownLead,
    erase_lead,
    export_lead,
    purge_expired,
    record_export,
)
from nurture.privacy.unsubscribe_mail import ingest_unsubscribe_mail


@leads_group.command("export")
@click.argument("email")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to a file instead of stdout.",
)
def export_command(email: str, output: Path | None) -> None:
    """Print everything held about a person as JSON (GDPR access request)."""
    rt = runtime()
    try:
        with transaction(rt.sessions) as session:
            data = export_lead(session, email)
            record_export(
                session, data["lead"]["id"], data["lead"]["email"], actor="cli", now=utcnow()
            )
    except UnknownLead:
        click.echo("error: no lead with that email address or id; nothing exported", err=True)
        sys.exit(1)
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if output is None:
        click.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(f"written to {output}")


@leads_group.command("erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase_command(email: str, yes: bool) -> None:
    """Erase a person: personal data removed, the address kept only as a hash on the
    suppression list, events and messages kept anonymous for reports."""
    if not yes:
        click.confirm(f"Erase {email}? This cannot be undone", abort=True)
    rt = runtime()
    try:
        with transaction(rt.sessions) as session:
            report = erase_lead(
                session,
                email,
                now=utcnow(),
                actor="cli",
                instance_path=rt.settings.instance_path,
            )
    except UnknownLead:
        click.echo("error: no lead with that email address or id; nothing erased", err=True)
        sys.exit(1)
    click.echo(
        f"erased lead {report.lead_id}: {report.messages} messages and {report.events} events "
        "anonymised; the address is kept only as a hash on the suppression list"
    )
    imports = report.imports
    if imports.imports:
        click.echo(
            f"removed from {imports.imports} lead import(s): {imports.file_rows} row(s) of "
            f"uploaded files, {imports.rejected_rows} rejected row(s), "
            f"{imports.preview_rows} preview row(s)"
        )


@cli.group("privacy")
def privacy_group() -> None:
    """Privacy: retention of raw tracking data."""


@privacy_group.command("purge")
def purge_command() -> None:
    """Remove raw tracking data (IP, user agent) older than NURTURE_TRACKING_RETENTION and
    finished webhook deliveries older than NURTURE_WEBHOOK_RETENTION (the worker does both
    daily)."""
    rt = runtime()
    retention = rt.settings.tracking_retention
    webhooks = rt.settings.webhook_retention
    with transaction(rt.sessions) as session:
        changed, deleted = purge_expired(session, rt.settings, now=utcnow())
    if retention is None:
        click.echo("tracking retention is 'forever': no tracking data purged")
    else:
        click.echo(f"purged raw tracking data older than {retention.days} days from {changed} rows")
    if webhooks is None:
        click.echo("webhook retention is 'forever': no webhook deliveries deleted")
    else:
        click.echo(f"deleted {deleted} finished webhook deliveries older than {webhooks.days} days")


@cli.group("unsubscribes")
def unsubscribes_group() -> None:
    """Unsubscribes by email (the mailto in List-Unsubscribe)."""


@unsubscribes_group.command("ingest")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def ingest_command(path: Path) -> None:
    """Unsubscribe the senders of emails to unsubscribe+TOKEN@… (.eml, maildir or mbox)."""

    report = ingest_unsubscribe_mail(runtime(), path, now=utcnow())
    for problem in report.problems:
        click.echo(f"skipped: {problem}", err=True)
    click.echo(
        f"{report.read} emails read: {report.unsubscribed} unsubscribed, "
        f"{report.unknown} with an unknown token, {report.no_token} without a token"
    )
