"""Helpers for the sales pages' tests: a team of reps, handoffs made by the engine's own
use case, and the reps' accounts in the web app."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from nurture.models import Handoff, HandoffAction, HandoffSla, Lead
from nurture.platform.runtime import Runtime
from tests.integration.engine_support import add_lead
from tests.integration.handoff_support import (
    add_account,
    qualify,
    rep_yaml,
    sync_team_file,
    write_team,
)

# Ann covers the US, Ben Germany; Carl (US) is inactive, so nothing is routed to him.
ANN, BEN, CARL = "ann@sales.example", "ben@sales.example", "carl@sales.example"
COUNTRY = {ANN: "US", BEN: "DE"}


def sync_sales_team(runtime: Runtime, folder: Path, now: datetime) -> None:
    """The team file of Ann, Ben and (inactive) Carl, synced."""
    reps = [
        rep_yaml("Ann Archer", ANN, territories="[US]"),
        rep_yaml("Ben Becker", BEN, territories="[DE]", timezone="Europe/Berlin"),
        rep_yaml("Carl Cole", CARL, territories="[US]", active=False),
    ]
    sync_team_file(runtime, write_team(folder / "sales-team.yaml", reps), now)


def hand_off_to(
    runtime: Runtime, rep: str, person: str, now: datetime, *, company: str | None = None
) -> int:
    """A lead at a company in ``rep``'s territory, handed off through ``hand_off``;
    returns the handoff's id."""
    local, _, domain = person.partition("@")
    account = add_account(
        runtime, domain, country=COUNTRY[rep], employees=300, name=company or domain
    )
    lead = add_lead(
        runtime, person, account_id=account, first_name=local.title(), last_name="Tester"
    )
    handoff_id = qualify(runtime, lead, now)
    with runtime.sessions() as session:
        handoff = session.get(Handoff, handoff_id)
        assert handoff is not None and handoff.rep_id is not None
    return handoff_id


def handoff(runtime: Runtime, handoff_id: int) -> Handoff:
    with runtime.sessions() as session:
        found = session.get(Handoff, handoff_id)
        assert found is not None
        return found


def lead_of(runtime: Runtime, handoff_id: int) -> Lead:
    with runtime.sessions() as session:
        found = session.get(Handoff, handoff_id)
        assert found is not None
        lead = session.get(Lead, found.lead_id)
        assert lead is not None
        return lead


def clock(runtime: Runtime, handoff_id: int) -> HandoffSla | None:
    with runtime.sessions() as session:
        return session.get(HandoffSla, handoff_id)


def log_actions(runtime: Runtime, handoff_id: int) -> list[tuple[str, str]]:
    with runtime.sessions() as session:
        return [
            (entry.action, entry.actor)
            for entry in session.scalars(
                select(HandoffAction)
                .where(HandoffAction.handoff_id == handoff_id)
                .order_by(HandoffAction.id)
            )
        ]
