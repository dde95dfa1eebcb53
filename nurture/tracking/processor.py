"""The hit processor as its own process, at a lower CPU priority, beside ``nurture serve``.

Capturing a hit is one durable INSERT; turning it into an event and rescoring its lead
costs several times more CPU. Run inside the serving processes, that work competed with
requests for this machine's cores and capture fell to an eighth of a trivial endpoint's
speed (docs/benchmarks.md). So ``nurture serve`` starts one processor process with
``os.nice`` +10: under a burst the kernel gives the cores to the request-serving processes
first and the backlog is processed right after, while an isolated click (idle cores) is
processed within milliseconds of its capture.

The serving processes wake it through a pipe (one byte per hit, at most one per 5 ms per
process; a full pipe means a wake-up is already pending). Without wake-ups it still looks
for unprocessed hits every ``interval`` seconds (hits captured by another machine's server,
or by a server started without it). It stops on SIGTERM/SIGINT, when its parent exits, or
when every write end of the pipe is closed.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Mapping

from nurture.platform.config import Settings
from nurture.platform.runtime import Runtime
from nurture.tracking.clock import instance_now
from nurture.tracking.processing import HitProcessor

log = logging.getLogger(__name__)

DEFAULT_NICENESS = 10


class PipeWaker:
    """``wake()`` for the tracking endpoints: nudges the processor process (cheap, never
    blocks, never raises)."""

    def __init__(self, fd: int, *, min_gap: float = 0.005) -> None:
        self.fd = fd
        self.min_gap = min_gap
        self._last = 0.0

    def wake(self) -> None:
        """Ask the processor for a pass soon."""
        now = time.monotonic()
        if now - self._last < self.min_gap:
            return  # a wake-up from this process is already on its way
        self._last = now
        # Full (a wake-up is pending anyway) or the processor is gone (its interval poll,
        # or `nurture worker`, picks the hit up): never the request's problem.
        with contextlib.suppress(OSError):
            os.write(self.fd, b"\0")


class ProcessorProcess:
    """Starts ``python -m ENTRY_MODULE`` (a module whose ``main`` connects the features'
    subscriptions, then calls :func:`main` here) with a wake-up pipe; settings come from the
    same ``NURTURE_*`` environment as the server's (or ``env``, when given). Create it
    before gunicorn forks its workers, so they inherit the pipe's write end (``waker``)."""

    def __init__(
        self,
        entry_module: str,
        *,
        niceness: int = DEFAULT_NICENESS,
        interval: float = 0.5,
        env: Mapping[str, str] | None = None,
    ) -> None:
        read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)
        command = [
            sys.executable, "-m", entry_module, "--wake-fd", str(read_fd),
            "--parent", str(os.getpid()), "--nice", str(niceness), "--interval", str(interval),
        ]  # fmt: skip
        # Its own process group: Ctrl-C in the terminal reaches the server, which then
        # stops this process itself (a SIGINT here could land mid-import, as a traceback).
        self.process = subprocess.Popen(  # noqa: S603 (own argv)
            command, pass_fds=(read_fd,), env=env, process_group=0
        )
        os.close(read_fd)
        self.waker = PipeWaker(write_fd)

    def stop(self, timeout: float = 10.0) -> None:
        """Let the current pass finish, then stop the process."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        with contextlib.suppress(OSError):
            os.close(self.waker.fd)


def run(
    runtime: Runtime,
    wake_fd: int,
    *,
    parent: int | None = None,
    interval: float = 0.5,
    gather: float = 0.02,
    backoff: float = 3.0,
    max_rest: float = 5.0,
    lull: float = 0.05,
) -> None:
    """Process hits whenever woken (or every ``interval``) until stopped."""
    processor = HitProcessor(runtime)
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        if parent is not None and os.getppid() != parent:
            log.info("the server stopped; the hit processor stops too")
            return
        ready, _, _ = select.select([wake_fd], [], [], interval)
        if ready:
            if not os.read(wake_fd, 65536):
                return  # every write end is closed: nobody is capturing hits any more
            # A short pause lets a burst gather into one pass; alone, a click still
            # reaches its score within tens of milliseconds.
            time.sleep(gather)
            with contextlib.suppress(BlockingIOError):
                os.read(wake_fd, 65536)  # the wake-ups that arrived meanwhile
        started = time.monotonic()
        try:
            done = processor.run_once(instance_now(runtime))
        except Exception:
            # The hits stay unprocessed in the database; the next pass tries again.
            log.exception("processing tracking hits failed; retrying")
            time.sleep(1.0)
            continue
        if done:
            # Nice does not lower the priority of the database server's work for this
            # process: under a burst, rest ``backoff`` times as long as the pass took
            # (at most a quarter of the time processing), so capture keeps the cores and
            # the next pass takes a bigger, cheaper-per-hit batch. The rest ends as soon
            # as hits stop arriving for ``lull`` seconds: the click after a burst, or an
            # isolated one, is processed at once.
            _rest(wake_fd, min(backoff * (time.monotonic() - started), max_rest), lull)


def _rest(wake_fd: int, seconds: float, lull: float) -> None:
    """Wait up to ``seconds`` while wake-ups keep coming; return after ``lull`` without one."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([wake_fd], [], [], min(lull, left))
        if not ready:
            return
        with contextlib.suppress(BlockingIOError):
            if not os.read(wake_fd, 65536):
                return


def main(argv: list[str] | None = None) -> None:
    """The process ``ProcessorProcess`` starts (through its entry module)."""
    parser = argparse.ArgumentParser(prog="nurture hit processor")
    parser.add_argument("--wake-fd", type=int, required=True)
    parser.add_argument("--parent", type=int)
    parser.add_argument("--nice", type=int, default=DEFAULT_NICENESS)
    parser.add_argument("--interval", type=float, default=0.5)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s hit-processor %(message)s")
    os.nice(args.nice)
    os.set_blocking(args.wake_fd, False)

    runtime = Runtime.from_settings(Settings.from_env())
    try:
        run(runtime, args.wake_fd, parent=args.parent, interval=args.interval)
    finally:
        runtime.close()
