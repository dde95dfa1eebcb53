"""Command: ``nurture serve`` — the web app, API and tracking on one port (gunicorn)."""

from __future__ import annotations

from typing import Any

import click

from nurture.cli import cli


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn processes")
@click.option("--threads", default=4, show_default=True, type=int, help="threads per process")
def serve_command(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the web app, JSON API and tracking endpoints with gunicorn."""
    from gunicorn.app.base import BaseApplication

    from nurture.web import create_app

    class _Server(BaseApplication):  # type: ignore[misc]
        # Each gunicorn process builds its own app (and database pool) after the fork;
        # sharing a pool across forked processes corrupts connections.
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                "accesslog": "-",
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            app = create_app()
            # Each process turns its captured hits into events at once (woken per hit).
            from nurture.hits import HitProcessor

            processor = HitProcessor(app.extensions["nurture"]).start()
            app.extensions["nurture.hit_processor"] = processor
            return app

    click.echo(f"serving on http://{host}:{port}")
    _Server().run()
