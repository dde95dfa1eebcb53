"""``nurture demo`` as the README runs it: the simulation, then the web app served with an
account per role, until Ctrl-C; ``--no-serve`` stops after the report."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

from tests.integration.conftest import free_port
from tests.integration.web.ui_support import CSRF_TOKEN

NURTURE = [sys.executable, "-c", "from nurture.cli import main; main()"]


def _environment(instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NURTURE_")}
    env["NURTURE_INSTANCE_PATH"] = str(instance)
    env["COLUMNS"] = "200"  # one table row per line, so the logins can be read off
    return env


def test_no_serve_runs_the_demo_and_exits(tmp_path: Path) -> None:
    done = subprocess.run(
        [*NURTURE, "demo", "--weeks", "1", "--no-serve"],
        env=_environment(tmp_path / "instance"),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "Where each lead is" in done.stdout
    assert re.search(r"Sales at the end: \d+ handoffs — \d+ waiting for a rep", done.stdout)
    assert "serving on" not in done.stdout
    # The commands to explore the demo keep to its simulated clock.
    assert re.search(
        r"NURTURE_SIMULATED_TIME=1 \.venv/bin/nurture tick --now \S+T10:00", done.stdout
    )
    assert (tmp_path / "instance" / "demo" / "nurture.db").exists()


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, list[str]]]:
    port = free_port()
    process = subprocess.Popen(
        [*NURTURE, "demo", "--weeks", "1", "--port", str(port)],
        env=_environment(tmp_path / "instance"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.startswith("serving on"):
                break
        else:
            pytest.fail("the demo ended without serving:\n" + "".join(lines))
        yield process, f"http://127.0.0.1:{port}", lines
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2).close()
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    pytest.fail("the demo's server did not answer within 30 s")


def test_the_demo_serves_the_web_app_with_an_account_per_role_until_ctrl_c(
    demo_server: tuple[subprocess.Popen[str], str, list[str]],
) -> None:
    process, base, lines = demo_server
    output = "".join(lines)
    roles = "admin|marketer|viewer|sales|sales-manager"
    logins = dict(re.findall(rf"│ ({roles})\s+│ (\S+@\S+)", output))
    assert set(logins) == {"admin", "marketer", "viewer", "sales", "sales-manager"}, output
    password = re.search(r"│ (demo-\S+)\s+│", output)
    assert password, output
    _wait_until_up(base)

    # Sign in as the marketer with the printed password, as a person would.
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    login_page = opener.open(base + "/login").read().decode()
    token = CSRF_TOKEN.search(login_page)
    assert token
    form = urllib.parse.urlencode(
        {
            "email": logins["marketer"],
            "password": password.group(1),
            "csrf_token": token.group(1) or token.group(2),
        }
    ).encode()
    home = opener.open(base + "/login", data=form).read().decode()
    assert "At a glance" in home
    # The simulated weeks end now: the overview's last 7 days are not empty.
    sent = re.search(r"Emails sent</th><td class=\"num\">\d+</td><td class=\"num\">(\d+)", home)
    assert sent and int(sent.group(1)) > 0, home

    os.killpg(process.pid, signal.SIGINT)
    assert process.wait(timeout=30) == 0
    assert process.stdout is not None
    assert "Traceback" not in process.stdout.read()
