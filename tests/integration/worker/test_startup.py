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


def _frozen_after(code: str, env: dict[str, str]) -> int:
    """How many objects the cyclic collector had been told to skip when ``code`` ended."""
    result, _ = run_fresh(
        "import atexit, gc\n"
        "atexit.register(lambda: print('FROZEN', gc.get_freeze_count()))\n" + code,
        env=env,
    )
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("FROZEN ")]
    assert lines, result.stdout + result.stderr
    return int(lines[-1].split()[1])


def test_the_console_script_moves_start_up_out_of_the_collectors_way(settings):
    # The command's start-up (its imports, the app) is frozen once the command runs, so a
    # long import or worker does not walk it on every full collection.
    env = _environment(settings)
    script = "sys.argv = ['nurture', 'tick']\nfrom nurture.cli import main\nmain()"

    assert _frozen_after(script, env) > 10_000


def test_the_command_group_called_as_a_library_freezes_nothing(settings):
    # Tests and scripts call `cli` in one long process: freezing there would keep its
    # garbage for good, so only the console script's entry point asks for it.
    env = _environment(settings)
    script = (
        "from nurture.cli import cli\n"
        "try:\n    cli(['tick'], prog_name='nurture')\n"
        "except SystemExit:\n    pass"
    )

    assert _frozen_after(script, env) == 0
