"""`nurture serve`'s access log names the path only, with no email address in it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

NURTURE = Path(sys.executable).with_name("nurture")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> None:
    try:
        urllib.request.urlopen(url, timeout=5).close()
    except urllib.error.HTTPError as exc:
        exc.close()  # a 404 or a sign-in redirect is logged all the same


def test_the_access_log_drops_query_strings_and_masks_addresses_in_paths(settings):
    port = _free_port()
    env = {
        **os.environ,
        "NURTURE_DATABASE_URL": settings.database_url,
        "NURTURE_INSTANCE_PATH": str(settings.instance_path),
        "NURTURE_SECRET_KEY": settings.secret_key,
    }
    server = subprocess.Popen(
        [str(NURTURE), "serve", "--port", str(port), "--workers", "1", "--no-process-hits"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/t/snippet.js", timeout=2).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "serve did not start"
                time.sleep(0.2)
        _get(f"{base}/leads?q=ann.secret%40example.com")
        _get(f"{base}/leads/bob.secret@example.com/edit?email=cy.secret@example.com")
        _get(f"{base}/lookup/dee.secret%2540example.com")
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode(errors="replace")

    lines = [line for line in output.splitlines() if '"GET /' in line]
    assert any('"GET /leads HTTP/1.1"' in line for line in lines), output
    assert any('"GET /leads/***@***/edit HTTP/1.1"' in line for line in lines), output
    assert any('"GET /lookup/***@*** HTTP/1.1"' in line for line in lines), output
    assert "secret" not in output
