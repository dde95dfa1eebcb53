"""The velocity story (docs/analytics.md, "Velocity"): four leads moved by the engine's own
use cases, so every figure the tests expect is worked out by hand from here. All times
are 09:00 UTC unless said.

==== ========== ======= ======= ===== ==================================================
lead created    source  account grade what happens (2026)
==== ========== ======= ======= ===== ==================================================
V1   Jan 01     webinar US      A     a human page view on 2025-12-28 (a machine open on
                                      2025-12-20 and an email sent on 2025-12-15 are not
                                      touches); MQL Jan 05 (H1, Ann), accepted Jan 06,
                                      sql Jan 10, opportunity Jan 20, won Feb 09
V2   Jan 02     webinar US      B     MQL Jan 04 (H2, Ann), rejected Jan 04 21:00
                                      (recycled); MQL again Feb 01 (H3, Ann): no answer
V3   Jan 03     ads     DE      A     MQL Jan 07 (H4, Ben), reassigned to Ann Jan 08
                                      (H5), who converts it to won Jan 11 (sal, sql and
                                      opportunity passed in that instant)
V4   Feb 05     partner none    C     an import sets mql Feb 10, then sql Feb 12 (sal
                                      skipped)
==== ========== ======= ======= ===== ==================================================

V1 and V3 are enrolled in the campaign ``test-drip`` when they are created.

Stays that end: mql V2 0.5 d (Jan 04), V1 1 d (Jan 06), V3 4 d (Jan 11), V4 2 d (Feb 12);
sal V1 4 d (Jan 10); sql V1 10 d (Jan 20); opportunity V1 20 d (Feb 09). Still running:
V2's second mql, V4's sql. Sales cycles: V1 43 d (Dec 28 → Feb 09), V3 8 d (Jan 03 →
Jan 11). First sales action: H1 1 d, H2 0.5 d, H4 4 d (Ann's convert on H5), H3 waiting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from nurture.handoff import accept, convert, reassign, reject
from nurture.handoff.reps import find_rep
from nurture.leads.lifecycle import IMPORT_ACTOR, change_stage
from nurture.models import Lead
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime
from tests.integration.engine_support import add_lead, enrol, sync_fixture_campaigns
from tests.integration.handoff_support import add_account, add_event, qualify
from tests.integration.sales_support import ANN, BEN, sync_sales_team


def at(month: int, day: int, year: int = 2026, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@dataclass(frozen=True)
class VelocityStory:
    leads: dict[str, int]


def tell_velocity_story(runtime: Runtime, folder: Path) -> VelocityStory:
    sync_sales_team(runtime, folder, at(12, 1, 2025))
    sync_fixture_campaigns(runtime, now=at(12, 1, 2025))
    us_one = add_account(runtime, "one.example", country="US", employees=300)
    us_two = add_account(runtime, "two.example", country="US", employees=300)
    de = add_account(runtime, "drei.example", country="DE", employees=300)
    leads = {
        "V1": add_lead(runtime, "v1@one.example", created_at=at(1, 1), source="webinar",
                       account_id=us_one, fit_grade="A"),
        "V2": add_lead(runtime, "v2@two.example", created_at=at(1, 2), source="webinar",
                       account_id=us_two, fit_grade="B"),
        "V3": add_lead(runtime, "v3@drei.example", created_at=at(1, 3), source="ads",
                       account_id=de, fit_grade="A"),
        "V4": add_lead(runtime, "v4@nowhere.example", created_at=at(2, 5), source="partner",
                       fit_grade="C"),
    }  # fmt: skip
    enrol(runtime, leads["V1"], "test-drip", now=at(1, 1))
    enrol(runtime, leads["V3"], "test-drip", now=at(1, 3))
    add_event(runtime, leads["V1"], "email.sent", at(12, 15, 2025))
    add_event(runtime, leads["V1"], "email.opened", at(12, 20, 2025), is_machine=True)
    add_event(runtime, leads["V1"], "page.viewed", at(12, 28, 2025))

    h2 = qualify(runtime, leads["V2"], at(1, 4))
    with transaction(runtime.sessions) as session:
        reject(session, h2, reason="bad-timing", rep=find_rep(session, ANN), now=at(1, 4, hour=21))
    h1 = qualify(runtime, leads["V1"], at(1, 5))
    with transaction(runtime.sessions) as session:
        accept(session, h1, rep=find_rep(session, ANN), now=at(1, 6))
    h4 = qualify(runtime, leads["V3"], at(1, 7))
    with transaction(runtime.sessions) as session:
        h5 = reassign(
            session, h4, to=find_rep(session, ANN), reason="speaks German", actor="user:m",
            now=at(1, 8),
        ).id  # fmt: skip
    with transaction(runtime.sessions) as session:
        ann = find_rep(session, ANN)
        convert(session, h1, outcome="sql", rep=ann, now=at(1, 10))
        convert(session, h5, outcome="won", rep=ann, now=at(1, 11))
    with transaction(runtime.sessions) as session:
        convert(session, h1, outcome="opportunity", rep=find_rep(session, ANN), now=at(1, 20))
    qualify(runtime, leads["V2"], at(2, 1))
    with transaction(runtime.sessions) as session:
        convert(session, h1, outcome="won", rep=find_rep(session, ANN), now=at(2, 9))
    for stage, day in (("mql", 10), ("sql", 12)):
        with transaction(runtime.sessions) as session:
            lead = session.get(Lead, leads["V4"])
            assert lead is not None
            change_stage(
                session, lead, stage, reason="CRM", actor=IMPORT_ACTOR, now=at(2, day),
                override=True,
            )  # fmt: skip
    with runtime.sessions() as session:
        # The story's routing: Ben has the German lead first, Ann the others.
        assert find_rep(session, BEN) is not None
    return VelocityStory(leads)
