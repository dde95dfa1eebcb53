"""The sales feedback story (docs/analytics.md, "Sales feedback loop"): five leads moved by
the engine's own use cases, so every figure the tests expect is counted by hand from here.
All times are 09:00 UTC unless said; the rule is ``engaged-a-fit`` throughout, with the
readiness file version each handoff recorded (none: made before versions were recorded).

==== ======= ======= ===== ==========================================================
lead source  account version what happens (2026)
==== ======= ======= ===== ==========================================================
F1   webinar US      v2    offered Jan 05 (Ann), accepted Jan 05 09:30 (in the SLA's
                           one business hour)
F2   ads     US      v2    offered Jan 10 (Ann), rejected Jan 12 ``no-budget``, note
                           "Budget frozen until Q3" (recycled); offered again Feb 21
                           (v3, 40 days after the recycling: back as MQL), accepted Feb 22
F3   ads     DE      v3    offered Feb 02 (Ben), rejected Feb 03 ``bad-timing``, note
                           "Call again in spring" (recycled, never back)
F4   webinar US      none  offered Feb 10 (Ann): no answer yet
F5   partner DE      v2    offered Jan 20 (Ben), rejected Jan 21 ``bad-timing``, note
                           "Student, no company" (recycled, never back); erased Mar 01
==== ======= ======= ===== ==========================================================

F1 and F2 are enrolled in the campaign ``test-drip`` before their handoffs, so those
handoffs record it; the others record none. The SLA is one business hour in each rep's
hours (Ann and Ben work around the clock in the fixture team): only F1's answer is in time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from nurture.handoff import Qualification, accept, hand_off, reject
from nurture.handoff.reps import find_rep
from nurture.models import Lead
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime
from nurture.privacy import erase_lead
from tests.integration.engine_support import add_lead, enrol, sync_fixture_campaigns
from tests.integration.handoff_support import add_account
from tests.integration.sales_support import ANN, BEN, sync_sales_team

RULE = "engaged-a-fit"
NOTES = {
    "F2": "Budget frozen until Q3",
    "F3": "Call again in spring",
    "F5": "Student, no company",
}


def at(month: int, day: int, year: int = 2026, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@dataclass(frozen=True)
class FeedbackStory:
    leads: dict[str, int]
    handoffs: dict[str, int]


def offer(runtime: Runtime, lead_id: int, now: datetime, version: int | None) -> int:
    with transaction(runtime.sessions) as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None
        qualification = Qualification(
            RULE, ("score 60 and fit grade A",), readiness_version=version
        )
        return hand_off(session, lead, qualification, now).id


def answer(runtime: Runtime, handoff_id: int, rep: str, now: datetime, reason: str | None = None,
           note: str | None = None) -> None:  # fmt: skip
    with transaction(runtime.sessions) as session:
        acting = find_rep(session, rep)
        if reason is None:
            accept(session, handoff_id, rep=acting, now=now)
        else:
            reject(session, handoff_id, reason=reason, note=note, rep=acting, now=now)


def tell_feedback_story(runtime: Runtime, folder: Path) -> FeedbackStory:
    sync_sales_team(runtime, folder, at(12, 1, 2025))
    sync_fixture_campaigns(runtime, now=at(12, 1, 2025))
    us = [add_account(runtime, f"us{i}.example", country="US", employees=300) for i in (1, 2, 4)]
    de = [add_account(runtime, f"de{i}.example", country="DE", employees=300) for i in (3, 5)]
    leads = {
        "F1": add_lead(runtime, "f1@us1.example", created_at=at(1, 1), source="webinar",
                       account_id=us[0], fit_grade="A"),
        "F2": add_lead(runtime, "f2@us2.example", created_at=at(1, 2), source="ads",
                       account_id=us[1], fit_grade="B"),
        "F3": add_lead(runtime, "f3@de3.example", created_at=at(1, 3), source="ads",
                       account_id=de[0], fit_grade="A"),
        "F4": add_lead(runtime, "f4@us4.example", created_at=at(1, 4), source="webinar",
                       account_id=us[2], fit_grade="A"),
        "F5": add_lead(runtime, "f5@de5.example", created_at=at(1, 5), source="partner",
                       account_id=de[1], fit_grade="C"),
    }  # fmt: skip
    enrol(runtime, leads["F1"], "test-drip", now=at(1, 1))
    enrol(runtime, leads["F2"], "test-drip", now=at(1, 2))

    handoffs = {"F1": offer(runtime, leads["F1"], at(1, 5), 2)}
    answer(runtime, handoffs["F1"], ANN, at(1, 5, minute=30))
    handoffs["F2"] = offer(runtime, leads["F2"], at(1, 10), 2)
    answer(runtime, handoffs["F2"], ANN, at(1, 12), "no-budget", NOTES["F2"])
    handoffs["F5"] = offer(runtime, leads["F5"], at(1, 20), 2)
    answer(runtime, handoffs["F5"], BEN, at(1, 21), "bad-timing", NOTES["F5"])
    handoffs["F3"] = offer(runtime, leads["F3"], at(2, 2), 3)
    answer(runtime, handoffs["F3"], BEN, at(2, 3), "bad-timing", NOTES["F3"])
    handoffs["F4"] = offer(runtime, leads["F4"], at(2, 10), None)
    handoffs["F2 again"] = offer(runtime, leads["F2"], at(2, 21), 3)
    answer(runtime, handoffs["F2 again"], ANN, at(2, 22))
    with transaction(runtime.sessions) as session:
        erase_lead(
            session, "f5@de5.example", now=at(3, 1), actor="test",
            instance_path=runtime.settings.instance_path,
        )  # fmt: skip
    return FeedbackStory(leads, handoffs)
