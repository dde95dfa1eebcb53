"""The funnel's story (``analytics_support``) with costs: five entries from a costs file
and one entered in the app, so every figure the cost tests expect is computed by hand.

==== ======= ================ ======== ====== ==========================================
id   month   source           campaign amount covers (leads created that month with it)
==== ======= ================ ======== ====== ==========================================
C1   2026-01 webinar          -        600.00 L1, L2
C2   2026-02 ads              -        300.00 L3 (L4 is ads too, but its erasure took
                                              its source: it can no longer be matched)
C3   2026-02 -                test-drip 90.00 L3
C4   2026-03 webinar          -        310.00 nobody (no lead created in March)
C5   2026-01 partner          -        100.00 nobody (L5 came in December)
C6   2026-01 -                test-drip 50.00 L1 (entered in the app)
==== ======= ================ ======== ====== ==========================================
"""

from __future__ import annotations

from pathlib import Path

from nurture.analytics.costs import put_cost, sync_costs_file
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime
from tests.integration.analytics.analytics_support import Story, at, tell_story

COSTS_FILE = """\
currency: EUR
costs:
  - { month: 2026-01, source: webinar, amount: 600.00, note: Webinar hosting }
  - { month: 2026-02, source: ads, amount: 300 }
  - { month: 2026-02, campaign: test-drip, amount: 90 }
  - { month: 2026-03, source: webinar, amount: 310 }
  - { month: 2026-01, source: partner, amount: 100 }
"""


def write_costs(folder: Path, text: str = COSTS_FILE) -> Path:
    path = folder / "costs.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def tell_story_with_costs(runtime: Runtime, folder: Path) -> Story:
    story = tell_story(runtime, folder)
    report = sync_costs_file(runtime, now=at(3, 20), path=write_costs(folder))
    assert report.ok, str(report)
    with transaction(runtime.sessions) as session:
        put_cost(
            session,
            {"month": "2026-01", "campaign": "test-drip", "amount": "50"},
            who="user:1",
            now=at(3, 21),
        )
    return story
