"""The ``nurture`` command line (click, through Flask's CLI group).

Each topic's commands live in their own module and register themselves on ``cli``.
"""

from __future__ import annotations

import sys
from typing import TypeVar

import click
from flask import current_app
from flask.cli import FlaskGroup

from nurture import wiring
from nurture.files.yaml_file import FileLoad
from nurture.platform.runtime import Runtime

T = TypeVar("T")


def _create_app():  # type: ignore[no-untyped-def]
    from nurture.web import create_app

    return create_app()


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


def main() -> None:
    """Console-script entry point."""
    # Imported for their side effect: each module adds its commands to ``cli``.
    from nurture.cli import (  # noqa: F401
        accounts_cmd,
        apikeys_cmd,
        bounces_cmd,
        campaigns_cmd,
        db_cmd,
        demo_cmd,
        enrol_cmd,
        handoffs_cmd,
        lead_show_cmd,
        leads_cmd,
        outbox_cmd,
        preview_cmd,
        privacy_cmd,
        qualification_cmd,
        scoring_cmd,
        serve_cmd,
        sla_cmd,
        team_cmd,
        webhooks_cmd,
        worker_cmd,
    )

    cli(prog_name="nurture")
