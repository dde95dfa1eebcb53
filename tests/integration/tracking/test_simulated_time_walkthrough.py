"""docs/tracking.md's "Try a branch on simulated time", run as written: the campaign file
saved where it says, the exports, every ``nurture`` command in order, and the click on the
emailed link made against a real ``nurture serve`` (started by the test where the reader
starts it in another terminal)."""

from __future__ import annotations

import http.client
import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

from tests.integration.conftest import free_port
from tests.integration.demo.test_readme_commands import DRIVER
from tests.integration.tracking_support import CHROME

ROOT = Path(__file__).resolve().parents[3]
HEADING = "### Try a branch on simulated time"
NURTURE = [sys.executable, "-c", "from nurture.cli import main; main()"]


def _section() -> str:
    text = (ROOT / "docs" / "tracking.md").read_text()
    assert HEADING in text
    return text.split(HEADING, 1)[1].split("\n## ", 1)[0]


def _local(value: str, instance: Path) -> str:
    # The walkthrough keeps its instance under instance/, as the README does.
    return re.sub(r"^instance/", f"{instance}/", value)


def _run(commands: list[str], env: dict[str, str], instance: Path) -> list[dict]:
    argv = [[_local(arg, instance) for arg in shlex.split(line)[1:]] for line in commands]
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(argv)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    results = json.loads(done.stdout)
    for line, result in zip(commands, results, strict=True):
        assert result["traceback"] is None, f"{line}\n{result['traceback']}"
        assert result["code"] == 0, f"{line}\n{result['output']}"
    return results


def _click(port: int, html_file: Path) -> None:
    """What the reader does in the browser: follow "See plans and pricing"."""
    html = html_file.read_text()
    link = re.search(r'<a href="http://localhost:5000(/t/c/[^"]+)"[^>]*>\s*See plans', html)
    assert link, "no pricing button in the email"
    deadline = time.monotonic() + 60
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", link.group(1), headers={"User-Agent": CHROME})
            answer = connection.getresponse()
            break
        except OSError:
            assert time.monotonic() < deadline, "nurture serve did not start"
            time.sleep(0.3)
    assert answer.status == 302
    assert answer.getheader("Location", "").startswith("https://brightpath.example/pricing")
    connection.close()


def test_the_walkthrough_takes_the_clicked_branch_on_simulated_time(tmp_path: Path) -> None:
    section = _section()
    instance = tmp_path / "instance"
    saved_as = re.search(r"Save it as `([^`]+)`", section)
    campaign = re.search(r"```yaml\n(.*?)^```", section, re.S | re.M)
    block = re.search(r"```sh\n(.*?)^```", section, re.S | re.M)
    assert saved_as and campaign and block
    target = Path(_local(saved_as.group(1), instance))
    target.parent.mkdir(parents=True)
    target.write_text(campaign.group(1))

    env = {k: v for k, v in os.environ.items() if not k.startswith("NURTURE_")}
    env["COLUMNS"] = "200"  # one table row per line
    lines = [line.split("  #", 1)[0].strip() for line in block.group(1).splitlines()]
    (export,) = [line for line in lines if line.startswith("export ")]
    for assignment in shlex.split(export)[1:]:
        name, _, value = assignment.partition("=")
        env[name] = _local(value, instance)
    assert env["NURTURE_SIMULATED_TIME"] == "1"
    commands = [line for line in lines if line.startswith("nurture ")]
    serve_at = commands.index("nurture serve")
    before, after = commands[:serve_at], commands[serve_at + 1 :]

    opened = _run(before, env, instance)[-1]["output"].split()
    html_file = Path(next(path for path in opened if path.endswith(".html")))

    port = free_port()
    server = subprocess.Popen(
        [*NURTURE, "serve", "--port", str(port), "--workers", "1", "--threads", "2"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        _click(port, html_file)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=60)
    assert "Traceback" not in output, output

    results = dict(zip(after, (r["output"] for r in _run(after, env, instance)), strict=True))
    shown = results["nurture leads show ada.lovelace@northwind-logistics.example"]
    # The timeline's line (the score table names the event type too).
    (clicked,) = [line for line in shown.splitlines() if "email.clicked" in line and "url=" in line]
    assert clicked.lstrip().startswith("2027-03-01 16:0"), shown
    assert "+12 (pricing-link-click)" in clicked and "machine" not in clicked, shown
    outbox = results["nurture outbox list"]
    assert "A 30-minute walkthrough with your own pipeline?" in outbox, outbox
    assert "2 of 2" in outbox, outbox
