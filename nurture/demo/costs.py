"""The demo's costs: the bundled costs file covers fixed months, while the demo simulates
the weeks up to today. So that the cost report shows something whenever the demo runs,
each simulated month the file does not cover gets the file's latest month's entries,
entered in the app (as a marketer would), with a note saying so."""

from __future__ import annotations

from datetime import datetime, timedelta

from nurture.analytics.costs import list_costs, put_cost
from nurture.analytics.filters import month_key, months
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime

NOTE = "demo: as the costs file's latest month"


def enter_demo_costs(runtime: Runtime, start: datetime, end: datetime) -> list[str]:
    """Enter the app's costs of the months of ``[start, end]`` the costs file leaves out;
    the lines to show (none when the file covers them all or has no entry)."""
    added = 0
    with transaction(runtime.sessions) as session:
        from_file = [entry for entry in list_costs(session) if entry.origin == "file"]
        if not from_file:
            return []
        covered = {entry.month for entry in from_file}
        latest = max(covered)
        model = [entry for entry in from_file if entry.month == latest]
        for month in months(start.date(), end.date() + timedelta(days=1)):
            if month_key(month) in covered:
                continue
            for entry in model:
                fields = {
                    "month": month_key(month),
                    "source": entry.source,
                    "campaign": entry.campaign,
                    "amount": entry.amount,
                    "note": NOTE,
                }
                put_cost(session, fields, who="demo", now=start)
                added += 1
    if not added:
        return []
    return [f"costs: {added} entries entered in the app for simulated months the file leaves out"]
