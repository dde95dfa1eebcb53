"""Revenue's story (docs/analytics.md, "Revenue and CLV" and "Attribution"): five won
deals, revenue entries, touches human and machine, so every figure the tests expect is
counted by hand from here. The team file's currency is EUR; times are 09:00 UTC, 2026.

==== ============= ========== ======= ============================================ =========
lead account        created   source  touches (human unless said)                   won
==== ============= ========== ======= ============================================ =========
P1   alpha (300)   Jan 05     webinar Jan 10 click test-drip (t/s1); Jan 12 machine Feb 10
                                      click webinar-invite; Jan 20 page ?utm_source= 1000 EUR
                                      newsletter; Feb 01 click webinar-invite (t/s2)
P2   beta (5000)   Feb 01     -       Feb 03 click test-drip; Feb 05 machine click   Mar 02
                                      webinar-invite; Feb 08 click webinar-invite    600 EUR
P3   -             Feb 10     -       none                                          Mar 10
                                                                                     333.33 EUR
P4   gamma (50)    Jan 15     ads     none (its source only)                         Mar 15
                                                                                     500 USD
P5   delta (2000)  Jan 02     partner Jan 03 page ?utm_source=linkedin; erased Mar 20 Jan 25
                                      (the lead kept as a tombstone, its deal kept)  200 EUR
==== ============= ========== ======= ============================================ =========

Revenue entries: alpha 1200.00 EUR renewal Mar 01 (P1) and 300.00 EUR upsell Mar 20, and
999.00 EUR on Apr 10 (after the period of the tests); beta 100.00 GBP renewal Mar 05;
epsilon (an account without a deal won in Nurture) 50.00 EUR on Feb 15.

P5's erasure is written as erasure keeps a won deal (the lead a tombstone, its handoff
with outcome and value, its events without their properties): ``mark_erased``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import update

from nurture.handoff import convert
from nurture.handoff.revenue import add_revenue
from nurture.models import Account, Campaign, Event, Lead
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime
from tests.integration.engine_support import add_lead, enrol, sync_fixture_campaigns
from tests.integration.handoff_support import (
    add_account,
    qualify,
    rep_yaml,
    sync_team_file,
    write_team,
)

PERIOD = {"start": "2026-01-01", "end": "2026-04-01"}


def at(month: int, day: int, year: int = 2026, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@dataclass(frozen=True)
class RevenueStory:
    leads: dict[str, int]
    deals: dict[str, int]
    accounts: dict[str, int]


def touch(
    runtime: Runtime,
    lead_id: int,
    kind: str,
    when: datetime,
    *,
    campaign: str | None = None,
    step: str | None = None,
    url: str | None = None,
    machine: bool = False,
) -> None:
    with transaction(runtime.sessions) as session:
        campaign_id = None
        if campaign is not None:
            found = session.query(Campaign).filter_by(key=campaign).one()
            campaign_id = found.id
        session.add(
            Event(
                lead_id=lead_id,
                type=kind,
                occurred_at=when,
                recorded_at=when,
                campaign_id=campaign_id,
                step_key=step,
                is_machine=machine,
                machine_reasons=["scanner"] if machine else [],
                properties={"url": url} if url else {},
            )
        )


def won(runtime: Runtime, lead_id: int, when: datetime, value: str, currency: str) -> int:
    handoff_id = qualify(runtime, lead_id, at(when.month, max(when.day - 1, 1)))
    with transaction(runtime.sessions) as session:
        convert(session, handoff_id, outcome="won", value=value, currency=currency, now=when)
    return handoff_id


def book(runtime: Runtime, account_id: int, amount: str, currency: str, on: str, **extra) -> int:
    with transaction(runtime.sessions) as session:
        account = session.get(Account, account_id)
        assert account is not None
        entry = add_revenue(
            session,
            account,
            amount=amount,
            currency=currency,
            booked_on=on,
            who="test",
            now=at(12, 1),
            **extra,
        )
        return entry.id


def mark_erased(runtime: Runtime, lead_id: int, when: datetime) -> None:
    """The lead as erasure leaves it once handoffs are kept: no identity, no source, its
    events without their properties; its won deal untouched."""
    with transaction(runtime.sessions) as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None
        lead.email = f"erased-{lead_id}@erased.invalid"
        lead.first_name = lead.last_name = lead.source = None
        lead.erased_at = when
        session.execute(update(Event).where(Event.lead_id == lead_id).values(properties={}))


def tell_revenue_story(runtime: Runtime, folder: Path) -> RevenueStory:
    team = write_team(
        folder / "sales-team.yaml",
        [
            rep_yaml("Ann Archer", "ann@sales.example", territories="[US]"),
            rep_yaml("Ben Becker", "ben@sales.example", territories="[DE]"),
        ],
    )
    team.write_text(team.read_text() + "currency: EUR\n")
    sync_team_file(runtime, team, at(12, 1, 2025))
    sync_fixture_campaigns(runtime, now=at(12, 1, 2025))
    with transaction(runtime.sessions) as session:
        session.add(Campaign(key="webinar-invite", name="Webinar invite"))
    accounts = {
        "alpha": add_account(runtime, "alpha.example", country="US", employees=300),
        "beta": add_account(runtime, "beta.example", country="US", employees=5000),
        "gamma": add_account(runtime, "gamma.example", country="DE", employees=50),
        "delta": add_account(runtime, "delta.example", country="DE", employees=2000),
        "epsilon": add_account(runtime, "epsilon.example", country="US"),
    }
    leads = {
        "P1": add_lead(runtime, "p1@alpha.example", created_at=at(1, 5), source="webinar",
                       account_id=accounts["alpha"], fit_grade="A"),
        "P2": add_lead(runtime, "p2@beta.example", created_at=at(2, 1),
                       account_id=accounts["beta"], fit_grade="B"),
        "P3": add_lead(runtime, "p3@solo.example", created_at=at(2, 10), fit_grade="A"),
        "P4": add_lead(runtime, "p4@gamma.example", created_at=at(1, 15), source="ads",
                       account_id=accounts["gamma"], fit_grade="C"),
        "P5": add_lead(runtime, "p5@delta.example", created_at=at(1, 2), source="partner",
                       account_id=accounts["delta"], fit_grade="A"),
    }  # fmt: skip
    enrol(runtime, leads["P1"], "test-drip", now=at(1, 5))
    p1, p2 = leads["P1"], leads["P2"]
    touch(runtime, p1, "email.clicked", at(1, 10), campaign="test-drip", step="t/s1")
    touch(runtime, p1, "email.clicked", at(1, 12), campaign="webinar-invite", machine=True)
    touch(runtime, p1, "page.viewed", at(1, 20), url="https://x.example/p?utm_source=newsletter")
    touch(runtime, p1, "email.clicked", at(2, 1), campaign="webinar-invite", step="t/s2")
    touch(runtime, p2, "email.clicked", at(2, 3), campaign="test-drip", step="t/s1")
    touch(runtime, p2, "email.clicked", at(2, 5), campaign="webinar-invite", machine=True)
    touch(runtime, p2, "email.clicked", at(2, 8), campaign="webinar-invite", step="t/s1")
    touch(
        runtime, leads["P5"], "page.viewed", at(1, 3), url="https://x.example/?utm_source=linkedin"
    )
    deals = {
        "P5": won(runtime, leads["P5"], at(1, 25), "200", "EUR"),
        "P1": won(runtime, p1, at(2, 10), "1000", "EUR"),
        "P2": won(runtime, p2, at(3, 2), "600", "EUR"),
        "P3": won(runtime, leads["P3"], at(3, 10), "333.33", "EUR"),
        "P4": won(runtime, leads["P4"], at(3, 15), "500", "USD"),
    }
    mark_erased(runtime, leads["P5"], at(3, 20))
    book(runtime, accounts["alpha"], "1200", "EUR", "2026-03-01", kind="renewal", lead_ref=p1)
    book(runtime, accounts["alpha"], "300", "EUR", "2026-03-20", kind="upsell")
    book(runtime, accounts["alpha"], "999", "EUR", "2026-04-10", kind="renewal")
    book(runtime, accounts["beta"], "100", "GBP", "2026-03-05", kind="renewal")
    book(runtime, accounts["epsilon"], "50", "EUR", "2026-02-15")
    return RevenueStory(leads, deals, accounts)
