"""The campaign results' roll-up (``nurture.analytics.email_rollup``) recomputed from
``messages`` alone: the check that it is exact, and its rebuild for an operator (``nurture
db rebuild-rollups``) and a bulk load that bypassed the triggers.

The tables equal the recomputation once the worker's pass has emptied the queue
(``email_rollup_queue``); a lead still queued differs until then, by design."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, case, cast, delete, func, insert, literal, select, text
from sqlalchemy.orm import Session

from nurture.analytics.email_rollup import (
    CHAIN_KEY,
    CHAINS,
    COLUMNS,
    DAY_KEY,
    GROUP_DAY_KEY,
    HARD_BOUNCE_DECISION,
    ROLLUP_LOCK,
    SUMS,
    counted,
)
from nurture.analytics.lead_groups import GROUP_KINDS, grouped_leads, mark_ready
from nurture.analytics.rollup import refill, rows_differing
from nurture.analytics.scope import AnySelect, day_number
from nurture.handoff.team import Team
from nurture.handoff.team_sync import active_team
from nurture.models import (
    CampaignEmailDay,
    CampaignGroupDay,
    CampaignRecipientDay,
    EmailRollupQueue,
    Message,
    RolledUpEmail,
    RolledUpLead,
)
from nurture.platform.db import serialize

# What ``rolled_up_leads`` holds of a lead.
LEAD_COLUMNS: tuple[str, ...] = ("lead_id", *GROUP_KINDS)


@dataclass(frozen=True)
class Rebuild:
    """What ``rebuild_email_rollup`` found: per table, the rows it wrote, and how many rows
    differed from the recomputation before (0 everywhere when it was right)."""

    rows: dict[str, int]
    differed: dict[str, int]


def _flag(condition: Any) -> Any:
    return case((condition, 1), else_=0)


def _base() -> Any:
    """Each counted message as it counts (``COLUMNS``)."""
    bounced = Message.bounce_reported_at.is_not(None)
    hard = bounced & (func.coalesce(Message.bounce_decision, "") == HARD_BOUNCE_DECISION)
    return (
        select(
            Message.id.label("message_id"),
            Message.lead_id,
            Message.campaign_id,
            func.coalesce(Message.campaign_version_id, 0).label("version_id"),
            func.coalesce(Message.step_key, "").label("step_key"),
            Message.template,
            day_number(Message.sent_at).label("day"),
            _flag(~bounced).label("delivered"),
            _flag(hard).label("hard_bounced"),
            _flag(bounced & ~hard).label("soft_bounced"),
            _flag(Message.opened_at.is_not(None)).label("opened"),
            _flag(Message.machine_opened_at.is_not(None)).label("machine_opened"),
            _flag(Message.clicked_at.is_not(None)).label("clicked"),
            func.coalesce(Message.human_clicks, 0).label("clicks"),
            _flag(Message.machine_clicked_at.is_not(None)).label("machine_clicked"),
            _flag(Message.unsubscribed_at.is_not(None)).label("unsubscribed"),
            _flag(Message.complained_at.is_not(None)).label("complained"),
        )
        .where(counted())
        .subquery("counted")
    )


def recomputed_emails() -> AnySelect:
    """``rolled_up_emails`` computed from ``messages`` (``COLUMNS``)."""
    base = _base()
    return select(*(base.c[name] for name in COLUMNS))


def recomputed_email_days() -> AnySelect:
    """``campaign_email_days`` computed from ``messages`` (``DAY_KEY``, ``SUMS``)."""
    base = _base()
    keys = [base.c[name] for name in DAY_KEY]
    sums = [func.count().label("sent")] + [func.sum(base.c[name]).label(name) for name in SUMS[1:]]
    return select(*keys, *sums).group_by(*keys)


def _grouped(team: Team | None) -> Any:
    """``_base`` with each email's lead's groups (``GROUP_KINDS``)."""
    base = _base()
    groups = grouped_leads(team)
    return (
        select(base, *(groups.c[kind] for kind in GROUP_KINDS))
        .join(groups, groups.c.lead_id == base.c.lead_id)
        .subquery("grouped")
    )


def recomputed_leads(team: Team | None) -> AnySelect:
    """``rolled_up_leads`` computed from ``leads`` (those with counted emails)."""
    groups = grouped_leads(team)
    emailed = select(_base().c.lead_id)
    return select(*(groups.c[name] for name in LEAD_COLUMNS)).where(groups.c.lead_id.in_(emailed))


def recomputed_group_days(team: Team | None) -> AnySelect:
    """``campaign_group_days`` computed from ``messages`` and the leads' groups
    (``GROUP_DAY_KEY``, ``SUMS``)."""
    grouped = _grouped(team)
    parts = []
    for kind in GROUP_KINDS:
        keys = [grouped.c[kind], grouped.c.campaign_id, grouped.c.day]
        sums = [func.count()] + [func.sum(grouped.c[name]) for name in SUMS[1:]]
        parts.append(select(literal(kind), *keys, *sums).group_by(*keys))
    first, *rest = parts
    every = first.union_all(*rest).subquery("group_days")
    return select(*(column.label(name) for column, name in
                    zip(every.c, (*GROUP_DAY_KEY, *SUMS), strict=True)))  # fmt: skip


def recomputed_recipient_days(team: Team | None, *, kinds: tuple[str, ...] = CHAINS) -> AnySelect:
    """``campaign_recipient_days`` computed from ``messages`` (``CHAIN_KEY``,
    ``recipients``): per chain (of ``kinds``), each lead's distinct delivered days in each
    group with the one before."""
    base = _grouped(team)
    groups: dict[str, tuple[Any, Any]] = {
        "all": (literal(0), literal("")),
        "campaign": (base.c.campaign_id, literal("")),
        "step": (base.c.campaign_id, base.c.step_key),
        "template": (base.c.campaign_id, base.c.template),
        "version": (base.c.campaign_id, cast(base.c.version_id, String)),
        **{kind: (base.c.campaign_id, base.c[kind]) for kind in GROUP_KINDS},
    }
    parts = []
    for chain in kinds:
        campaign, group = groups[chain]
        days = (
            select(
                base.c.lead_id, campaign.label("campaign_id"), group.label("group_key"), base.c.day
            )
            .where(base.c.delivered == 1)
            .distinct()
            .subquery(f"days_{chain}")
        )
        previous = func.lag(days.c.day).over(
            partition_by=(days.c.lead_id, days.c.campaign_id, days.c.group_key),
            order_by=days.c.day,
        )
        chained = select(
            days.c.campaign_id, days.c.group_key, days.c.day,
            func.coalesce(previous, 0).label("prev_day"),
        ).subquery(f"chained_{chain}")  # fmt: skip
        keys = [chained.c.campaign_id, chained.c.group_key, chained.c.day, chained.c.prev_day]
        parts.append(
            select(literal(chain).label("chain"), *keys, func.count().label("recipients"))
            .group_by(*keys)
        )  # fmt: skip
    first, *rest = parts
    # One query over the union (SQLite takes no compound query in parentheses).
    every = first.union_all(*rest).subquery("recipient_days")
    return select(*(every.c[name] for name in (*CHAIN_KEY, "recipients")))


def _stored(model: Any, names: tuple[str, ...]) -> AnySelect:
    return select(*(model.__table__.c[name] for name in names))


def _pairs(team: Team | None) -> dict[str, tuple[Any, AnySelect, AnySelect, tuple[str, ...]]]:
    """Per table: its model, stored rows, recomputed rows, columns."""
    days = (*DAY_KEY, *SUMS)
    group_days = (*GROUP_DAY_KEY, *SUMS)
    recipients = (*CHAIN_KEY, "recipients")
    return {
        "rolled_up_emails": (
            RolledUpEmail, _stored(RolledUpEmail, COLUMNS), recomputed_emails(), COLUMNS,
        ),
        "rolled_up_leads": (
            RolledUpLead, _stored(RolledUpLead, LEAD_COLUMNS), recomputed_leads(team),
            LEAD_COLUMNS,
        ),
        "campaign_email_days": (
            CampaignEmailDay, _stored(CampaignEmailDay, days), recomputed_email_days(), days,
        ),
        "campaign_group_days": (
            CampaignGroupDay, _stored(CampaignGroupDay, group_days),
            recomputed_group_days(team), group_days,
        ),
        "campaign_recipient_days": (
            CampaignRecipientDay, _stored(CampaignRecipientDay, recipients),
            recomputed_recipient_days(team), recipients,
        ),
    }  # fmt: skip


def count_differences(session: Session) -> dict[str, int]:
    """Per table, how many rows it and the recomputation (with the active sales team's
    segments) do not share (a row missing on either side, or the same key with other
    figures, counts on each side)."""
    found: dict[str, int] = {}
    for name, (_, stored, recomputed, _) in _pairs(active_team(session)).items():
        found[name] = rows_differing(session, stored, recomputed)
    return found


def queued_leads(session: Session) -> int:
    """How many leads wait in the queue (the roll-up differs from the messages there)."""
    leads = select(EmailRollupQueue.lead_id).distinct().subquery()
    return session.scalar(select(func.count()).select_from(leads)) or 0


def rebuild_email_rollup(session: Session) -> Rebuild:
    """Recompute the tables from ``messages`` and ``leads`` in the caller's transaction,
    with the active sales team's segments (idempotent: a second rebuild writes the same
    rows and finds no difference). The queue is left as it is: its leads, rolled up again
    by the next pass, change nothing."""
    serialize(session, ROLLUP_LOCK)
    team = active_team(session)
    differed = count_differences(session)
    rows: dict[str, int] = {}
    for name, (model, _, recomputed, columns) in _pairs(team).items():
        rows[name] = refill(session, model, columns, recomputed)
    mark_ready(session, team)
    return Rebuild(rows=rows, differed=differed)


def rebuild_lead_groups(session: Session, team: Team | None) -> None:
    """Recompute what the roll-up holds by lead group (``rolled_up_leads``,
    ``campaign_group_days``, the groups' chains of ``campaign_recipient_days``) with
    ``team``'s segments, in the caller's transaction (which holds the roll-up's lock)."""
    chains = CampaignRecipientDay.chain.in_(GROUP_KINDS)
    parts: tuple[tuple[Any, Any, tuple[str, ...], AnySelect], ...] = (
        (RolledUpLead, None, LEAD_COLUMNS, recomputed_leads(team)),
        (CampaignGroupDay, None, (*GROUP_DAY_KEY, *SUMS), recomputed_group_days(team)),
        (CampaignRecipientDay, chains, (*CHAIN_KEY, "recipients"),
         recomputed_recipient_days(team, kinds=GROUP_KINDS)),
    )  # fmt: skip
    for model, where, columns, recomputed in parts:
        emptied = delete(model) if where is None else delete(model).where(where)
        session.execute(emptied)
        session.execute(insert(model.__table__).from_select(list(columns), recomputed))
    if session.get_bind().dialect.name == "postgresql":
        # The pass reads a lead's rows by key: planned from statistics, not a guess.
        session.execute(text("ANALYZE rolled_up_leads, campaign_group_days"))
    mark_ready(session, team)
