"""``nurture -e FILE COMMAND`` loads the settings from FILE, or says in one line why not."""

from __future__ import annotations

import sys

import pytest
from click.testing import CliRunner

from nurture.cli import cli


@pytest.fixture
def env_file(tmp_path, monkeypatch):
    """An env file naming an instance folder; the variable it sets is undone afterwards
    (loading an env file writes to this process's environment)."""
    monkeypatch.delenv("NURTURE_INSTANCE_PATH", raising=False)
    monkeypatch.delenv("NURTURE_DATABASE_URL", raising=False)
    path = tmp_path / "nurture.env"
    path.write_text(f"NURTURE_INSTANCE_PATH={tmp_path / 'from-file'}\n")
    return path


def test_the_env_file_sets_the_settings_of_the_command(env_file, tmp_path):
    pytest.importorskip("dotenv")

    result = CliRunner().invoke(cli, ["-e", str(env_file), "db", "upgrade"])

    assert result.exit_code == 0, result.output
    assert (tmp_path / "from-file" / "nurture.db").exists()


def test_without_python_dotenv_an_env_file_is_one_line_saying_how_to_get_it(env_file, monkeypatch):
    monkeypatch.setitem(sys.modules, "dotenv", None)  # as if it were not installed

    result = CliRunner().invoke(cli, ["-e", str(env_file), "db", "upgrade"])

    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: cannot load {env_file}: reading env files needs python-dotenv, which is not "
        "installed (pip install python-dotenv, or make setup)"
    ]


def test_a_missing_env_file_is_one_line_naming_it(tmp_path):
    result = CliRunner().invoke(cli, ["-e", str(tmp_path / "nope.env"), "db", "upgrade"])

    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {tmp_path / 'nope.env'}: no such env file"
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (b"NURTURE_TICK_SECONDS=5\nthis is not a setting\n", ":2: not a KEY=value line"),
        (b"NURTURE_COMPANY_NAME=K\xf6ln GmbH\n", ": not UTF-8 text"),
    ],
)
def test_an_env_file_that_cannot_be_read_whole_is_one_line_naming_where(env_file, text, problem):
    pytest.importorskip("dotenv")
    env_file.write_bytes(text)

    result = CliRunner().invoke(cli, ["-e", str(env_file), "db", "upgrade"])

    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"Error: {env_file}{problem}"]


def test_a_dot_env_file_nobody_named_sets_nothing(tmp_path, monkeypatch):
    # Flask would load .env and .flaskenv found in or above the current folder; only the
    # file given with -e may set a setting.
    monkeypatch.delenv("NURTURE_INSTANCE_PATH", raising=False)
    monkeypatch.delenv("NURTURE_DATABASE_URL", raising=False)
    monkeypatch.setenv("NURTURE_INSTANCE_PATH", str(tmp_path / "named"))
    (tmp_path / ".env").write_text(f"NURTURE_DATABASE_URL=sqlite:///{tmp_path / 'stray.db'}\n")
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(cli, ["db", "upgrade"])

    assert result.exit_code == 0, result.output
    assert (tmp_path / "named" / "nurture.db").exists()
    assert not (tmp_path / "stray.db").exists()
