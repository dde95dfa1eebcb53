"""``nurture`` imports a command's modules only when it runs: its ``--help`` lists every
command with the help the command itself gives, and every command still answers."""

from __future__ import annotations

import importlib
import pkgutil
from importlib import metadata

import click
import pytest
from click.testing import CliRunner

import nurture.cli
from nurture.cli import cli
from nurture.cli.commands import COMMANDS
from tests.imports_support import edges, run_nurture_fresh

PLUGINS = {ep.name for ep in metadata.entry_points(group="flask.commands")}


def _import_every_command_module() -> None:
    for module in pkgutil.iter_modules(nurture.cli.__path__):
        if module.name.endswith("_cmd"):
            importlib.import_module(f"nurture.cli.{module.name}")


def _walk(command: click.Command, path: tuple[str, ...]) -> list[tuple[str, ...]]:
    paths = [path]
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            paths += _walk(sub, (*path, name))
    return paths


def test_the_map_names_every_registered_command_and_where_each_lives():
    _import_every_command_module()

    assert set(cli.commands) - PLUGINS == set(COMMANDS)
    for name, lazy in COMMANDS.items():
        module_name, attribute = lazy.target.split(":")
        command = cli.commands[name]
        assert getattr(importlib.import_module(module_name), attribute) is command, name
        # Every module adding a subcommand is imported with it, or the subcommand is missing.
        defining = {sub.callback.__module__ for sub in getattr(command, "commands", {}).values()}
        assert defining <= {module_name, *lazy.extends}, name


@pytest.mark.parametrize("limit", [20, 45, 62, 1000])
def test_the_listed_short_help_is_the_commands_own(limit):
    _import_every_command_module()

    for name, lazy in COMMANDS.items():
        listed = click.Command(name, help=lazy.short_help).get_short_help_str(limit)
        assert listed == cli.commands[name].get_short_help_str(limit), name


def test_help_lists_every_command_without_importing_any_command_or_the_web_app():
    result, modules = run_nurture_fresh("--help")

    assert result.returncode == 0, result.stderr
    listed = result.stdout.split("Commands:\n", 1)[1].splitlines()
    names = [line.split()[0] for line in listed if line.startswith("  ") and line.strip()]
    assert names == sorted(set(COMMANDS) | PLUGINS)
    assert edges(modules) == set()
    # Each short help as the command's own docstring begins (cut to the terminal's width).
    assert "  worker        Run the scheduler loop: a tick every NURTURE_TICK_SECONDS..." in listed


def test_every_command_and_subcommand_answers_help():
    # From a fresh lookup, as ``nurture leads show --help`` would run in a new process.
    paths: list[tuple[str, ...]] = []
    context = click.Context(cli)
    for name in sorted(COMMANDS):
        command = cli.get_command(context, name)
        assert command is not None, name
        paths += _walk(command, (name,))

    runner = CliRunner()
    for path in paths:
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert f"Usage: cli {' '.join(path)}" in result.output, path


def test_an_unknown_command_is_a_usage_error_not_a_traceback():
    result = CliRunner().invoke(cli, ["sendd"])

    assert result.exit_code == 2
    assert "No such command 'sendd'" in result.output
