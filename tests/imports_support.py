"""Running Python code in a fresh process and seeing which modules it imported: how the
start-up tests tell that a command or process imports only what it runs."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping

_MARK = "IMPORTED:"


def run_fresh(
    code: str, *, env: Mapping[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``code`` in a new interpreter; its result and the names of the modules it had
    imported when it ended (also when it ended with SystemExit, as a click command does)."""
    script = (
        "import json, sys\n"
        "try:\n" + "".join(f"    {line}\n" for line in code.splitlines()) + "finally:\n"
        f"    print({_MARK!r} + json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    marked = [line for line in result.stdout.splitlines() if line.startswith(_MARK)]
    assert marked, result.stdout + result.stderr
    return result, set(json.loads(marked[-1][len(_MARK) :]))


def run_nurture_fresh(
    *args: str, env: Mapping[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """``nurture ARGS`` in a new interpreter, as the console script runs it."""
    return run_fresh(
        f"sys.argv = ['nurture', *{list(args)!r}]\nfrom nurture.cli import main\nmain()", env=env
    )


def edges(modules: set[str]) -> set[str]:
    """The command modules and the web app's among ``modules``."""
    return {
        name
        for name in modules
        if (name.startswith("nurture.cli.") and name.endswith("_cmd"))
        or name == "nurture.web"
        or name.startswith("nurture.web.")
    }
