"""The ``nurture`` command group and what its commands share: the app's runtime, and how a
marketer file's problems are printed."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, ScriptInfo, load_dotenv

from nurture.cli.commands import COMMANDS
from nurture.platform.start_up import started

if TYPE_CHECKING:
    from nurture.files.yaml_file import FileLoad
    from nurture.platform.runtime import Runtime

T = TypeVar("T")


def _create_app() -> Flask:
    # Imported here, not at the top: the web app and everything it mounts take a second to
    # import, which ``nurture --help`` and the worker (which never serve a page) skip.
    from nurture.platform.config import ConfigError
    from nurture.web import create_app

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
    prints a usage error, and needs python-dotenv without saying how to get it), whose
    commands are imported when used (click's lazy group pattern, ``nurture.cli.commands``).

    Flask's group loads the app to list its commands and to look up one it does not know;
    this one lists ``COMMANDS`` and the plugins' commands without loading the app, and
    imports only the modules of the command that runs.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.params = [_ENV_FILE_OPTION if p.name == "env_file" else p for p in self.params]

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugin_commands()
        return sorted(set(self.commands) | set(COMMANDS))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        lazy = COMMANDS.get(name)
        if lazy is None:
            # A plugin's command (Flask-Limiter's ``limiter``) or one of the app's own.
            return super().get_command(ctx, name)
        module_name, attribute = lazy.target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        # The modules that add subcommands to it (``leads show`` lives beside the lead
        # views): imported too, or ``nurture leads show`` would not be found.
        for extension in lazy.extends:
            importlib.import_module(extension)
        if not isinstance(command, click.Command):
            raise TypeError(f"{lazy.target} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``nurture --help``: the short help of ``COMMANDS`` for ours
        (nothing imported), the command's own for a plugin's."""
        rows: list[tuple[str, click.Command]] = []
        for name in self.list_commands(ctx):
            lazy = COMMANDS.get(name)
            command = (
                click.Command(name, help=lazy.short_help)
                if lazy is not None
                else self.get_command(ctx, name)
            )
            if command is not None and not command.hidden:
                rows.append((name, command))
        if rows:
            limit = formatter.width - 6 - max(len(name) for name, _ in rows)
            with formatter.section("Commands"):
                formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in rows])


@click.group(
    cls=_Group,
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
)
def cli() -> None:
    """Nurture: stage-aware drip campaigns, scoring and sales handoff."""
    # Imported when a command runs, not for ``--help``: the subscriptions import most
    # features (a second of start-up).
    from nurture import wiring

    wiring.connect()


def runtime() -> Runtime:
    """The Runtime of the app the CLI loaded (start-up is over once a command asks for it)."""
    found: Runtime = current_app.extensions["nurture"]
    started()
    return found


@contextmanager
def runtime_without_app(ctx: click.Context) -> Iterator[Runtime]:
    """A Runtime for a command that serves no page (``nurture worker``, ``nurture tick``):
    built from the settings without importing the web app, and closed afterwards; unless
    the group was given an app of its own (``--app``, or a test's app), whose Runtime is
    used as is."""
    info = ctx.ensure_object(ScriptInfo)
    if current_app or info.create_app is not _create_app or info.app_import_path:
        yield info.load_app().extensions["nurture"]
        return
    # Here, not at the top, like the app's factory: ``nurture --help`` needs neither.
    from nurture.platform.config import ConfigError, Settings
    from nurture.platform.runtime import Runtime

    try:
        built = Runtime.from_settings(Settings.from_env())
    except ConfigError as exc:
        # As from the app's factory: one line naming the setting.
        raise click.ClickException(str(exc)) from None
    started()
    try:
        yield built
    finally:
        built.close()


def valid_or_exit(target: object, load: FileLoad[T]) -> T:
    """Print every problem of a loaded marketer file as FILE:LINE: MESSAGE; exit with status
    1 when there is any, else return the parsed value (the ``validate`` commands)."""
    for problem in load.problems:
        click.echo(str(problem))
    if not load.ok or load.value is None:
        click.echo(f"{target}: {len(load.problems)} problem(s)")
        sys.exit(1)
    return load.value
