"""The campaign results' story (docs/analytics.md, "Email and campaign results"): every
figure the tests expect is counted by hand from the table below.

Two campaigns, loaded through the real sync: ``alpha`` (version 1 on 2025-12-01, version 2
on 2026-02-01: its follow-up's template changes) with the goal ``demo.requested``, and
``beta``, whose exit step ``won`` is marked ``goal: true``. Messages and their events are
recorded as the engine and the hit processor record them; the engagement columns are then
computed from the events by ``refresh_engagement``, as the processor does.

==== ======= ======= ================ ========== =============================================
msg  to      camp/v  step (template)  sent       what happened
==== ======= ======= ================ ========== =============================================
M1   P1      alpha 1 welcome          Jan 10     human open Jan 11, human clicks Jan 11, Jan 12
M2   P2      alpha 1 welcome          Jan 10     machine open Jan 10 (Apple MPP) only
M3   P3      alpha 1 welcome          Jan 12     hard bounce Jan 12 (P3 reaches the goal Jan 20:
                                                 no delivered email, no conversion)
M4   P1      alpha 1 followup (cold)  Jan 14     scanner click Jan 14, human open Jan 15,
                                                 unsubscribe Jan 16
M5   P4      alpha 2 welcome          Feb 05     soft bounce Feb 05
M6   P5      alpha 2 welcome          Feb 06     human open and click Feb 07, complaint Feb 08
M7   P6      alpha 2 followup (warm)  Feb 10     human open Feb 11; P6 reaches alpha's goal Feb 12
M8   P2      beta 1  hello            Jan 20     human open and click Jan 21; P2 exits at beta's
                                                 goal step ``won`` Jan 22
M9   P6      alpha 1 welcome          2025-12-20 human open Jan 02 (sent before the period)
M10  rep     -       (handoff)        Jan 15     a handoff notification about P1: no campaign
==== ======= ======= ================ ========== =============================================

P1 and P2 came from ``webinar``, the others from ``ads``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from nurture.models import Campaign, CampaignVersion, Enrollment, Event, Message
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime
from nurture.tracking import refresh_engagement
from tests.integration.engine_support import add_lead, sync_fixture_campaigns

ALPHA_V1 = """\
id: alpha
name: Alpha
entry:
  triggers:
    - lead_created
  audience:
    stage: [subscriber, lead, recycled]
  manual: true
goal: { event: demo.requested }
tracks:
  main:
    steps:
      - id: welcome
        send: welcome-guide
      - id: pause
        wait: 3d
      - id: followup
        send: cold-five-mistakes
"""
ALPHA_V2 = ALPHA_V1.replace("send: cold-five-mistakes", "send: warm-case-study")
BETA = """\
id: beta
name: Beta
entry:
  triggers:
    - lead_created
  audience:
    stage: [subscriber, lead, recycled]
  manual: true
tracks:
  main:
    steps:
      - id: hello
        send: welcome-guide
      - id: pause
        wait: 1d
      - id: won
        exit: { reason: signed up, goal: true }
"""


def at(month: int, day: int, year: int = 2026, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@dataclass(frozen=True)
class Story:
    campaigns: dict[str, int]
    leads: dict[str, int]
    messages: dict[str, int]


def tell_story(runtime: Runtime, folder: Path) -> Story:
    campaigns_folder = folder / "campaigns"
    campaigns_folder.mkdir()
    (campaigns_folder / "alpha.yaml").write_text(ALPHA_V1)
    (campaigns_folder / "beta.yaml").write_text(BETA)
    sync_fixture_campaigns(runtime, campaigns_folder, now=at(12, 1, 2025))
    (campaigns_folder / "alpha.yaml").write_text(ALPHA_V2)
    sync_fixture_campaigns(runtime, campaigns_folder, now=at(2, 1))

    leads = {
        name: add_lead(
            runtime,
            f"{name.lower()}@example.com",
            created_at=at(12, 1, 2025),
            source="webinar" if name in ("P1", "P2") else "ads",
        )
        for name in ("P1", "P2", "P3", "P4", "P5", "P6")
    }
    messages: dict[str, int] = {}
    with transaction(runtime.sessions) as session:
        ids = {key: cid for cid, key in session.execute(select(Campaign.id, Campaign.key))}
        versions = {
            (key, number): vid
            for vid, key, number in session.execute(
                select(CampaignVersion.id, Campaign.key, CampaignVersion.number).join(
                    Campaign, Campaign.id == CampaignVersion.campaign_id
                )
            )
        }

        def enrolment(lead: str, campaign: str, version: int, **fields: object) -> int:
            row = Enrollment(
                lead_id=leads[lead],
                campaign_id=ids[campaign],
                version_id=versions[(campaign, version)],
                enrolled_at=at(12, 19, 2025),
                track="main",
                **fields,
            )
            session.add(row)
            session.flush()
            return row.id

        enrolments = {
            "P1": enrolment(
                "P1", "alpha", 1, status="exited", step="followup", finished_at=at(1, 16),
                exit_reason="unsubscribed",
            ),
            "P2": enrolment("P2", "alpha", 1, status="active", step="pause"),
            "P3": enrolment(
                "P3", "alpha", 1, status="completed", step="welcome", finished_at=at(1, 20),
                exit_reason="goal reached",
            ),
            "P4": enrolment("P4", "alpha", 2, status="active", step="pause"),
            "P5": enrolment("P5", "alpha", 2, status="active", step="pause"),
            "P6": enrolment(
                "P6", "alpha", 2, status="completed", step="followup", finished_at=at(2, 12),
                exit_reason="goal reached",
            ),
            "P2-beta": enrolment(
                "P2", "beta", 1, status="completed", step="won", finished_at=at(1, 22),
                exit_reason="signed up",
            ),
        }  # fmt: skip

        def message(
            name: str,
            lead: str,
            campaign: str | None,
            version: int | None,
            step: str | None,
            template: str,
            sent_at: datetime,
            **fields: object,
        ) -> None:
            row = Message(
                lead_id=leads[lead],
                campaign_id=ids[campaign] if campaign else None,
                campaign_version_id=versions[(campaign, version)] if campaign else None,
                enrollment_id=(enrolments["P2-beta" if campaign == "beta" else lead])
                if campaign
                else None,
                step_key=f"main/{step}" if step else None,
                kind="campaign" if campaign else "handoff",
                template=template,
                to_address=f"{lead.lower()}@example.com" if campaign else "ann@sales.example",
                message_id=f"{name}@nurture.test",
                token=f"token-{name}",
                status="sent",
                queued_at=sent_at,
                sent_at=sent_at,
                **fields,
            )
            session.add(row)
            session.flush()
            messages[name] = row.id

        message("M1", "P1", "alpha", 1, "welcome", "welcome-guide", at(1, 10))
        message("M2", "P2", "alpha", 1, "welcome", "welcome-guide", at(1, 10))
        message(
            "M3", "P3", "alpha", 1, "welcome", "welcome-guide", at(1, 12),
            bounced_at=at(1, 12), bounce_status="5.1.1", bounce_decision="suppress",
        )  # fmt: skip
        message("M4", "P1", "alpha", 1, "followup", "cold-five-mistakes", at(1, 14))
        message(
            "M5", "P4", "alpha", 2, "welcome", "welcome-guide", at(2, 5),
            bounced_at=at(2, 5), bounce_status="4.2.2", bounce_decision="retry",
        )  # fmt: skip
        message("M6", "P5", "alpha", 2, "welcome", "welcome-guide", at(2, 6))
        message("M7", "P6", "alpha", 2, "followup", "warm-case-study", at(2, 10))
        message("M8", "P2", "beta", 1, "hello", "welcome-guide", at(1, 20))
        message("M9", "P6", "alpha", 1, "welcome", "welcome-guide", at(12, 20, 2025))
        message("M10", "P1", None, None, None, "handoff-notification", at(1, 15))

        def event(name: str, kind: str, when: datetime, *, machine: str | None = None) -> None:
            row = session.get(Message, messages[name])
            assert row is not None
            session.add(
                Event(
                    lead_id=row.lead_id,
                    type=kind,
                    message_id=row.id,
                    campaign_id=row.campaign_id,
                    step_key=row.step_key,
                    occurred_at=when,
                    recorded_at=when,
                    is_machine=machine is not None,
                    machine_reasons=[machine] if machine else [],
                )
            )

        event("M1", "email.opened", at(1, 11))
        event("M1", "email.clicked", at(1, 11, hour=10))
        event("M1", "email.clicked", at(1, 12))
        event("M2", "email.opened", at(1, 10, hour=10), machine="apple_mpp")
        event("M3", "email.bounced", at(1, 12, hour=10))
        event("M4", "email.clicked", at(1, 14, hour=10), machine="scanner")
        event("M4", "email.opened", at(1, 15))
        event("M4", "email.unsubscribed", at(1, 16))
        event("M5", "email.bounced", at(2, 5, hour=10))
        event("M6", "email.opened", at(2, 7))
        event("M6", "email.clicked", at(2, 7, hour=10))
        event("M6", "email.complained", at(2, 8))
        event("M7", "email.opened", at(2, 11))
        event("M8", "email.opened", at(1, 21))
        event("M8", "email.clicked", at(1, 21, hour=10))
        event("M9", "email.opened", at(1, 2))
        session.flush()
        refresh_engagement(session, messages.values())
    return Story(ids, leads, messages)
