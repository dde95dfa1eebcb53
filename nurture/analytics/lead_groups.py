"""The groups of a lead that the campaign results can be grouped by (docs/analytics.md,
"Filters and groups"): its ``source``, fit ``grade``, ``owner`` (the latest handoff's
rep) and ``segment`` (its account's, in the active sales team file), as they are **now**,
read for the roll-up (``nurture.analytics.email_rollup``) the way ``scope`` reads them for
every report; "" stands for none.

The segments depend on the team file, not only the database: the roll-up records the
segments it computed with (``email_rollup_state``), and its lead groups are rebuilt when
the team's change (``segments_key``).
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.analytics.scope import latest_owners, segment_case
from nurture.handoff.team import Team
from nurture.models import Account, EmailRollupState, Handoff, Lead, SalesRep
from nurture.platform.db import among

# The lead groups, in ``Groups``' order.
GROUP_KINDS: tuple[str, ...] = ("source", "grade", "owner", "segment")
# The one row of ``email_rollup_state``.
STATE_ID = 1
_CHUNK = 500


class Groups(NamedTuple):
    """A lead's groups ("" for none), as ``rolled_up_leads`` holds them."""

    source: str
    grade: str
    owner: str
    segment: str


def segments_key(team: Team | None) -> str:
    """The team's segments as text: equal texts assign every account the same segment."""
    segments = team.segments if team is not None else ()
    return json.dumps([[s.id, s.min_employees, s.max_employees] for s in segments])


def segment_of(team: Team | None, employees: int | None) -> str:
    """The first segment of ``team`` that ``employees`` fits ("" for none), as
    ``scope.segment_case`` decides in SQL."""
    for segment in team.segments if team is not None else ():
        if segment.contains(employees):
            return segment.id
    return ""


def current_groups(session: Session, leads: list[int], team: Team | None) -> dict[int, Groups]:
    """Each of ``leads``' groups as they are now (a lead that no longer exists has none)."""
    found: dict[int, Groups] = {}
    for start in range(0, len(leads), _CHUNK):
        chunk = leads[start : start + _CHUNK]
        # The latest handoff's rep (``scope.latest_owners``), of these leads' handoffs only.
        latest = (
            select(func.max(Handoff.id))
            .where(among(session, Handoff.lead_id, chunk))
            .group_by(Handoff.lead_id)
        )
        owners: dict[int, str] = dict(
            session.execute(
                select(Handoff.lead_id, SalesRep.email)
                .join(SalesRep, SalesRep.id == Handoff.rep_id)
                .where(Handoff.id.in_(latest))
            ).all()
        )
        rows = session.execute(
            select(Lead.id, Lead.source, Lead.fit_grade, Account.employees)
            .outerjoin(Account, Account.id == Lead.account_id)
            .where(among(session, Lead.id, chunk))
        )
        for lead_id, source, grade, employees in rows:
            found[lead_id] = Groups(
                source or "", grade or "", owners.get(lead_id) or "", segment_of(team, employees)
            )
    return found


def groups_ready(session: Session, team: Team | None) -> bool:
    """Whether the roll-up's lead groups were computed with ``team``'s segments."""
    state = session.get(EmailRollupState, STATE_ID)
    return state is not None and state.segments == segments_key(team)


def mark_ready(session: Session, team: Team | None) -> None:
    """Record that the lead groups now follow ``team``'s segments."""
    state = session.get(EmailRollupState, STATE_ID)
    if state is None:
        session.add(EmailRollupState(id=STATE_ID, segments=segments_key(team)))
    else:
        state.segments = segments_key(team)
    session.flush()


def grouped_leads(team: Team | None) -> Any:
    """A derived table of every lead with its groups: ``lead_id``, ``source``, ``grade``,
    ``owner``, ``segment`` ("" for none)."""
    owners = latest_owners()
    return (
        select(
            Lead.id.label("lead_id"),
            func.coalesce(Lead.source, "").label("source"),
            func.coalesce(Lead.fit_grade, "").label("grade"),
            func.coalesce(owners.c.email, "").label("owner"),
            func.coalesce(segment_case(team), "").label("segment"),
        )
        .outerjoin(owners, owners.c.lead_id == Lead.id)
        .outerjoin(Account, Account.id == Lead.account_id)
        .subquery("lead_groups")
    )
