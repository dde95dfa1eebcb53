"""Every entry point wires the features together: a hand-raise captured by the API becomes an
event, a score, an MQL and a handoff in `nurture tick`, in `nurture worker` and in
`nurture serve`, each started as its own process (which imports nothing the test suite
did), so no entry point can forget a subscription."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from nurture.auth.apikeys import create_api_key
from nurture.models import Handoff, Lead
from nurture.platform.db import transaction, utcnow
from nurture.platform.runtime import Runtime
from nurture.qualification import regrade_leads
from nurture.qualification.watch import sync_qualification_files
from nurture.scoring.watch import sync_scoring_file
from nurture.web import create_app
from tests.integration.engine_support import add_lead
from tests.integration.handoff_support import BUNDLED_TEAM, PROJECT, add_account, sync_team_file

NURTURE = Path(sys.executable).with_name("nurture")
EVENT = (
    b'{"type": "demo.requested", "email": "grace@northwind.example",'
    b' "properties": {"form": "demo"}}'
)


@pytest.fixture
def instance(settings, tmp_path) -> Iterator[tuple[Runtime, dict[str, str], str]]:
    """A configured instance (bundled scoring, ICP, readiness and team) with one lead who
    fits well and has not raised a hand yet; the environment that starts a process on it,
    and an API key."""
    configured = settings.with_overrides(
        scoring_file=PROJECT / "campaigns" / "scoring.yaml",
        icp_file=PROJECT / "campaigns" / "icp.yaml",
        readiness_file=PROJECT / "campaigns" / "readiness.yaml",
        sales_team_file=BUNDLED_TEAM,
        campaigns_path=PROJECT / "campaigns" / "examples",
    )
    runtime = Runtime.from_settings(configured)
    now = utcnow()
    assert sync_scoring_file(runtime, now=now).ok
    assert all(report.ok for report in sync_qualification_files(runtime, now=now))
    sync_team_file(runtime, BUNDLED_TEAM, now)
    account = add_account(
        runtime, "northwind.example", name="Northwind Logistics", country="US",
        employees=1500, industry="Logistics",
    )  # fmt: skip
    lead = add_lead(
        runtime, "grace@northwind.example", first_name="Grace", last_name="Hopper",
        title="VP of Operations", account_id=account, timezone="America/Chicago",
    )  # fmt: skip
    with transaction(runtime.sessions) as session:
        regrade_leads(session, [lead], now)
        _, key = create_api_key(session, "website", now=now)
    env = {
        **os.environ,
        "NURTURE_DATABASE_URL": configured.database_url,
        "NURTURE_INSTANCE_PATH": str(configured.instance_path),
        "NURTURE_SECRET_KEY": configured.secret_key,
        "NURTURE_PUBLIC_URL": configured.public_url,
        "NURTURE_SCORING_FILE": str(configured.scoring_file),
        "NURTURE_ICP_FILE": str(configured.icp_file),
        "NURTURE_READINESS_FILE": str(configured.readiness_file),
        "NURTURE_SALES_TEAM_FILE": str(BUNDLED_TEAM),
        "NURTURE_CAMPAIGNS_PATH": str(configured.campaigns_path),
        "NURTURE_TICK_SECONDS": "0.5",
    }
    try:
        yield runtime, env, key
    finally:
        runtime.close()


def _lead(runtime: Runtime) -> Lead:
    with runtime.sessions() as session:
        return session.scalars(select(Lead).where(Lead.email == "grace@northwind.example")).one()


def _handoff(runtime: Runtime) -> Handoff | None:
    with runtime.sessions() as session:
        return session.scalars(select(Handoff)).first()


def _post_event(base_url: str, key: str) -> int:
    request = urllib.request.Request(
        f"{base_url}/api/v1/events",
        data=EVENT,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def _capture_in_this_process(runtime: Runtime, key: str) -> None:
    """The API stores the hit; with no processor attached it waits for the worker."""

    app = create_app({"NURTURE_SETTINGS": runtime.settings, "TESTING": True})
    try:
        response = app.test_client().post(
            "/api/v1/events", data=EVENT, headers={"Authorization": f"Bearer {key}"},
            content_type="application/json",
        )  # fmt: skip
        assert response.status_code == 202, response.get_data(as_text=True)
    finally:
        app.extensions["nurture"].close()


def _wait_for_handoff(runtime: Runtime, process: subprocess.Popen[bytes]) -> Handoff:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        handoff = _handoff(runtime)
        if handoff is not None:
            return handoff
        assert process.poll() is None, "the process stopped before handing the lead off"
        time.sleep(0.2)
    raise AssertionError("no handoff within 60 s")


def _stop(process: subprocess.Popen[bytes]) -> str:
    process.terminate()
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output.decode(errors="replace")


def _assert_handed_off(runtime: Runtime, handoff: Handoff) -> None:
    lead = _lead(runtime)
    assert lead.stage == "mql"
    assert handoff.lead_id == lead.id
    assert handoff.qualification_rule == "hand-raiser"


def test_a_bare_tick_turns_a_captured_hand_raise_into_a_handoff(instance):
    runtime, env, key = instance
    _capture_in_this_process(runtime, key)
    assert _handoff(runtime) is None
    result = subprocess.run(
        [str(NURTURE), "tick"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    handoff = _handoff(runtime)
    assert handoff is not None, result.stdout + result.stderr
    _assert_handed_off(runtime, handoff)


def test_the_worker_turns_a_captured_hand_raise_into_a_handoff(instance):
    runtime, env, key = instance
    _capture_in_this_process(runtime, key)
    worker = subprocess.Popen(
        [str(NURTURE), "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        handoff = _wait_for_handoff(runtime, worker)
    finally:
        output = _stop(worker)
    _assert_handed_off(runtime, handoff)
    assert "Traceback" not in output, output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_turns_a_hand_raise_posted_to_the_api_into_a_handoff(instance):
    runtime, env, key = instance
    port = _free_port()
    server = subprocess.Popen(
        [str(NURTURE), "serve", "--port", str(port), "--workers", "1", "--threads", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/t/snippet.js", timeout=2).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "serve did not start"
                time.sleep(0.2)
        started = utcnow()
        assert _post_event(base, key) == 202
        handoff = _wait_for_handoff(runtime, server)
    finally:
        output = _stop(server)
    _assert_handed_off(runtime, handoff)
    assert handoff.created_at - started < timedelta(seconds=60)
    assert "Traceback" not in output, output
