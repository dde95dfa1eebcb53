"""Work a page starts in a thread of the web process (an import, a backtest): daemon
threads, remembered on the app so that shutting down, and tests, can wait for them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

THREADS = "nurture.background_threads"


def start_thread(name: str, target: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run ``target(*args, **kwargs)`` in a new daemon thread of the current app."""
    thread = threading.Thread(target=target, args=args, kwargs=kwargs, name=name, daemon=True)
    threads: list[threading.Thread] = current_app.extensions.setdefault(THREADS, [])
    threads[:] = [t for t in threads if t.is_alive()]
    threads.append(thread)
    thread.start()


def join_threads(app: Flask, timeout: float = 60.0) -> None:
    """Wait for the threads this app started."""
    for thread in list(app.extensions.get(THREADS, [])):
        thread.join(timeout)
