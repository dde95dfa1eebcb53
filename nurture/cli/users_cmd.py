"""Commands: ``nurture users create|list|role|password|disable|enable`` — the people who sign
in to the web app, and their roles."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime

import click
from flask import current_app
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from nurture.auth import links
from nurture.auth.roles import ROLES
from nurture.auth.users import (
    UserError,
    change_role,
    create_user,
    disable_user,
    enable_user,
    find_user,
    list_users,
    set_password,
    set_weekly_digest,
)
from nurture.cli.group import cli, runtime
from nurture.models import User
from nurture.platform.db import transaction, utcnow
from nurture.web.ui.account import password_link

ACTOR = "cli"


@cli.group("users")
def users_group() -> None:
    """Users of the web app and their roles (admin, marketer, sales, sales-manager, viewer)."""


def _password(from_stdin: bool) -> str:
    # A prompt that hides what is typed, twice; or one line on standard input for scripts,
    # so a password never has to appear on a command line (shell history, process list).
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_group.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the user may do.")
@click.option("--name", default="", help="Shown in the app (default: the address's name).")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
@click.option("--no-password", is_flag=True, help="Create it without a password for now.")
@click.option(
    "--invite",
    is_flag=True,
    help="No password: print a one-time link (valid 3 days) for the user to set one.",
)
def create_command(
    email: str, role: str, name: str, password_stdin: bool, no_password: bool, invite: bool
) -> None:
    """Create a user who signs in with EMAIL and a password (prompted for, hidden), or who
    sets one through an invitation link (--invite)."""
    if invite and password_stdin:
        raise click.UsageError("--invite and --password-stdin exclude each other")
    no_password = no_password or invite
    password = None if no_password else _password(password_stdin)
    try:
        with transaction(runtime().sessions) as session:
            user = create_user(
                session,
                email=email,
                name=name,
                role=role,
                password=password,
                actor=ACTOR,
                now=utcnow(),
            )
            summary = f"user {user.email} created ({user.role})"
            if invite:
                # The link's path comes from the app's own route; the host from
                # NURTURE_PUBLIC_URL (password_link), as in the emailed invitations.
                with current_app.test_request_context():
                    link = password_link(user, links.INVITE)
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    if invite:
        click.echo(f"{summary}; send them this one-time link to set a password:", err=True)
        click.echo(link)
        return
    click.echo(
        summary + ("; no password yet: set one with nurture users password" if no_password else "")
    )


@users_group.command("list")
def list_command() -> None:
    """Every user: address, name, role, last sign-in, and whether it is disabled."""
    with runtime().sessions() as session:
        users = list_users(session)
        table = Table()
        # The address is what the other commands take: never wrapped, so it can be copied.
        table.add_column("email", no_wrap=True)
        for column in ("name", "role", "last sign-in (UTC)", "status"):
            table.add_column(column)
        for user in users:
            table.add_row(
                user.email,
                user.name,
                user.role,
                f"{user.last_login_at:%Y-%m-%d %H:%M}" if user.last_login_at else "never",
                "active" if user.active else f"disabled {user.disabled_at:%Y-%m-%d}",
            )
    if users:
        Console().print(table)
    else:
        click.echo("no users yet: create one with nurture users create EMAIL --role admin")


@users_group.command("role")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES))
def role_command(email: str, role: str) -> None:
    """Give EMAIL's account another ROLE."""
    _change(lambda session, now: change_role(session, email, role, actor=ACTOR, now=now))


@users_group.command("disable")
@click.argument("email")
def disable_command(email: str) -> None:
    """Stop EMAIL from signing in (its history stays)."""
    _change(lambda session, now: disable_user(session, email, actor=ACTOR, now=now))


@users_group.command("enable")
@click.argument("email")
def enable_command(email: str) -> None:
    """Let a disabled account sign in again."""
    _change(lambda session, now: enable_user(session, email, actor=ACTOR, now=now))


@users_group.command("digest")
@click.argument("email")
@click.argument("state", type=click.Choice(["on", "off"]))
def digest_command(email: str, state: str) -> None:
    """Turn EMAIL's weekly report digest on or off (Mondays; docs/analytics.md)."""
    _change(
        lambda session, now: set_weekly_digest(session, email, state == "on", actor=ACTOR, now=now)
    )


@users_group.command("password")
@click.argument("email")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
def password_command(email: str, password_stdin: bool) -> None:
    """Set a new password for EMAIL (prompted for, hidden)."""
    password = _password(password_stdin)
    try:
        with transaction(runtime().sessions) as session:
            user = find_user(session, email)
            if user is None:
                raise UserError(f"no user {email!r}")
            set_password(session, user, password, actor=ACTOR, now=utcnow())
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"password of {email} changed")


def _change(action: Callable[[Session, datetime], User]) -> None:
    try:
        with transaction(runtime().sessions) as session:
            user = action(session, utcnow())
            line = f"{user.email}: {user.role}, {'active' if user.active else 'disabled'}"
            if user.weekly_digest:
                line += ", weekly digest"
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(line)
