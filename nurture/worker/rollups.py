"""The worker's roll-up pass: the campaign results' roll-up brought up to date with the
messages changed since the last pass (``nurture.analytics.email_rollup``), off the send
and tracking transactions, which only queue the changed messages' leads (a trigger)."""

from __future__ import annotations

from nurture.analytics.email_rollup import roll_up_pending
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime

# Queue rows taken per transaction: a pass's locks and memory stay small, and a report
# reading meanwhile waits for one batch at most.
BATCH = 5000


def roll_up_campaign_results(runtime: Runtime, *, batch: int = BATCH) -> int:
    """Roll up every lead queued now, ``batch`` queue rows per transaction; how many rows
    were taken."""
    taken = 0
    while True:
        with transaction(runtime.sessions) as session:
            done = roll_up_pending(session, batch)
        taken += done
        if done < batch:
            return taken
