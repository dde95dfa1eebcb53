"""The worker's processes import what they run and no more: ``nurture tick`` (the worker's
pass) works without the web app, and a sender process imports neither the command line nor
Flask, so neither waits seconds for imports before its first send."""

from __future__ import annotations

import os
import subprocess
import sys

from nurture.platform.config import Settings


def _environment(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "NURTURE_DATABASE_URL": settings.database_url,
        "NURTURE_INSTANCE_PATH": str(settings.instance_path),
        "NURTURE_SECRET_KEY": settings.secret_key,
    }


def test_a_tick_runs_without_importing_the_web_app_or_other_commands(settings):
    script = (
        "import sys\n"
        "from nurture.cli import main\n"
        "sys.argv = ['nurture', 'tick']\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    web = sorted(m for m in sys.modules if m.startswith('nurture.web'))\n"
        "    commands = sorted(m for m in sys.modules if m.endswith('_cmd'))\n"
        "    print('WEB', web, 'COMMANDS', commands)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=_environment(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "WEB [] COMMANDS ['nurture.cli.worker_cmd']" in result.stdout, result.stdout


def test_a_sender_process_imports_neither_the_command_line_nor_flask():
    script = (
        "import sys\n"
        "import nurture.worker.sender_process\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'flask'"
        " or m.startswith(('nurture.cli', 'nurture.web'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )

    assert result.stdout.strip() == "[]"


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
