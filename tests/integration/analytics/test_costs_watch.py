"""The worker's watcher of the costs file: an edit is synced once, a broken edit keeps the
previous version."""

from __future__ import annotations

import os

from sqlalchemy import select

from nurture.analytics.costs import CostsWatcher
from nurture.models import Cost
from nurture.platform.runtime import Runtime
from tests.integration.analytics.analytics_support import at

FILE = "currency: EUR\ncosts:\n  - { month: 2026-01, source: ads, amount: 10 }\n"


def test_the_watcher_syncs_each_edit_once(settings, tmp_path):
    path = tmp_path / "costs.yaml"
    path.write_text(FILE, encoding="utf-8")
    runtime = Runtime.from_settings(settings.with_overrides(costs_file=path))
    try:
        reports = []
        watcher = CostsWatcher(runtime, reports.append)
        watcher.sync_if_changed(at(1, 1))
        watcher.sync_if_changed(at(1, 2))  # unchanged on disk: nothing to do
        assert [(r.action, r.version) for r in reports] == [("created", 1)]

        path.write_text(FILE.replace("amount: 10", "amount: -1"), encoding="utf-8")
        os.utime(path, (1, 1))  # a different stamp, whatever the clock's resolution
        watcher.sync_if_changed(at(1, 3))
        assert reports[-1].action == "failed"
        assert "stays active" in reports[-1].notes[0]
        with runtime.sessions() as session:
            assert [float(a) for a in session.scalars(select(Cost.amount))] == [10.0]
    finally:
        runtime.close()
