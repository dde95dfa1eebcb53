"""The account view reads each person's newest events, not every event of the account's
people: its latest activity and timeline must be what the straightforward queries over all
those events give (ties, machine hits, emails to the team, old and recent events)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, or_, select

from nurture.handoff.account_view import ACTIVITY_DAYS, ACTIVITY_TYPES, account_view
from nurture.models import Event, Lead, Message
from nurture.platform.db import transaction, utcnow
from nurture.sending.kinds import INTERNAL_KINDS
from tests.integration.engine_support import add_lead
from tests.integration.handoff_support import add_account

TYPES = (*ACTIVITY_TYPES, "email.sent", "email.bounced")


def busy_account(runtime, now: datetime) -> int:
    """An account of 12 people with a random mix of events: most recent ones are emails to
    the team for some people, several people share moments, one has nothing."""
    rng = random.Random(7)
    account = add_account(runtime, "busy.example", name="Busy")
    ids = [add_lead(runtime, f"p{n}@busy.example", account_id=account) for n in range(12)]
    gone_id = add_lead(runtime, "gone@busy.example", account_id=account)
    with transaction(runtime.sessions) as session:
        for n, lead_id in enumerate(ids):
            lead = session.get(Lead, lead_id)
            if n == 11:
                continue  # nobody's events
            note = Message(
                lead_id=lead.id, kind="handoff", template="sales-handoff",
                to_address="rep@sales.example", message_id=f"n{n}@test", token=f"{n:022d}",
                status="sent", subject="New lead",
            )  # fmt: skip
            mail = Message(
                lead_id=lead.id, kind="campaign", template="welcome",
                to_address=lead.email, message_id=f"m{n}@test", token=f"m{n:021d}",
                status="sent", subject=f"Welcome {n}",
            )  # fmt: skip
            session.add_all([note, mail])
            session.flush()
            for k in range(rng.randint(1, 25)):
                shared = rng.random() < 0.2  # the same moment as other people's events
                at = now - timedelta(hours=6 * (k % 4) if shared else rng.randint(0, 24 * 200))
                internal = n % 3 == 0 and k < 6  # the newest ones: emails to the team
                session.add(
                    Event(
                        lead_id=lead.id,
                        type=rng.choice(TYPES),
                        occurred_at=now - timedelta(minutes=k) if internal else at,
                        recorded_at=at,
                        is_machine=rng.random() < 0.3,
                        machine_reasons=[],
                        properties={"url": f"https://busy.example/{k}"},
                        message_id=note.id if internal else (mail.id if k % 2 else None),
                    )
                )
        # An erased person's events are nobody's activity on the account.
        gone = session.get(Lead, gone_id)
        gone.erased_at = now
        session.add(
            Event(
                lead_id=gone.id, type="page.viewed", occurred_at=now, recorded_at=now,
                is_machine=False, machine_reasons=[], properties={},
            )
        )  # fmt: skip
    return account


def straightforward(session, account_id: int, now: datetime, limit: int) -> dict[str, Any]:
    """The latest activity and the timeline over all the people's events at once."""
    ids = list(
        session.scalars(
            select(Lead.id).where(Lead.account_id == account_id, Lead.erased_at.is_(None))
        )
    )
    seen = dict(
        session.execute(
            select(Event.lead_id, func.max(Event.occurred_at))
            .where(
                Event.lead_id.in_(ids),
                Event.is_machine.is_(False),
                Event.occurred_at >= now - timedelta(days=ACTIVITY_DAYS),
                Event.type.in_(ACTIVITY_TYPES),
            )
            .group_by(Event.lead_id)
        ).all()
    )
    events = session.execute(
        select(Event.occurred_at, Lead.email, Event.type, Event.is_machine)
        .join(Lead, Lead.id == Event.lead_id)
        .outerjoin(Message, Message.id == Event.message_id)
        .where(
            Event.lead_id.in_(ids),
            or_(Message.kind.is_(None), Message.kind.not_in(INTERNAL_KINDS)),
        )
        .order_by(Event.occurred_at.desc(), Event.id.desc())
        .limit(limit)
    ).all()
    return {
        "seen": seen,
        "events": [
            (at.isoformat().replace("+00:00", "Z"), email, kind, not machine)
            for at, email, kind, machine in events
        ],
    }


@pytest.mark.parametrize("limit", [1, 3, 5, 8, 30, 500])
def test_latest_activity_and_timeline_match_reading_every_event(runtime, limit):
    now = utcnow()
    account = busy_account(runtime, now)
    with transaction(runtime.sessions) as session:
        expected = straightforward(session, account, now, limit)
        view = account_view(session, str(account), now, timeline=limit)
        assert view is not None
        seen = {p.lead_id: p.last_activity for p in view.people if p.last_activity}
        assert seen == expected["seen"]
        assert len(view.people) == 12
        got = [
            (entry["at"], entry["lead"], entry["type"], entry["human"]) for entry in view.timeline
        ]
        assert got == expected["events"]
        assert all(entry["detail"] != "New lead" for entry in view.timeline)
        assert len(view.timeline) == min(limit, len(expected["events"]))
