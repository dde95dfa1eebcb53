"""gunicorn serving either the real tracking app or a trivial pixel app, identically configured.

Used by ``tracking_throughput.py``: ``python bench/tracking_server.py {nurture|trivial} PORT``.
Both run exactly as ``nurture serve`` runs (gthread workers, 2 processes × 16 threads, one app
and database pool built per process after the fork; for the real app, the hit processor in
its own process at nice +10, woken through a pipe);
access logging is off for both, so the comparison is the endpoint, not the log.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flask import Flask, Response  # noqa: E402
from gunicorn.app.base import BaseApplication  # noqa: E402

from nurture.tracking.processor import ProcessorProcess  # noqa: E402
from nurture.web import create_app  # noqa: E402
from nurture.worker import hit_processor  # noqa: E402
from tracking import PIXEL  # noqa: E402


def trivial_app() -> Flask:
    """The ceiling: Flask returning the same pixel with the same headers, nothing else."""
    app = Flask("trivial")

    @app.get("/t/o/<signed>.gif")
    def pixel(signed: str) -> Response:
        return Response(PIXEL, mimetype="image/gif", headers={"Cache-Control": "no-store"})

    return app


def nurture_app(processor: Any) -> Flask:
    """What ``nurture serve`` loads in each process (settings from NURTURE_* variables)."""

    app = create_app()
    if processor is not None:
        app.extensions["nurture.hit_processor"] = processor.waker
    return app


class Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, which: str, port: int, workers: int, threads: int) -> None:
        self.which, self.port, self.workers, self.threads = which, port, workers, threads
        self.processor: Any = None
        if which == "nurture" and not os.environ.get("BENCH_NO_PROCESSOR"):
            # As `nurture serve`: the hit processor in its own process at nice +10.

            self.processor = ProcessorProcess(hit_processor.ENTRY_MODULE)
        super().__init__()

    def load_config(self) -> None:
        for key, value in {
            "bind": f"127.0.0.1:{self.port}",
            "workers": self.workers,
            "threads": self.threads,
            "worker_class": "gthread",
            "accesslog": None,
            "loglevel": "warning",
            "backlog": 2048,
        }.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return trivial_app() if self.which == "trivial" else nurture_app(self.processor)


if __name__ == "__main__":
    which, port = sys.argv[1], int(sys.argv[2])
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 16
    server = Server(which, port, workers, threads)
    try:
        server.run()
    finally:
        if server.processor is not None:
            server.processor.stop()
