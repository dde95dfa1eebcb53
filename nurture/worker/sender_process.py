"""A send-only process of ``nurture worker --senders N``: ``python -m`` runs this module,
which imports the sending side only (nurture.worker.sender)."""

from __future__ import annotations

import logging
import os
import pickle
import signal
import sys
import threading

from nurture.platform.config import Settings
from nurture.platform.start_up import freeze_when_started, started
from nurture.worker.sender import send_loop


def main() -> None:
    """A sender process: its name and the worker's process id in argv, its settings
    pickled on standard input."""
    name, parent = sys.argv[1], int(sys.argv[2])
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s %(levelname)s {name}: %(message)s")
    # The pickle comes from the worker that started this process, through a pipe only it
    # holds: it is no input from outside.
    settings = pickle.load(sys.stdin.buffer)  # noqa: S301
    if not isinstance(settings, Settings):
        raise SystemExit(f"{name}: expected the worker's settings on standard input")
    stop = threading.Event()
    # Ctrl-C reaches the whole process group; the worker decides when senders stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # The worker's id comes from the worker: one read here could already be init's, had
    # the worker died while this process was still importing.
    freeze_when_started()
    started()
    send_loop(settings, stop, parent_alive=lambda: os.getppid() == parent)


if __name__ == "__main__":
    main()
