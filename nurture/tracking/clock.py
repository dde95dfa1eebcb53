"""The instance's clock: the wall clock, or (``NURTURE_SIMULATED_TIME``) a simulated one.

``nurture tick --now T`` runs the engine as if it were ``T``: the emails it sends carry
``T`` as their send time. On a demo or test instance with simulated time on, the tick
also sets the instance's simulated clock to ``T``, and from then on the instance's "now"
is ``T`` plus the wall-clock time elapsed since that tick. Tracking hits (opens, clicks,
page views, forms), API events and the hit processor's passes read that now, so a click on
an email sent at ``T`` lands after ``T`` and is judged, scored and branched on in the same
time as the send. Off (every production instance: ``nurture.platform.config`` refuses it
there), the instance's now is the wall clock and no clock row is read or written.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from nurture.models import CLOCK_ROW_ID, SimulatedClock
from nurture.platform.db import transaction, utcnow
from nurture.platform.runtime import Runtime


def simulated_now(simulated_at: datetime, set_at: datetime, wall_now: datetime) -> datetime:
    """PURE: the simulated time ``wall_now`` stands for, the clock having been set to
    ``simulated_at`` at ``set_at`` (both by the wall clock's UTC).

    Time runs on from the setting at the wall clock's pace; a wall clock that went back
    (an NTP step) does not take the simulated one back before the time it was set to.
    """
    return simulated_at + max(wall_now - set_at, timedelta(0))


def instance_now(runtime: Runtime) -> datetime:
    """The instance's current time: the simulated one when ``NURTURE_SIMULATED_TIME`` is on
    and a ``tick --now`` has set it, else the wall clock."""
    wall = utcnow()
    if not runtime.settings.simulated_time:
        return wall
    with runtime.sessions() as session:
        row = session.execute(
            select(SimulatedClock.simulated_at, SimulatedClock.set_at).where(
                SimulatedClock.id == CLOCK_ROW_ID
            )
        ).first()
    if row is None:
        return wall
    return simulated_now(row.simulated_at, row.set_at, wall)


def set_simulated_clock(runtime: Runtime, simulated_at: datetime) -> bool:
    """Set the instance's simulated clock to ``simulated_at`` (``nurture tick --now``).

    Does nothing and returns False when simulated time is off: a production instance's
    ticks never leave a clock behind that a later setting would pick up by surprise.
    """
    if not runtime.settings.simulated_time:
        return False
    with transaction(runtime.sessions) as session:
        clock = session.get(SimulatedClock, CLOCK_ROW_ID, with_for_update=True)
        if clock is None:
            clock = SimulatedClock(id=CLOCK_ROW_ID, simulated_at=simulated_at, set_at=utcnow())
            session.add(clock)
        else:
            clock.simulated_at = simulated_at
            clock.set_at = utcnow()
    return True
