"""Command: ``nurture serve`` — the web app, API and tracking on one port (gunicorn)."""

from __future__ import annotations

import itertools
import os
from typing import Any

import click
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from nurture.cli.group import cli
from nurture.platform.addresses import mask_addresses
from nurture.platform.config import Settings
from nurture.tracking.processor import ProcessorProcess
from nurture.web import create_app
from nurture.worker import hit_processor

# Gunicorn's default line has the query string and the referring page, and both carry
# people's data (a lead search by email address, the suppression search, the referrer of a
# page reached from such a search): the access log names the path only.
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s "%(a)s"'


# The tracking endpoints' paths (open pixel, click, page events, the snippet).
TRACKING_PREFIX = "/t/"


class AccessLogger(Logger):
    """Gunicorn's logger, with no email address in an access log line.

    A path can hold one too (a link to a lead by address, a mistyped URL), and so can the
    user name of a basic-auth header; the atoms that carry the query string or the referring
    page are emptied, whatever format is used.
    """

    tracking_every = 100

    def __init__(self, cfg: Any) -> None:
        super().__init__(cfg)
        # next() on a count is atomic under the GIL: the threads of a process share it.
        self._tracking_hits = itertools.count()

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        """The values a log line is formatted from, with addresses masked."""
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for name in ("U", "u"):
            if isinstance(atoms.get(name), str):
                atoms[name] = mask_addresses(atoms[name])
        atoms["r"] = f"{atoms.get('m')} {atoms.get('U')} {atoms.get('H')}"
        atoms["q"] = atoms["f"] = "-"
        atoms.pop("{referer}i", None)
        return atoms

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        """Log the request, but only one in ``tracking_every`` answered tracking hits.

        A line per open pixel and click was a tenth of what a hit costs the server
        (docs/benchmarks.md, "Tracking as shipped"), and the hits are stored anyway: the
        table of hits is their record. Tracking requests that failed (4xx, 5xx) and every
        other request are always logged.
        """
        path = environ.get("PATH_INFO") or ""
        if path.startswith(TRACKING_PREFIX) and _status(resp) < 400:
            every = self.tracking_every
            if every <= 0 or next(self._tracking_hits) % every:
                return
        super().access(resp, req, environ, request_time)


def _status(resp: Any) -> int:
    code = getattr(resp, "status_code", None)
    if isinstance(code, int):
        return code
    try:
        return int(str(getattr(resp, "status", "")).split(None, 1)[0])
    except ValueError:
        return 0


def access_logger(tracking_every: int) -> type[AccessLogger]:
    """The access logger class gunicorn builds, logging one in ``tracking_every`` tracking
    hits (``NURTURE_TRACKING_LOG_EVERY``: 1 logs each, 0 none)."""
    return type("AccessLogger", (AccessLogger,), {"tracking_every": tracking_every})


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn processes")
# Tracking requests spend much of their time waiting for the group commit that stores
# their hit: 2 processes x 16 threads measured 0.62-0.71 x the trivial pixel's throughput
# on PostgreSQL, against 0.58 for 2 x 8, 0.44 for 4 x 4 and 0.51 for 4 x 8
# (docs/benchmarks.md, "Tracking capture").
@click.option(
    "--threads", default=16, show_default=True, type=int, help="threads per gunicorn process"
)
@click.option(
    "--process-hits/--no-process-hits",
    default=True,
    show_default=True,
    help="Run the tracking hit processor beside the server (a separate, lower-priority process).",
)
def serve_command(host: str, port: int, workers: int, threads: int, process_hits: bool) -> None:
    """Serve the web app, JSON API and tracking endpoints with gunicorn."""
    serve(host=host, port=port, workers=workers, threads=threads, process_hits=process_hits)


def serve(
    *,
    host: str,
    port: int,
    workers: int,
    threads: int,
    process_hits: bool = True,
    settings: Settings | None = None,
) -> None:
    """Run gunicorn until it is stopped (Ctrl-C), with ``settings`` or the environment's.

    The hit processor is a separate program: it reads the environment, so ``settings``
    that differ from it (the demo's instance) are handed to it as ``NURTURE_*`` variables.
    """
    # Tracking hits become events in their own process at a lower CPU priority, so the
    # serving processes keep the cores for requests (docs/tracking.md). Started before
    # gunicorn forks, so every worker inherits the pipe that wakes it.
    processor = (
        ProcessorProcess(hit_processor.ENTRY_MODULE, env=_environment_of(settings))
        if process_hits
        else None
    )

    tracking_every = (settings or Settings.from_env()).tracking_log_every

    class _Server(BaseApplication):
        # Each gunicorn process builds its own app (and database pool) after the fork;
        # sharing a pool across forked processes corrupts connections.
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                "accesslog": "-",
                "access_log_format": ACCESS_LOG_FORMAT,
                "logger_class": access_logger(tracking_every),
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            app = create_app({"NURTURE_SETTINGS": settings} if settings else None)
            if processor is not None:
                app.extensions["nurture.hit_processor"] = processor.waker
            return app

    click.echo(f"serving on http://{host}:{port}")
    try:
        _Server().run()
    finally:
        if processor is not None:
            processor.stop()


def _environment_of(settings: Settings | None) -> dict[str, str] | None:
    if settings is None:
        return None
    return {
        **os.environ,
        "NURTURE_INSTANCE_PATH": str(settings.instance_path),
        "NURTURE_DATABASE_URL": settings.database_url,
        "NURTURE_SECRET_KEY": settings.secret_key,
        "NURTURE_PRIVACY_PEPPER": settings.suppression_pepper,
    }
