"""Commands: ``nurture apikeys create|list|revoke``."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from nurture.auth.apikeys import KEY_SCHEME, create_api_key, list_api_keys, revoke_api_key
from nurture.cli.group import cli, runtime
from nurture.platform.db import transaction, utcnow


@cli.group("apikeys")
def apikeys_group() -> None:
    """API keys for the JSON API."""


@apikeys_group.command("create")
@click.argument("name")
def create_command(name: str) -> None:
    """Create a key called NAME and print it (once).

    Only the key goes to standard output, so KEY=$(nurture apikeys create zapier) works.
    """
    try:
        with transaction(runtime().sessions) as session:
            key, plaintext = create_api_key(session, name, now=utcnow())
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from None
    click.echo(f"API key {key.name!r} created ({KEY_SCHEME}_{key.prefix}).", err=True)
    click.echo(plaintext)
    click.echo(
        "Store it now: it is shown only this once and cannot be recovered "
        "(only its hash is kept). Send it as 'Authorization: Bearer <key>'.",
        err=True,
    )


@apikeys_group.command("list")
def list_command() -> None:
    """List keys (names, prefixes and dates; never the secrets)."""
    with transaction(runtime().sessions) as session:
        keys = list_api_keys(session)
    table = Table(title="API keys")
    for column in ("name", "prefix", "created", "last used", "status"):
        table.add_column(column)
    for key in keys:
        table.add_row(
            key.name,
            f"{KEY_SCHEME}_{key.prefix}",
            key.created_at.strftime("%Y-%m-%d %H:%M"),
            key.last_used_at.strftime("%Y-%m-%d %H:%M") if key.last_used_at else "never",
            f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active",
        )
    Console().print(table)


@apikeys_group.command("revoke")
@click.argument("prefix")
def revoke_command(prefix: str) -> None:
    """Revoke the key with PREFIX (as shown by 'apikeys list'); it stops working at once."""
    now = utcnow()
    with transaction(runtime().sessions) as session:
        key = revoke_api_key(session, prefix, now=now)
    if key is None:
        click.echo(f"error: no API key with prefix {prefix!r}", err=True)
        raise SystemExit(1)
    assert key.revoked_at is not None
    when = f"{key.revoked_at:%Y-%m-%d %H:%M}"
    already = "was already revoked" if key.revoked_at != now else "revoked"
    click.echo(f"{key.name!r} ({KEY_SCHEME}_{key.prefix}) {already} at {when} UTC")
