"""The demo's web app accounts: one person per role, so each view of the app can be tried.

The sales accounts are people of the bundled sales team (a rep and the team's manager), so
their inbox holds the handoffs the simulation made for them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from nurture.auth import users
from nurture.models import Handoff, SalesRep
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime

# Addresses of the people without a place in the sales team file.
OFFICE_DOMAIN = "brightpath.example"


@dataclass(frozen=True)
class DemoLogin:
    """One account of the demo: how to sign in, and what it is for."""

    role: str
    email: str
    name: str


def create_demo_users(runtime: Runtime, *, now: datetime) -> tuple[list[DemoLogin], str]:
    """An account per role, all with one new random password; returns them and it.

    The password is made fresh for every demo, so a demo left running on a shared machine is
    not open to anyone who has read the docs.
    """
    password = "demo-" + secrets.token_urlsafe(12)
    with transaction(runtime.sessions) as session:
        reps = list(
            session.scalars(
                select(SalesRep).where(SalesRep.active, SalesRep.in_team).order_by(SalesRep.id)
            )
        )
        rep = _busiest(session, reps)
        manager = next((r.manager_email for r in reps if r.manager_email), None)
        logins = [
            DemoLogin("admin", f"admin@{OFFICE_DOMAIN}", "Alex Admin"),
            DemoLogin("marketer", f"marketing@{OFFICE_DOMAIN}", "Morgan Marketing"),
            DemoLogin("viewer", f"viewer@{OFFICE_DOMAIN}", "Val Viewer"),
        ]
        if rep is not None:
            logins.append(DemoLogin("sales", rep.email, rep.name))
        if manager is not None:
            # The team file knows the manager by address only: dana.ortiz@… is "Dana Ortiz".
            name = manager.split("@")[0].replace(".", " ").title()
            logins.append(DemoLogin("sales-manager", manager, name))
        for login in logins:
            users.create_user(
                session,
                email=login.email,
                name=login.name,
                role=login.role,
                password=password,
                actor="demo",
                now=now,
            )
    return logins, password


def _busiest(session: Session, reps: list[SalesRep]) -> SalesRep | None:
    # The rep with the most handoffs still waiting (then the most in all) has the fullest
    # inbox to show.
    counts = {
        rep_id: (waiting or 0, total)
        for rep_id, waiting, total in session.execute(
            select(
                Handoff.rep_id,
                func.sum(case((Handoff.status == "offered", 1), else_=0)),
                func.count(),
            ).group_by(Handoff.rep_id)
        )
    }
    return max(reps, key=lambda rep: counts.get(rep.id, (0, 0)), default=None)
