"""Revenue's story (``revenue_support``) with costs and a third campaign, so every ROI
figure the tests expect is computed by hand. The costs file is in EUR, like the team's.

P5 (erased later, its deal kept) also clicked a ``partner-news`` email on Jan 04: a
campaign with revenue and no cost. So the EUR deals' touches, in order, are

==== ========= ======================================================================
deal value     touches (campaign; source)
==== ========= ======================================================================
P5   200       page Jan 03 (-; - : erasure took its address), click partner-news Jan 04
P1   1000      creation Jan 05 (-; webinar), click test-drip Jan 10 (webinar), page
               Jan 20 (-; newsletter), click webinar-invite Feb 01 (webinar)
P2   600       click test-drip Feb 03 (-: no source), click webinar-invite Feb 08
P3   333.33    none
==== ========= ======================================================================

and P4's 500 USD is apart. The costs:

==== ======= ======== ============== ====== ===============================================
id   month   source   campaign       amount covers (leads created that month with it)
==== ======= ======== ============== ====== ===============================================
K1   2026-01          test-drip      250.00 P1 (the only lead enrolled in test-drip)
K2   2026-02          webinar-invite 300.00 nobody (nobody is enrolled in it)
K3   2026-02 webinar                 200.00 nobody (no lead created in February from it)
K4   2026-01 ads                     150.00 P4 (enrolled in no campaign)
==== ======= ======== ============== ====== ===============================================
"""

from __future__ import annotations

from pathlib import Path

from nurture.analytics.costs import sync_costs_file
from nurture.models import Campaign
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime
from tests.integration.analytics.revenue_support import (
    RevenueStory,
    at,
    tell_revenue_story,
    touch,
)

ROI_COSTS = """\
currency: EUR
costs:
  - { month: 2026-01, campaign: test-drip, amount: 250 }
  - { month: 2026-02, campaign: webinar-invite, amount: 300 }
  - { month: 2026-02, source: webinar, amount: 200 }
  - { month: 2026-01, source: ads, amount: 150 }
"""


def tell_roi_story(runtime: Runtime, folder: Path, costs: str = ROI_COSTS) -> RevenueStory:
    story = tell_revenue_story(runtime, folder)
    with transaction(runtime.sessions) as session:
        session.add(Campaign(key="partner-news", name="Partner news"))
    touch(runtime, story.leads["P5"], "email.clicked", at(1, 4), campaign="partner-news",
          step="p/s1")  # fmt: skip
    path = folder / "costs.yaml"
    path.write_text(costs, encoding="utf-8")
    report = sync_costs_file(runtime, now=at(3, 20), path=path)
    assert report.ok, str(report)
    return story
