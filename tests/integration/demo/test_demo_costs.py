"""The demo's costs: simulated months the costs file leaves out get its latest month's
entries, entered in the app, so the cost report shows something whenever the demo runs."""

from __future__ import annotations

from datetime import UTC, datetime

from nurture.analytics.costs import list_costs, sync_costs_file
from nurture.demo.costs import NOTE, enter_demo_costs
from tests.integration.engine_support import sync_fixture_campaigns

FILE = """\
currency: USD
costs:
  - { month: 2025-12, source: ads, amount: 10 }
  - { month: 2026-01, source: webinar, amount: 600 }
  - { month: 2026-01, campaign: test-drip, amount: 50 }
"""


def test_the_months_the_file_leaves_out_copy_its_latest_month(runtime, tmp_path):
    sync_fixture_campaigns(runtime)
    path = tmp_path / "costs.yaml"
    path.write_text(FILE, encoding="utf-8")
    start = datetime(2026, 1, 20, tzinfo=UTC)
    assert sync_costs_file(runtime, now=start, path=path).ok
    lines = enter_demo_costs(runtime, start, datetime(2026, 3, 5, tzinfo=UTC))
    # February and March, each with January's two entries.
    assert lines == ["costs: 4 entries entered in the app for simulated months the file leaves out"]
    with runtime.sessions() as session:
        app = [
            (e.month, e.source, e.campaign, str(e.amount), e.note)
            for e in list_costs(session)
            if e.origin == "app"
        ]
    assert app == [
        ("2026-02", None, "test-drip", "50.00", NOTE),
        ("2026-02", "webinar", None, "600.00", NOTE),
        ("2026-03", None, "test-drip", "50.00", NOTE),
        ("2026-03", "webinar", None, "600.00", NOTE),
    ]
    # Run again (a second demo on the same instance): nothing new to enter.
    assert enter_demo_costs(runtime, start, datetime(2026, 1, 31, tzinfo=UTC)) == []
