"""The funnel's story (docs/analytics.md, "Worked example"): five leads moved by the
engine's own use cases, so every figure the tests expect is counted by hand from here.

==== ========== ======= ============ ===== ========================================
lead created    source  account      grade what happens (2026)
==== ========== ======= ============ ===== ========================================
L1   Jan 05     webinar US, 300      A     MQL Jan 10 (Ann), SAL Jan 12, won Feb 20
L2   Jan 20     webinar US, 5000     B     MQL Feb 01 (Ann), lost Feb 10 (SAL on the
                                           way, then recycled), MQL again Mar 05
L3   Feb 03     ads     none         A     an import sets stage sql on Feb 04
L4   Feb 15     ads     DE, 50       C     MQL Feb 16 (Ben), erased Mar 01
L5   2025-12-20 partner DE, 2000     A     MQL Jan 02 (Ben)
==== ========== ======= ============ ===== ========================================

L1 and L3 are enrolled in the campaign ``test-drip``. The team's segments: enterprise
(1000 employees or more), then smb (any size).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from nurture.handoff import accept, convert
from nurture.handoff.reps import find_rep
from nurture.leads.lifecycle import IMPORT_ACTOR, change_stage
from nurture.models import Lead
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime
from nurture.privacy import erase_lead
from tests.integration.engine_support import add_lead, enrol, sync_fixture_campaigns
from tests.integration.handoff_support import add_account, qualify
from tests.integration.sales_support import ANN, sync_sales_team


def at(month: int, day: int, year: int = 2026, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@dataclass(frozen=True)
class Story:
    leads: dict[str, int]


def tell_story(runtime: Runtime, folder: Path) -> Story:
    sync_sales_team(runtime, folder, at(12, 1, 2025))
    sync_fixture_campaigns(runtime, now=at(12, 1, 2025))
    us_small = add_account(runtime, "small.example", country="US", employees=300)
    us_big = add_account(runtime, "big.example", country="US", employees=5000)
    de_small = add_account(runtime, "klein.example", country="DE", employees=50)
    de_big = add_account(runtime, "gross.example", country="DE", employees=2000)
    leads = {
        "L1": add_lead(
            runtime, "l1@small.example", created_at=at(1, 5), source="webinar",
            account_id=us_small, fit_grade="A",
        ),
        "L2": add_lead(
            runtime, "l2@big.example", created_at=at(1, 20), source="webinar",
            account_id=us_big, fit_grade="B",
        ),
        "L3": add_lead(runtime, "l3@nowhere.example", created_at=at(2, 3), source="ads",
                       fit_grade="A"),
        "L4": add_lead(
            runtime, "l4@klein.example", created_at=at(2, 15), source="ads",
            account_id=de_small, fit_grade="C",
        ),
        "L5": add_lead(
            runtime, "l5@gross.example", created_at=at(12, 20, 2025), source="partner",
            account_id=de_big, fit_grade="A",
        ),
    }  # fmt: skip
    enrol(runtime, leads["L1"], "test-drip", now=at(1, 5))
    enrol(runtime, leads["L3"], "test-drip", now=at(2, 3))

    qualify(runtime, leads["L5"], at(1, 2))
    first = qualify(runtime, leads["L1"], at(1, 10))
    with transaction(runtime.sessions) as session:
        ann = find_rep(session, ANN)
        accept(session, first, rep=ann, now=at(1, 12))
    second = qualify(runtime, leads["L2"], at(2, 1))
    with transaction(runtime.sessions) as session:
        ann = find_rep(session, ANN)
        convert(session, second, outcome="lost", reason="no budget", rep=ann, now=at(2, 10))
    with transaction(runtime.sessions) as session:
        lead = session.get(Lead, leads["L3"])
        assert lead is not None
        change_stage(
            session, lead, "sql", reason="CRM", actor=IMPORT_ACTOR, now=at(2, 4), override=True
        )
    qualify(runtime, leads["L4"], at(2, 16))
    with transaction(runtime.sessions) as session:
        ann = find_rep(session, ANN)
        convert(session, first, outcome="won", value="1000", rep=ann, now=at(2, 20))
    with transaction(runtime.sessions) as session:
        erase_lead(
            session,
            "l4@klein.example",
            now=at(3, 1),
            actor="test",
            instance_path=runtime.settings.instance_path,
        )
    qualify(runtime, leads["L2"], at(3, 5))
    return Story(leads)
