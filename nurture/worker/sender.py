"""The send-only processes of ``nurture worker --senders N``.

One Python process renders, builds and records emails on one core (the GIL), so a worker on
a multi-core machine starts ``senders - 1`` more processes that only run the engine's tick;
the scheduler's other jobs (scoring, hits, SLA, webhooks, file syncs) stay in the worker's
process, once. Claims use SKIP LOCKED, so the processes share the due enrolments without
overlap (measured: two processes send 1.9x what one does on this 2-core machine,
docs/benchmarks.md).

A sender is started as ``python -m nurture.worker.sender_process``, not with
multiprocessing's spawn: spawn re-imports the parent's main module in the child, which for
``nurture worker`` is the command line, seconds before the first send. These modules import
only what sending needs; the child reads its settings (pickled) from its standard input.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from nurture import wiring
from nurture.platform.config import Settings
from nurture.platform.outage import OutageGate
from nurture.platform.runtime import Runtime
from nurture.sending.engine import Engine
from nurture.tracking.clock import instance_now

log = logging.getLogger(__name__)

# The module a sender process runs (``python -m``): not this one, which the package imports.
ENTRY_MODULE = "nurture.worker.sender_process"


class SenderPool:
    """Extra send-only processes beside the worker (PostgreSQL only)."""

    def __init__(self, settings: Settings, count: int) -> None:
        self._settings = settings
        self._count = count
        self._processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        payload = pickle.dumps(self._settings)
        # The child finds the same modules as this process (a test's or a checkout's path
        # included), as multiprocessing's spawn would give it.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        for i in range(self._count):
            # Not a session of its own: Ctrl-C and a kill of the worker's process group
            # reach the senders too.
            process = subprocess.Popen(  # noqa: S603  (this interpreter, a fixed module)
                [sys.executable, "-m", ENTRY_MODULE, f"nurture-sender-{i + 2}", str(os.getpid())],
                stdin=subprocess.PIPE,
                env=env,
            )
            assert process.stdin is not None
            process.stdin.write(payload)
            process.stdin.close()
            self._processes.append(process)
        log.info("started %d extra sender process(es)", len(self._processes))

    def stop(self, timeout: float = 60.0) -> None:
        """Ask the senders to finish their current tick, then wait for them."""
        for process in self._processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self._processes:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("sender %s did not stop in %.0fs; terminating it", process.pid, timeout)
                process.kill()
                process.wait()

    @property
    def alive(self) -> int:
        return sum(process.poll() is None for process in self._processes)


def send_loop(settings: Settings, stop: threading.Event, parent_alive: Callable[[], bool]) -> None:
    """Tick the engine every ``tick_seconds`` until ``stop`` is set or the worker is gone."""
    wiring.connect()
    runtime = Runtime.from_settings(settings)
    engine = Engine(runtime)
    try:
        gate = OutageGate()
        while not stop.is_set():
            # A worker killed outright (SIGKILL, OOM killer) cannot stop its senders:
            # without this check they would go on sending, unseen, after the operator saw
            # it die.
            if not parent_alive():
                log.warning("the worker process is gone; this sender stops too")
                break
            started = time.monotonic()
            try:
                report = gate.run(lambda: engine.tick(instance_now(runtime)))
                if report is not None and (report.claimed or report.retried):
                    log.info("%s", report)
            except Exception:
                log.exception("tick failed; retrying at the next tick")
            stop.wait(max(0.0, settings.tick_seconds - (time.monotonic() - started)))
    finally:
        engine.close()
        runtime.close()
