"""The worker's roll-up pass: the campaign results' roll-up brought up to date with the
messages and leads changed since the last pass (``nurture.analytics.email_rollup``), off
the send and tracking transactions, which only queue the changed leads (triggers)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.analytics.email_rollup import ROLLUP_LOCK, roll_up_pending
from nurture.analytics.email_rollup_rebuild import rebuild_lead_groups
from nurture.analytics.lead_groups import groups_ready
from nurture.handoff.team_sync import active_team
from nurture.models import EmailRollupQueue
from nurture.platform.db import peek, serialize, transaction
from nurture.platform.runtime import Runtime

# Queue rows taken per transaction: a report waits for one batch at most (a report holds
# the roll-up's lock shared; ~1 s for 500 leads on the 1 M-lead benchmark database).
BATCH = 500


def roll_up_campaign_results(runtime: Runtime, *, batch: int = BATCH) -> int:
    """Roll up every lead queued now, ``batch`` queue rows per transaction; how many rows
    were taken. First, when the lead groups were computed with other segments than the
    active sales team's (or never), they are recomputed whole."""
    if _up_to_date(runtime):
        return 0
    with transaction(runtime.sessions) as session:
        serialize(session, ROLLUP_LOCK)
        team = active_team(session)
        if not groups_ready(session, team):
            rebuild_lead_groups(session, team)
    taken = 0
    while True:
        with transaction(runtime.sessions) as session:
            # The segments the groups were computed with, even if the team changed since:
            # the next run rebuilds the groups with the new ones.
            done = roll_up_pending(session, team, batch)
        taken += done
        if done < batch:
            return taken


def _up_to_date(runtime: Runtime) -> bool:
    """Nothing queued and the groups follow the active team: a look without the roll-up's
    lock or a write transaction (the job runs every 2 s, and on SQLite a write transaction
    would hold up tracking capture for nothing)."""
    with peek(runtime.engine) as connection, Session(bind=connection) as session:
        if session.scalar(select(EmailRollupQueue.lead_id).limit(1)) is not None:
            return False
        return groups_ready(session, active_team(session))
