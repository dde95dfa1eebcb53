"""The command examples of the README's "Using it" block and of the templates guide's
previews, run in that order on a fresh instance as a new user would type them."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
# Commands that never return (the worker, the server), ask for a password, or take an
# argument the reader fills in (ID): the rest must work exactly as written.
NOT_RUN = re.compile(r"^nurture (worker|serve|users create)\b|\b[A-Z]{2,}\b")
# One fresh process runs every command in turn (a process per command costs seconds each
# on a busy machine); each still loads the app from the environment, as ``nurture`` does.
DRIVER = """
import json, sys, traceback
from click.testing import CliRunner
from nurture.cli import cli
results = []
for args in json.loads(sys.argv[1]):
    result = CliRunner().invoke(cli, args, prog_name="nurture")
    error = result.exception
    shown = None
    if error is not None and not isinstance(error, SystemExit):
        shown = "".join(traceback.format_exception(error))
    results.append({"code": result.exit_code, "output": result.output, "traceback": shown})
print(json.dumps(results))
"""


def block_lines(doc: Path, heading: str) -> list[str]:
    """The lines of the first ``sh`` (or bare) code block under ``heading``, without their
    comments."""
    section = doc.read_text().split(heading, 1)[1]
    block = re.search(r"^```(?:sh)?\n(.*?)^```", section, re.S | re.M)
    assert block, f"no code block under {heading!r} in {doc.name}"
    return [line.split("  #", 1)[0].strip() for line in block.group(1).splitlines()]


def command_lines(doc: Path, heading: str) -> list[str]:
    """The ``nurture …`` lines of the first code block under ``heading``."""
    return [line for line in block_lines(doc, heading) if line.startswith("nurture ")]


def exported(doc: Path, heading: str) -> dict[str, str]:
    """The ``export NURTURE_…=…`` settings of that block, as the shell would set them."""
    found: dict[str, str] = {}
    for line in block_lines(doc, heading):
        if line.startswith("export NURTURE_"):
            name, _, value = shlex.split(line)[1].partition("=")
            found[name] = value
    return found


def test_the_readme_and_preview_examples_work_on_a_fresh_instance(tmp_path: Path) -> None:
    lines = command_lines(ROOT / "README.md", "## Using it") + command_lines(
        ROOT / "docs" / "templates.md", "## Previewing"
    )
    lines = [line for line in lines if not NOT_RUN.search(line)]
    instance = tmp_path / "instance"
    # The docs write the default instance folder as instance/, and a scratch file in /tmp/.
    commands = [
        [re.sub(r"^(instance|/tmp)/", f"{instance}/", arg) for arg in shlex.split(line)[1:]]
        for line in lines
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NURTURE_")}
    env["NURTURE_INSTANCE_PATH"] = str(instance)
    # The block sets the brand first: without one, `campaigns validate` fails by design.
    brand = exported(ROOT / "README.md", "## Using it")
    assert {"NURTURE_COMPANY_NAME", "NURTURE_POSTAL_ADDRESS"} <= set(brand), brand
    env.update(brand)

    done = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(commands)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )

    results = json.loads(done.stdout)
    for line, result in zip(lines, results, strict=True):
        assert result["traceback"] is None, f"{line}\n{result['traceback']}"
        assert result["code"] == 0, f"{line}\n{result['output']}"
    assert "nurture preview welcome-guide" in lines
    assert "nurture preview welcome-guide --lead ada.lovelace@northwind-logistics.example" in lines
    assert (instance / "welcome.html").exists()
