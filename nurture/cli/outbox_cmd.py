"""Commands: ``nurture outbox list|show|open|clear`` — read the mail the local outbox kept."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from nurture.cli.group import cli, runtime
from nurture.models import OutboxMessage
from nurture.platform.db import transaction
from nurture.platform.smtp_url import redact_url
from nurture.sending.outbox import clear_outbox, count_outbox, get_outbox_message, list_outbox


@cli.group("outbox")
def outbox_group() -> None:
    """The local outbox: mail stored instead of sent while no SMTP URL is configured."""


def _smtp_note() -> None:
    # Without this, someone who just configured SMTP wonders why new mail is missing here.
    smtp_url = runtime().settings.smtp_url
    if smtp_url:
        click.echo(
            f"note: NURTURE_SMTP_URL is set ({redact_url(smtp_url)}); new mail goes there, "
            "not to the outbox.",
            err=True,
        )


def _load(message_id: int) -> OutboxMessage:
    with transaction(runtime().sessions) as session:
        stored = get_outbox_message(session, message_id)
    if stored is None:
        raise click.ClickException(f"no message with id {message_id} in the outbox")
    return stored


def _parse(stored: OutboxMessage) -> EmailMessage:
    parsed = message_from_bytes(stored.raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _body(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return None
    return part.get_content()


@outbox_group.command("list")
@click.option("--to", "to", metavar="EMAIL", help="Only messages to this address.")
@click.option(
    "--limit", default=50, show_default=True, type=click.IntRange(1), help="How many to show."
)
def list_command(to: str | None, limit: int) -> None:
    """List stored messages, newest first."""
    _smtp_note()
    with transaction(runtime().sessions) as session:
        messages = list_outbox(session, to=to, limit=limit)
        total = count_outbox(session, to=to)
    if not messages:
        click.echo(f"The outbox has no messages{f' to {to}' if to else ''}.")
        return
    table = Table(title="Local outbox", caption=f"{len(messages)} of {total}")
    table.add_column("id", justify="right")
    table.add_column("stored at (UTC)", no_wrap=True)
    table.add_column("to", overflow="fold")
    table.add_column("subject")
    for message in messages:
        # Text() keeps rich from reading "[...]" in a subject as markup.
        table.add_row(
            str(message.id),
            f"{message.stored_at:%Y-%m-%d %H:%M:%S}",
            Text(message.to_address),
            Text(message.subject or ""),
        )
    Console().print(table)


@outbox_group.command("show")
@click.argument("message_id", metavar="ID", type=int)
@click.option("--html", "part", flag_value="html", help="The HTML part, as source.")
@click.option("--text", "part", flag_value="text", help="The plain-text part only.")
@click.option("--raw", "part", flag_value="raw", help="The message exactly as stored.")
@click.option("--headers", "part", flag_value="headers", help="The headers only.")
def show_command(message_id: int, part: str | None) -> None:
    """Show message ID: its headers and plain-text part unless an option picks one thing."""
    stored = _load(message_id)
    if part == "raw":
        click.echo(stored.raw, nl=False)
        return
    message = _parse(stored)
    if part == "html":
        html = _body(message, "html")
        if html is None:
            raise click.ClickException(f"message {message_id} has no HTML part")
        click.echo(html)
        return
    if part in (None, "headers"):
        for name, value in message.items():
            click.echo(f"{name}: {value}")
        if part == "headers":
            return
        click.echo()
    text = _body(message, "plain")
    if text is None:
        if part == "text":
            raise click.ClickException(f"message {message_id} has no plain-text part")
        click.echo("(no plain-text part; see --html)")
        return
    click.echo(text)


@outbox_group.command("open")
@click.argument("message_id", metavar="ID", type=int)
def open_command(message_id: int) -> None:
    """Write message ID to files to open in a browser and a mail client.

    The HTML part goes to <instance>/outbox/<ID>.html and the whole message to <ID>.eml.
    """
    stored = _load(message_id)
    folder: Path = runtime().settings.instance_path / "outbox"
    folder.mkdir(parents=True, exist_ok=True)
    eml = folder / f"{message_id}.eml"
    eml.write_bytes(stored.raw)
    html = _body(_parse(stored), "html")
    if html is None:
        click.echo(f"message {message_id} has no HTML part", err=True)
    else:
        path = folder / f"{message_id}.html"
        path.write_text(html, encoding="utf-8")
        click.echo(path)
    click.echo(eml)


@outbox_group.command("clear")
@click.confirmation_option(prompt="Delete every message in the local outbox?")
def clear_command() -> None:
    """Delete every stored message (asks first unless --yes)."""
    with transaction(runtime().sessions) as session:
        deleted = clear_outbox(session)
    click.echo(f"Deleted {deleted} message{'s' if deleted != 1 else ''} from the outbox.")
