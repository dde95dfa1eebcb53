"""The ``nurture`` command group and what its commands share: the app's runtime, and how a
marketer file's problems are printed."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any, TypeVar

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, ScriptInfo, load_dotenv

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


def _load_env_file(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    """Load ``-e FILE`` into the environment before the app reads its settings; a file that
    cannot be loaded is one line saying why, like a bad setting."""
    if value is not None:
        if not value.is_file():
            raise click.ClickException(f"{value}: no such env file")
        if importlib.util.find_spec("dotenv") is None:
            raise click.ClickException(
                f"cannot load {value}: reading env files needs python-dotenv, which is not "
                "installed (pip install python-dotenv, or make setup)"
            )
        _check_env_file(value)
    info = ctx.ensure_object(ScriptInfo)
    # Only the file given: the group turns off Flask's loading of .env and .flaskenv found
    # in or above the current folder, so no file the operator did not name sets a setting.
    if value is not None or info.load_dotenv_defaults:
        load_dotenv(value, load_defaults=info.load_dotenv_defaults)


def _check_env_file(path: Path) -> None:
    """Refuse an env file python-dotenv would half read: it skips a line it cannot parse
    with a warning that names no file, and stops at bytes that are not UTF-8."""
    # Imported by name: python-dotenv is optional at type-checking time.
    parser = importlib.import_module("dotenv.parser")
    try:
        with path.open(encoding="utf-8") as stream:
            for binding in parser.parse_stream(stream):
                if binding.error:
                    raise click.ClickException(
                        f"{path}:{binding.original.line}: not a KEY=value line"
                    )
    except UnicodeDecodeError:
        raise click.ClickException(f"{path}: not UTF-8 text") from None


_ENV_FILE_OPTION = click.Option(
    ["-e", "--env-file"],
    type=click.Path(dir_okay=False, path_type=Path),
    expose_value=False,
    is_eager=True,  # before anything reads a setting
    callback=_load_env_file,
    help="Load environment variables (the NURTURE_* settings) from this file of KEY=value "
    "lines; variables already set win.",
)


class _Group(FlaskGroup):
    """Flask's command group with an ``-e/--env-file`` that fails in one line (Flask's
    prints a usage error, and needs python-dotenv without saying how to get it)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.params = [_ENV_FILE_OPTION if p.name == "env_file" else p for p in self.params]


@click.group(
    cls=_Group,
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
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
