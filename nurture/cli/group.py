"""The ``nurture`` command group and what its commands share: the app's runtime, and how a
marketer file's problems are printed."""

from __future__ import annotations

import sys
from typing import TypeVar

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup

from nurture import wiring
from nurture.files.yaml_file import FileLoad
from nurture.platform.config import ConfigError
from nurture.platform.runtime import Runtime
from nurture.web import create_app

T = TypeVar("T")


def _create_app() -> Flask:
    try:
        return create_app()
    except ConfigError as exc:
        # A setting the operator must fix: one line naming it, not a traceback.
        raise click.ClickException(str(exc)) from None


@click.group(
    cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False
)
def cli() -> None:
    """Nurture: stage-aware drip campaigns, scoring and sales handoff."""
    wiring.connect()


def runtime() -> Runtime:
    """The Runtime of the app the CLI loaded."""
    return current_app.extensions["nurture"]


def valid_or_exit(target: object, load: FileLoad[T]) -> T:
    """Print every problem of a loaded marketer file as FILE:LINE: MESSAGE; exit with status
    1 when there is any, else return the parsed value (the ``validate`` commands)."""
    for problem in load.problems:
        click.echo(str(problem))
    if not load.ok or load.value is None:
        click.echo(f"{target}: {len(load.problems)} problem(s)")
        sys.exit(1)
    return load.value
