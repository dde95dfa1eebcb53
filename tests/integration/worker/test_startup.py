"""The worker's processes import what they run and no more: ``nurture tick`` (the worker's
pass) works without the web app, and a sender process imports neither the command line nor
Flask, so neither waits seconds for imports before its first send."""

from __future__ import annotations

import os
import subprocess
import sys

from nurture.platform.config import Settings
from tests.imports_support import edges, run_fresh, run_nurture_fresh


def _environment(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "NURTURE_DATABASE_URL": settings.database_url,
        "NURTURE_INSTANCE_PATH": str(settings.instance_path),
        "NURTURE_SECRET_KEY": settings.secret_key,
    }


def test_a_tick_runs_without_importing_the_web_app_or_other_commands(settings):
    result, modules = run_nurture_fresh("tick", env=_environment(settings))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert edges(modules) == {"nurture.cli.worker_cmd"}


def test_a_sender_process_imports_neither_the_command_line_nor_flask():
    result, modules = run_fresh("import nurture.worker.sender_process")

    assert result.returncode == 0, result.stderr
    assert not any(name.startswith(("nurture.cli", "nurture.web")) for name in modules)
    assert not any(name.split(".")[0] == "flask" for name in modules)


def test_a_sender_without_the_workers_settings_says_so_in_one_line():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "nurture.worker.sender_process",
            "nurture-sender-2",
            str(os.getpid()),
        ],
        input=b"\x80\x04N.",  # a pickled None
        capture_output=True,
        timeout=120,
    )

    assert result.returncode == 1
    assert result.stderr.decode().strip() == (
        "nurture-sender-2: expected the worker's settings on standard input"
    )
