"""The worker: the processes that run beside the web app.

- ``loop``: ``nurture worker`` — the APScheduler loop that fires the tick, the sending
  processes of ``--senders N``, the file watchers, and the single-worker rule on SQLite.
- ``sender``: the send-only processes of ``--senders N`` (``python -m nurture.worker.sender``).
- ``hit_processor``: the tracking hit processor's own process (``nurture serve`` starts it).

Each process connects the features' subscriptions (``nurture.wiring``) before it works.
"""

from nurture.worker.loop import (
    WorkerAlreadyRunning,
    WorkerPass,
    run_worker,
    single_worker_lock,
)
from nurture.worker.sender import SenderPool

__all__ = [
    "SenderPool",
    "WorkerAlreadyRunning",
    "WorkerPass",
    "run_worker",
    "single_worker_lock",
]
