"""The roll-up of the campaign results (docs/analytics.md, "Email and campaign results"):
what the report reads instead of every email of the period.

Three tables (``nurture.models.rollup``), brought up to date **after** the fact by the
worker's roll-up pass (``roll_up_pending``), never in a send or tracking transaction:

- ``rolled_up_emails``: each counted email (kind "campaign", a campaign, sent) with what it
  adds to each figure — the roll-up's own memory of what it holds of that email;
- ``campaign_email_days``: their sums per campaign, version, step, template and UTC day;
- ``campaign_recipient_days``: distinct recipients made additive, per chain (all emails,
  per campaign, step, template, version), group, day and each lead's previous delivered
  day in the group.

What changed is known from ``email_rollup_queue``: a trigger on ``messages`` (migration
9790) appends the lead of every counted message written (sent, its outcomes, deleted) in
the writer's own transaction, one small insert. A pass takes queued leads and rolls each
lead's emails up again: what ``rolled_up_emails`` held of the lead is taken out of the
sums, its emails as they now are put in, and the copy replaced (``lead_changes``). The
sums therefore always equal the copy, and the copy equals the messages of every lead not
in the queue; the report adds the queued leads' changes itself (``campaign_rollup``), so
its figures equal a full recomputation whether or not the pass has run.
``nurture db rebuild-rollups`` recomputes all three from ``messages``
(``email_rollup_rebuild``) and says how many rows differed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, delete, select
from sqlalchemy.orm import Session

from nurture.analytics.lead_groups import GROUP_KINDS, Groups, current_groups
from nurture.analytics.rollup_sums import add_to_sums
from nurture.handoff.team import Team
from nurture.models import (
    CampaignEmailDay,
    CampaignGroupDay,
    CampaignRecipientDay,
    EmailRollupQueue,
    Message,
    RolledUpEmail,
    RolledUpLead,
)
from nurture.models.rollup import EMAIL_FIGURES
from nurture.platform.db import among, bulk_insert, serialize, table_of

# A bounce whose decision was to suppress the address (campaign_results' hard bounce).
HARD_BOUNCE_DECISION = "suppress"
# What each counted email adds, in ``rolled_up_emails`` (``delivered`` is 1 or 0).
FLAGS: tuple[str, ...] = EMAIL_FIGURES
# The sums of ``campaign_email_days`` (``sent`` counts the emails; the rest are FLAGS').
SUMS: tuple[str, ...] = ("sent", *FLAGS[1:])
DAY_KEY: tuple[str, ...] = ("campaign_id", "version_id", "step_key", "template", "day")
GROUP_DAY_KEY: tuple[str, ...] = ("kind", "value", "campaign_id", "day")
CHAIN_KEY: tuple[str, ...] = ("chain", "campaign_id", "group_key", "day", "prev_day")
# The chains of distinct recipients: the emails a lead counts once in (all, or per group).
CHAINS: tuple[str, ...] = ("all", "campaign", "step", "template", "version", *GROUP_KINDS)
# Leads rolled up per statement (bind parameter limits, short lock times).
_CHUNK = 500
# The lock that lets one roll-up pass run at a time (``nurture.platform.db.serialize``);
# a report reading the roll-up holds it shared (``campaign_rollup``).
ROLLUP_LOCK = "email-rollup"


class Email(NamedTuple):
    """One counted email as ``rolled_up_emails`` holds it (its columns, in order)."""

    message_id: int
    lead_id: int
    campaign_id: int
    version_id: int
    step_key: str
    template: str
    day: int
    delivered: int
    hard_bounced: int
    soft_bounced: int
    opened: int
    machine_opened: int
    clicked: int
    clicks: int
    machine_clicked: int
    unsubscribed: int
    complained: int


COLUMNS: tuple[str, ...] = Email._fields


def day_of(when: date) -> int:
    """``when`` as a day number, 20260131 (``scope.day_number`` in SQL)."""
    return when.year * 10000 + when.month * 100 + when.day


def counted() -> Any:
    """SQL: the messages the campaign results count (campaign email, sent)."""
    return and_(
        Message.kind == "campaign", Message.campaign_id.is_not(None), Message.sent_at.is_not(None)
    )


_READ = (
    Message.id,
    Message.lead_id,
    Message.campaign_id,
    Message.campaign_version_id,
    Message.step_key,
    Message.template,
    Message.sent_at,
    Message.bounce_reported_at,
    Message.bounce_decision,
    Message.opened_at,
    Message.machine_opened_at,
    Message.clicked_at,
    Message.human_clicks,
    Message.machine_clicked_at,
    Message.unsubscribed_at,
    Message.complained_at,
)


def _email(row: Any) -> Email:
    """A message read with ``_READ`` as it counts."""
    sent_at: datetime = row.sent_at
    bounced = row.bounce_reported_at is not None
    hard = bounced and (row.bounce_decision or "") == HARD_BOUNCE_DECISION
    return Email(
        message_id=row.id,
        lead_id=row.lead_id,
        campaign_id=row.campaign_id,
        version_id=row.campaign_version_id or 0,
        step_key=row.step_key or "",
        template=row.template,
        day=day_of(sent_at),
        delivered=int(not bounced),
        hard_bounced=int(hard),
        soft_bounced=int(bounced and not hard),
        opened=int(row.opened_at is not None),
        machine_opened=int(row.machine_opened_at is not None),
        clicked=int(row.clicked_at is not None),
        clicks=int(row.human_clicks or 0),
        machine_clicked=int(row.machine_clicked_at is not None),
        unsubscribed=int(row.unsubscribed_at is not None),
        complained=int(row.complained_at is not None),
    )


def chain_keys(email: Email, groups: Groups | None) -> Iterator[tuple[str, int, str]]:
    """The groups of each chain an email belongs to: (chain, campaign id, group key); with
    its lead's ``groups``, those of the lead's groups too."""
    yield "all", 0, ""
    yield "campaign", email.campaign_id, ""
    yield "step", email.campaign_id, email.step_key
    yield "template", email.campaign_id, email.template
    yield "version", email.campaign_id, str(email.version_id)
    if groups is not None:
        for kind, value in zip(GROUP_KINDS, groups, strict=True):
            yield kind, email.campaign_id, value


def recipient_days(
    emails: Iterable[Email], groups: Groups | None = None
) -> Counter[tuple[str, int, str, int, int]]:
    """The rows of ``campaign_recipient_days`` (``CHAIN_KEY`` → 1) of one lead's
    ``emails`` (and its ``groups``): a chain of days is one lead's, never several leads'
    together."""
    days: dict[tuple[str, int, str], set[int]] = defaultdict(set)
    for email in emails:
        if email.delivered:
            for key in chain_keys(email, groups):
                days[key].add(email.day)
    found: Counter[tuple[str, int, str, int, int]] = Counter()
    for (chain, campaign_id, group), seen in days.items():
        prev = 0
        for day in sorted(seen):
            found[(chain, campaign_id, group, day, prev)] += 1
            prev = day
    return found


def email_days(emails: Iterable[Email]) -> dict[tuple[Any, ...], Counter[str]]:
    """The emails' sums per ``DAY_KEY``."""
    found: dict[tuple[Any, ...], Counter[str]] = defaultdict(Counter)
    for email in emails:
        sums = found[(email.campaign_id, email.version_id, email.step_key, email.template,
                      email.day)]  # fmt: skip
        _add_email(sums, email)
    return found


def group_days(emails: Iterable[Email], groups: Groups) -> dict[tuple[Any, ...], Counter[str]]:
    """One lead's emails' sums per ``GROUP_DAY_KEY``, in each of its ``groups``."""
    found: dict[tuple[Any, ...], Counter[str]] = defaultdict(Counter)
    for email in emails:
        for kind, value in zip(GROUP_KINDS, groups, strict=True):
            _add_email(found[(kind, value, email.campaign_id, email.day)], email)
    return found


def _add_email(sums: Counter[str], email: Email) -> None:
    sums["sent"] += 1
    for name in SUMS[1:]:
        sums[name] += getattr(email, name)


@dataclass(frozen=True)
class LeadChanges:
    """What rolling some leads up again changes: the sums of ``campaign_email_days``,
    ``campaign_group_days`` and ``campaign_recipient_days`` to add (negative: to take out)
    per key, the leads whose copy differed from their messages or groups, and those leads'
    emails and groups as they now are."""

    days: dict[tuple[Any, ...], Counter[str]]
    groups: dict[tuple[Any, ...], Counter[str]]
    recipients: Counter[tuple[str, int, str, int, int]]
    leads: list[int]
    emails: list[Email]
    lead_groups: dict[int, Groups]


def lead_changes(session: Session, leads: list[int], team: Team | None) -> LeadChanges:
    """What ``leads``' emails and groups as they now are (segments from ``team``) change
    in the roll-up (read only)."""
    held: dict[int, list[Email]] = defaultdict(list)
    now: dict[int, list[Email]] = defaultdict(list)
    held_groups: dict[int, Groups] = {}
    for start in range(0, len(leads), _CHUNK):
        chunk = leads[start : start + _CHUNK]
        copies = select(*(RolledUpEmail.__table__.c[name] for name in COLUMNS))
        for row in session.execute(copies.where(among(session, RolledUpEmail.lead_id, chunk))):
            held[row.lead_id].append(Email(*row))
        for row in session.execute(
            select(*_READ).where(among(session, Message.lead_id, chunk), counted())
        ):
            now[row.lead_id].append(_email(row))
        stored = select(RolledUpLead.lead_id, *(RolledUpLead.__table__.c[k] for k in GROUP_KINDS))
        for lead_id, *values in session.execute(
            stored.where(among(session, RolledUpLead.lead_id, chunk))
        ):
            held_groups[lead_id] = Groups(*values)
    # Only leads with counted emails have groups in the roll-up.
    now_groups = current_groups(session, sorted(now), team)
    old: list[Email] = []
    new: list[Email] = []
    old_groups: dict[tuple[Any, ...], Counter[str]] = defaultdict(Counter)
    new_groups: dict[tuple[Any, ...], Counter[str]] = defaultdict(Counter)
    old_days: Counter[tuple[str, int, str, int, int]] = Counter()
    new_days: Counter[tuple[str, int, str, int, int]] = Counter()
    changed: list[int] = []
    for lead in leads:
        before, after = sorted(held.get(lead, [])), sorted(now.get(lead, []))
        was, became = held_groups.get(lead), now_groups.get(lead) if after else None
        if before == after and was == became:
            continue
        changed.append(lead)
        old += before
        new += after
        # Each lead's chain of days is its own: never one over several leads.
        old_days.update(recipient_days(before, was))
        new_days.update(recipient_days(after, became))
        for sums, emails, groups in ((old_groups, before, was), (new_groups, after, became)):
            if groups is not None:
                for key, figures in group_days(emails, groups).items():
                    sums[key].update(figures)
    recipients: Counter[tuple[str, int, str, int, int]] = Counter()
    for key in set(old_days) | set(new_days):
        if new_days[key] != old_days[key]:
            recipients[key] = new_days[key] - old_days[key]
    return LeadChanges(
        days=_difference(email_days(old), email_days(new)),
        groups=_difference(old_groups, new_groups),
        recipients=recipients,
        leads=changed,
        emails=new,
        lead_groups={
            lead: now_groups[lead] for lead in changed if lead in now_groups and now.get(lead)
        },
    )


def roll_up_pending(session: Session, team: Team | None, limit: int = 5000) -> int:
    """Roll up, in the caller's transaction, the leads of up to ``limit`` rows of
    ``email_rollup_queue`` (the oldest), with ``team``'s segments, and remove those rows;
    how many rows were taken. One pass at a time (an advisory lock on PostgreSQL; SQLite
    runs one writer)."""
    serialize(session, ROLLUP_LOCK)
    taken = list(
        session.execute(
            select(EmailRollupQueue.id, EmailRollupQueue.lead_id)
            .order_by(EmailRollupQueue.id)
            .limit(limit)
        )
    )
    if not taken:
        return 0
    # Only the rows read are removed: a change committed since, even with a smaller id,
    # stays queued for the next pass.
    ids = [row.id for row in taken]
    for start in range(0, len(ids), _CHUNK):
        session.execute(
            delete(EmailRollupQueue).where(
                among(session, EmailRollupQueue.id, ids[start : start + _CHUNK])
            )
        )
    leads = sorted({row.lead_id for row in taken})
    for start in range(0, len(leads), _CHUNK):
        _apply(session, lead_changes(session, leads[start : start + _CHUNK], team))
    return len(taken)


def _difference(
    old: dict[tuple[Any, ...], Counter[str]], new: dict[tuple[Any, ...], Counter[str]]
) -> dict[tuple[Any, ...], Counter[str]]:
    found: dict[tuple[Any, ...], Counter[str]] = {}
    for key in set(old) | set(new):
        before, after = old.get(key, Counter()), new.get(key, Counter())
        delta = Counter({name: after[name] - before[name] for name in SUMS})
        if any(delta.values()):
            found[key] = delta
    return found


def _apply(session: Session, changes: LeadChanges) -> None:
    """Write ``changes`` into the sums and replace the changed leads' copies."""
    if not changes.leads:
        return
    _add(session, CampaignEmailDay, DAY_KEY, changes.days)
    _add(session, CampaignGroupDay, GROUP_DAY_KEY, changes.groups)
    recipients = [
        {**dict(zip(CHAIN_KEY, key, strict=True)), "recipients": delta}
        for key, delta in sorted(changes.recipients.items())
    ]
    add_to_sums(session, CampaignRecipientDay, CHAIN_KEY, ("recipients",), recipients)
    for model in (RolledUpEmail, RolledUpLead):
        session.execute(delete(model).where(among(session, model.lead_id, changes.leads)))
    connection = session.connection()
    bulk_insert(connection, table_of(RolledUpEmail), [e._asdict() for e in changes.emails])
    bulk_insert(
        connection,
        table_of(RolledUpLead),
        [{"lead_id": lead, **groups._asdict()} for lead, groups in changes.lead_groups.items()],
    )


def _add(
    session: Session,
    model: type[CampaignEmailDay] | type[CampaignGroupDay],
    key: tuple[str, ...],
    sums: dict[tuple[Any, ...], Counter[str]],
) -> None:
    rows = [
        {**dict(zip(key, values, strict=True)), **{name: delta[name] for name in SUMS}}
        for values, delta in sorted(sums.items())
    ]
    add_to_sums(session, model, key, SUMS, rows)
