"""Helpers for handoff tests: a team file, an account with people, events, and qualifying."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from nurture.handoff import Qualification, hand_off
from nurture.handoff.team_sync import sync_team
from nurture.models import Account, Event, Handoff, Lead, Message, SalesRep
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime

PROJECT = Path(__file__).resolve().parents[2]
BUNDLED_TEAM = PROJECT / "campaigns" / "sales-team.yaml"

TEAM = """\
name: Test team
manager_email: boss@sales.example
contact: {{ name: Test Sales, email: sales@sales.example }}
regions:
  emea: [DE, FR, GB]
segments:
  - {{ id: enterprise, min_employees: 1000 }}
  - {{ id: smb }}
reps:
{reps}
assignment:
  rules:
{rules}
  fallback: {fallback}
"""


def rep_yaml(
    name: str,
    email: str,
    *,
    territories: str = "[US]",
    segments: str = "[enterprise, smb]",
    capacity: int | None = None,
    out_of_office: str | None = None,
    active: bool = True,
    timezone: str = "UTC",
    hours: str = "mon-sun 00:00-24:00",
) -> str:
    lines = [
        f"  - name: {name}",
        f"    email: {email}",
        f"    timezone: {timezone}",
        f"    working_hours: {hours}",
        f"    territories: {territories}",
        f"    segments: {segments}",
        f"    active: {'true' if active else 'false'}",
    ]
    if capacity is not None:
        lines.append(f"    capacity: {capacity}")
    if out_of_office is not None:
        lines.append(f"    out_of_office: {out_of_office}")
    return "\n".join(lines)


def write_team(
    path: Path,
    reps: list[str],
    rules: str = "    - { id: territory, match: [territory] }",
    fallback: str = "round-robin",
) -> Path:
    path.write_text(TEAM.format(reps="\n".join(reps), rules=rules, fallback=fallback))
    return path


def sync_team_file(runtime: Runtime, path: Path, now: datetime):
    with transaction(runtime.sessions) as session:
        report = sync_team(session, path, now=now)
    assert report.ok, str(report)
    return report


def add_account(runtime: Runtime, domain: str, **fields) -> int:
    with transaction(runtime.sessions) as session:
        account = Account(
            domain=domain, name=fields.pop("name", domain.split(".")[0].title()), **fields
        )
        session.add(account)
        session.flush()
        return account.id


def add_event(runtime: Runtime, lead_id: int, kind: str, at: datetime, **properties) -> int:
    machine = properties.pop("is_machine", False)
    message_id = properties.pop("message_id", None)
    with transaction(runtime.sessions) as session:
        event = Event(
            lead_id=lead_id,
            type=kind,
            occurred_at=at,
            recorded_at=at,
            is_machine=machine,
            machine_reasons=["apple mail privacy protection"] if machine else [],
            properties=properties,
            message_id=message_id,
        )
        session.add(event)
        session.flush()
        return event.id


def qualify(
    runtime: Runtime,
    lead_id: int,
    now: datetime,
    rule: str = "engaged-a-fit",
    reasons: tuple[str, ...] = ("score 60 and fit grade A",),
    hand_raiser: bool | None = None,
) -> int:
    with transaction(runtime.sessions) as session:
        lead = session.get(Lead, lead_id)
        handoff = hand_off(
            session, lead, Qualification(rule, reasons, hand_raiser=hand_raiser), now
        )
        return handoff.id


def handoff_row(runtime: Runtime, handoff_id: int) -> Handoff:
    with runtime.sessions() as session:
        return session.get(Handoff, handoff_id)


def lead_row(runtime: Runtime, lead_id: int) -> Lead:
    with runtime.sessions() as session:
        return session.get(Lead, lead_id)


def rep_id(runtime: Runtime, email: str) -> int:
    with runtime.sessions() as session:
        return session.scalar(select(SalesRep.id).where(SalesRep.email == email))


def owner_email(runtime: Runtime, handoff_id: int) -> str | None:
    with runtime.sessions() as session:
        handoff = session.get(Handoff, handoff_id)
        rep = session.get(SalesRep, handoff.rep_id) if handoff.rep_id else None
        return rep.email if rep else None


def handoff_messages(runtime: Runtime, lead_id: int) -> list[Message]:
    with runtime.sessions() as session:
        return list(
            session.scalars(
                select(Message)
                .where(Message.lead_id == lead_id, Message.kind.in_(("handoff", "auto_reply")))
                .order_by(Message.id)
            )
        )


def hours(n: float) -> timedelta:
    return timedelta(hours=n)
