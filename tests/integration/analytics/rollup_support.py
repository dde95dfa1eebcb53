"""The roll-up's story: six leads whose stage histories take every turn the roll-up must
follow, moved by the engine's own use cases (all times 09:00 UTC, 2026).

==== ========== ============ ===============================================================
lead created    how          what happens
==== ========== ============ ===============================================================
R1   Jan 01     CSV import   MQL Jan 05, accepted Jan 06, won Jan 20 (sql and opportunity
                             passed in that instant)
R2   Jan 02     fixture      MQL Jan 03, rejected Jan 04 (recycled), MQL again Feb 01,
                             accepted Feb 02
R3   Jan 03     fixture      an import sets sql Jan 04 (mql and sal skipped), then mql
                             Jan 10 (a move back), then customer Jan 12
R4   Jan 04     fixture      MQL Jan 05, erased Jan 06
R5   Jan 05     CSV import   created at stage customer (no change recorded), an import sets
                             sql Jan 08 (a move back: it enters sql only)
R6   Jan 06     fixture      disqualified Jan 07 (enters no funnel stage)
==== ========== ============ ===============================================================

First times (mql, sal, sql, opportunity, customer), worked out by hand with
``entered_stages``:

- R1: Jan 05, Jan 06, Jan 20, Jan 20, Jan 20;
- R2: Jan 03, Feb 02 (the second MQL is not the first);
- R3: Jan 04, Jan 04, Jan 04 (skipped stages were passed), Jan 12, Jan 12 (the move back
  to mql changes nothing: mql was first reached on Jan 04);
- R4: Jan 05 (kept after the erasure);
- R5: sql Jan 08 only;
- R6: no row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nurture.handoff import accept, convert, reject
from nurture.handoff.reps import find_rep
from nurture.leads.lifecycle import IMPORT_ACTOR, change_stage
from nurture.leads.service import upsert_leads
from nurture.leads.validation import LeadFields
from nurture.models import Lead
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime
from nurture.privacy import erase_lead
from tests.integration.engine_support import add_lead, sync_fixture_campaigns
from tests.integration.handoff_support import add_account, qualify
from tests.integration.sales_support import ANN, sync_sales_team


def change_row(
    lead_id: int, to_stage: str, at: datetime, from_stage: str | None = None
) -> dict[str, Any]:
    """A ``stage_changes`` row's values, for a history written straight into the table."""
    return {
        "lead_id": lead_id,
        "from_stage": from_stage,
        "to_stage": to_stage,
        "at": at,
        "reason": "test",
        "actor": "system",
    }


def at(month: int, day: int, year: int = 2026, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@dataclass(frozen=True)
class RollupStory:
    leads: dict[str, int]


def imported(runtime: Runtime, email: str, now: datetime, stage: str | None = None) -> int:
    """A lead created or updated by the import use case (``upsert_leads``)."""
    with transaction(runtime.sessions) as session:
        (result,) = upsert_leads(
            session, [LeadFields(email=email, stage=stage)], now=now, source="csv"
        )
        return result.lead.id


def crm_sets(runtime: Runtime, lead_id: int, stage: str, now: datetime) -> None:
    """The CRM sets a stage (an import: any stage is allowed)."""
    with transaction(runtime.sessions) as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None
        change_stage(session, lead, stage, reason="CRM", actor=IMPORT_ACTOR, now=now, override=True)


def tell_rollup_story(runtime: Runtime, folder: Path) -> RollupStory:
    sync_sales_team(runtime, folder, at(12, 1, 2025))
    sync_fixture_campaigns(runtime, now=at(12, 1, 2025))
    # Ann's territory: each lead's handoff is hers (R1 joins its domain's account).
    one = add_account(runtime, "one.example", country="US", employees=300)
    two = add_account(runtime, "two.example", country="US", employees=300)
    leads = {
        "R1": imported(runtime, "r1@one.example", at(1, 1)),
        "R2": add_lead(runtime, "r2@two.example", created_at=at(1, 2), account_id=two,
                       fit_grade="A"),
        "R3": add_lead(runtime, "r3@three.example", created_at=at(1, 3), fit_grade="A"),
        "R4": add_lead(runtime, "r4@four.example", created_at=at(1, 4), account_id=one,
                       fit_grade="A"),
        "R5": imported(runtime, "r5@five.example", at(1, 5), stage="customer"),
        "R6": add_lead(runtime, "r6@six.example", created_at=at(1, 6)),
    }  # fmt: skip
    h2 = qualify(runtime, leads["R2"], at(1, 3))
    with transaction(runtime.sessions) as session:
        reject(session, h2, reason="bad-timing", rep=find_rep(session, ANN), now=at(1, 4))
    crm_sets(runtime, leads["R3"], "sql", at(1, 4))
    h1 = qualify(runtime, leads["R1"], at(1, 5))
    qualify(runtime, leads["R4"], at(1, 5))
    with transaction(runtime.sessions) as session:
        accept(session, h1, rep=find_rep(session, ANN), now=at(1, 6))
    with transaction(runtime.sessions) as session:
        erase_lead(
            session, "r4@four.example", now=at(1, 6), actor="test",
            instance_path=runtime.settings.instance_path,
        )  # fmt: skip
    crm_sets(runtime, leads["R6"], "disqualified", at(1, 7))
    imported(runtime, "r5@five.example", at(1, 8), stage="sql")
    crm_sets(runtime, leads["R3"], "mql", at(1, 10))
    crm_sets(runtime, leads["R3"], "customer", at(1, 12))
    with transaction(runtime.sessions) as session:
        convert(session, h1, outcome="won", rep=find_rep(session, ANN), now=at(1, 20))
    h2_again = qualify(runtime, leads["R2"], at(2, 1))
    with transaction(runtime.sessions) as session:
        accept(session, h2_again, rep=find_rep(session, ANN), now=at(2, 2))
    return RollupStory(leads)


def stored_value(value: Any) -> Any:
    """A value of a roll-up row as the ORM reads it: the recomputation's times come back as
    the driver gives them (SQLite's as text), and naive times are UTC."""
    if isinstance(value, str) and value[:1].isdigit():
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def rows(runtime, statement) -> set[tuple[Any, ...]]:  # type: ignore[no-untyped-def]
    """The rows of ``statement`` as a set, their values as ``stored_value`` reads them."""
    with runtime.sessions() as session:
        return {tuple(stored_value(v) for v in row) for row in session.execute(statement)}
