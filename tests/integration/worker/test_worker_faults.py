"""Faults under running workers (real processes, PostgreSQL):

- a worker killed with SIGKILL mid-send, beside a second worker, and a worker with two
  sender processes killed whole and started again: every lead gets its email, and only
  the outcome groups in flight go twice;
- a database outage: a PostgreSQL cluster of the test's own, on its own port, stopped
  mid-send for 20 seconds and started again. The worker says so once, says once that it
  is back, prints no traceback, and every lead gets its email, at most the outcome groups in
  flight twice."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from nurture.demo.brand import DEMO_BRAND
from nurture.models import Message
from nurture.platform import migrate
from nurture.platform.config import Settings
from nurture.platform.db import make_engine
from nurture.platform.runtime import Runtime
from tests.integration.engine_support import FIXTURES, sync_fixture_campaigns
from tests.integration.worker.test_workers import _seed

pytestmark = pytest.mark.postgres

NURTURE = Path(sys.executable).with_name("nurture")
LEADS = 300
GROUP = 20


def _bin(name: str) -> Path | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return Path(found[-1])
    on_path = shutil.which(name)
    return Path(on_path) if on_path else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    """A throwaway PostgreSQL server: its URL, and how to stop and start it."""

    url: str
    run_as: list[str]
    pg_ctl: Path
    data: Path
    folder: Path
    port: int

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            [*self.run_as, str(self.pg_ctl), "-D", str(self.data), "-l",
             str(self.folder / "server.log"), "-w", "-o", options, "start"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip

    def stop(self) -> None:
        subprocess.run(
            [*self.run_as, str(self.pg_ctl), "-D", str(self.data), "-m", "fast", "-w", "stop"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        if os.environ.get("NURTURE_REQUIRE_POSTGRES") == "1":
            pytest.fail("initdb and pg_ctl are needed (apt-get install postgresql)")
        pytest.skip("initdb and pg_ctl are needed (apt-get install postgresql)")
    # PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user.
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    folder = Path(tempfile.mkdtemp(prefix="nurture-outage-", dir="/tmp"))
    if run_as:
        shutil.chown(folder, "postgres")
    data = folder / "data"
    subprocess.run(
        [*run_as, str(initdb), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
         "--no-sync"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    port = _free_port()
    server = Cluster(
        f"postgresql://postgres@127.0.0.1:{port}/postgres", run_as, pg_ctl, data, folder, port
    )
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _environment(settings: Settings, smtp_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "NURTURE_DATABASE_URL": settings.database_url,
        "NURTURE_INSTANCE_PATH": str(settings.instance_path),
        "NURTURE_SECRET_KEY": settings.secret_key,
        "NURTURE_PUBLIC_URL": settings.public_url,
        "NURTURE_CAMPAIGNS_PATH": str(FIXTURES),
        "NURTURE_COMPANY_NAME": settings.company_name,
        "NURTURE_POSTAL_ADDRESS": settings.postal_address,
        "NURTURE_SMTP_URL": smtp_url,
        # Slow enough that the fault falls mid-send; short leases so that what was in
        # flight goes again within the test.
        "NURTURE_SMTP_RATE_LIMIT": "60",
        "NURTURE_TICK_SECONDS": "0.5",
        "NURTURE_SEND_LEASE": "3s",
        "NURTURE_OUTCOME_GROUP": str(GROUP),
    }


def _worker(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    # A session of its own: a SIGKILL to its process group takes its sender processes too.
    return subprocess.Popen(
        [str(NURTURE), "worker", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait_received(sink, count: int, *workers: subprocess.Popen[bytes]) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 60
    while len(sink.received) < count:
        assert time.monotonic() < deadline, f"only {len(sink.received)} emails arrived"
        assert all(w.poll() is None for w in workers), "a worker stopped"
        time.sleep(0.05)


def _wait_all_sent(settings: Settings, *workers: subprocess.Popen[bytes]) -> None:
    runtime = Runtime.from_settings(settings)
    try:
        deadline = time.monotonic() + 90
        while _sent(runtime) < LEADS:
            assert time.monotonic() < deadline, f"only {_sent(runtime)} of {LEADS} sent"
            assert all(w.poll() is None for w in workers), "a worker stopped"
            time.sleep(0.2)
    finally:
        runtime.close()


def _finish(worker: subprocess.Popen[bytes]) -> str:
    worker.terminate()
    try:
        return worker.communicate(timeout=30)[0].decode(errors="replace")
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        return worker.communicate()[0].decode(errors="replace")


def _kill(worker: subprocess.Popen[bytes]) -> None:
    os.killpg(worker.pid, signal.SIGKILL)
    worker.communicate(timeout=30)  # reaps it and closes its output pipe


def _copies(sink) -> Counter[str]:  # type: ignore[no-untyped-def]
    return Counter(message["To"] for message in sink.received)


@pytest.fixture
def seeded(settings):  # type: ignore[no-untyped-def]
    runtime = Runtime.from_settings(settings)
    sync_fixture_campaigns(runtime)
    _seed(runtime, LEADS)
    runtime.close()
    return settings


def test_a_worker_killed_mid_send_beside_another_loses_nothing(seeded, smtp_sink):
    env = _environment(seeded, smtp_sink.url)
    first, second = _worker(env), _worker(env)
    try:
        _wait_received(smtp_sink, 60, first, second)
        _kill(first)
        _wait_all_sent(seeded, second)
    finally:
        output = _finish(second)
        if first.poll() is None:
            _kill(first)
    copies = _copies(smtp_sink)
    assert len(copies) == LEADS, "every lead got its email"
    # The killed worker's groups in flight (one being sent, one being written) go twice.
    assert sum(count - 1 for count in copies.values()) <= 2 * GROUP, output
    assert "Traceback" not in output, output


def test_a_worker_with_two_senders_killed_whole_and_restarted_loses_nothing(seeded, smtp_sink):
    env = _environment(seeded, smtp_sink.url)
    worker = _worker(env, "--senders", "2")
    try:
        _wait_received(smtp_sink, 60, worker)
        _kill(worker)
        restarted = _worker(env)
        _wait_all_sent(seeded, restarted)
    finally:
        output = _finish(restarted) if "restarted" in locals() else ""
        if worker.poll() is None:
            _kill(worker)
    copies = _copies(smtp_sink)
    assert len(copies) == LEADS, "every lead got its email"
    # Two sending processes, each with its groups in flight.
    assert sum(count - 1 for count in copies.values()) <= 2 * 2 * GROUP, output
    assert "Traceback" not in output, output


def _sent(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(Message).where(Message.status == "sent")
            )
            or 0
        )


def test_a_worker_rides_out_a_database_restart_quietly(cluster, smtp_sink, tmp_path):
    engine = make_engine(cluster.url)
    migrate.upgrade(engine)
    engine.dispose()
    settings = Settings(
        instance_path=tmp_path,
        database_url=cluster.url,
        secret_key="test-secret-key-not-for-production",
        public_url="http://nurture.test",
        default_timezone="UTC",
        **DEMO_BRAND,
    )
    runtime = Runtime.from_settings(settings)
    sync_fixture_campaigns(runtime)
    _seed(runtime, LEADS)
    runtime.close()
    env = _environment(settings, smtp_sink.url)
    worker = _worker(env)
    output = ""
    try:
        _wait_received(smtp_sink, 60, worker)
        cluster.stop()
        time.sleep(20)
        assert worker.poll() is None, "the worker died with the database"
        before = len(smtp_sink.received)
        cluster.start()
        back = time.monotonic()
        _wait_received(smtp_sink, before + 1, worker)
        # Probes every 5 s at most, a tick, a reconnect: sending again within seconds.
        assert time.monotonic() - back < 10, "the worker was slow to carry on"
        _wait_all_sent(settings, worker)
    finally:
        output = _finish(worker)
    copies = Counter(message["To"] for message in smtp_sink.received)
    assert len(copies) == LEADS, "every lead got its email"
    duplicates = sum(count - 1 for count in copies.values())
    # Only the outcome groups in flight when the database went away go twice.
    assert duplicates <= 2 * GROUP, output
    assert output.count("the database cannot be reached") == 1, output
    assert output.count("the database answers again") == 1, output
    assert "Traceback" not in output, output


def test_the_sender_processes_of_a_killed_worker_stop_too(seeded, smtp_sink):
    env = _environment(seeded, smtp_sink.url)
    worker = _worker(env, "--senders", "2")
    group = worker.pid  # its own session: the sender processes share its process group
    try:
        _wait_received(smtp_sink, 20, worker)
        worker.kill()  # the main process only, as the OOM killer would
        worker.wait(timeout=30)
        deadline = time.monotonic() + 30
        while _group_alive(group):
            assert time.monotonic() < deadline, "a sender went on after its worker died"
            time.sleep(0.2)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        worker.communicate(timeout=30)  # closes its output pipe


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True
