"""Command: ``nurture enrol EMAIL CAMPAIGN`` — manual enrolment."""

from __future__ import annotations

import click

from nurture.campaigns.services import NotFound, enrol_by_email
from nurture.cli.group import cli, runtime
from nurture.cli.timestamps import parse_timestamp


@cli.command("enrol")
@click.argument("email")
@click.argument("campaign")
@click.option("--now", "now_text", metavar="TIMESTAMP", help="Enrol as of this time (ISO 8601).")
def enrol_command(email: str, campaign: str, now_text: str | None) -> None:
    """Enrol the lead EMAIL in CAMPAIGN (its file id). The audience, consent and re-entry
    rules apply; the reason is printed when the lead is not enrolled."""
    try:
        outcome = enrol_by_email(runtime(), email, campaign, now=parse_timestamp(now_text))
    except NotFound as exc:
        raise click.ClickException(str(exc)) from exc
    if not outcome.enrolled:
        raise click.ClickException(f"not enrolled: {outcome.reason}")
    click.echo(f"{email}: {outcome.reason}; first step due now")
