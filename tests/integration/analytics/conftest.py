"""Fixtures the analytics tests share."""

from __future__ import annotations

import pytest

from nurture.cli import cli


@pytest.fixture
def db_command(app):  # type: ignore[no-untyped-def]
    """Run ``nurture db …`` (the roll-ups' rebuild and check) against the test's app."""
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(cli, ["db", *args])
