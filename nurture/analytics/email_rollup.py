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

from sqlalchemy import and_, bindparam, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from nurture.models import (
    CampaignEmailDay,
    CampaignRecipientDay,
    EmailRollupQueue,
    Message,
    RolledUpEmail,
)
from nurture.models.rollup import EMAIL_FIGURES
from nurture.platform.db import bulk_insert, serialize, table_of

# A bounce whose decision was to suppress the address (campaign_results' hard bounce).
HARD_BOUNCE_DECISION = "suppress"
# What each counted email adds, in ``rolled_up_emails`` (``delivered`` is 1 or 0).
FLAGS: tuple[str, ...] = EMAIL_FIGURES
# The sums of ``campaign_email_days`` (``sent`` counts the emails; the rest are FLAGS').
SUMS: tuple[str, ...] = ("sent", *FLAGS[1:])
DAY_KEY: tuple[str, ...] = ("campaign_id", "version_id", "step_key", "template", "day")
CHAIN_KEY: tuple[str, ...] = ("chain", "campaign_id", "group_key", "day", "prev_day")
# The chains of distinct recipients: the emails a lead counts once in (all, or per group).
CHAINS: tuple[str, ...] = ("all", "campaign", "step", "template", "version")
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
    """``when`` as a day number, 20260131 (``costs.volume.day_number`` in SQL)."""
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


def chain_keys(email: Email) -> Iterator[tuple[str, int, str]]:
    """The groups of each chain an email belongs to: (chain, campaign id, group key)."""
    yield "all", 0, ""
    yield "campaign", email.campaign_id, ""
    yield "step", email.campaign_id, email.step_key
    yield "template", email.campaign_id, email.template
    yield "version", email.campaign_id, str(email.version_id)


def recipient_days(emails: Iterable[Email]) -> Counter[tuple[str, int, str, int, int]]:
    """The rows of ``campaign_recipient_days`` (``CHAIN_KEY`` → 1) of one lead's
    ``emails``: a chain of days is one lead's, never several leads' together."""
    days: dict[tuple[str, int, str], set[int]] = defaultdict(set)
    for email in emails:
        if email.delivered:
            for key in chain_keys(email):
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
        sums["sent"] += 1
        for name in SUMS[1:]:
            sums[name] += getattr(email, name)
    return found


@dataclass(frozen=True)
class LeadChanges:
    """What rolling some leads up again changes: the sums of ``campaign_email_days`` and
    ``campaign_recipient_days`` to add (negative: to take out) per key, the leads whose
    copy differed from their messages, and those leads' emails as they now are."""

    days: dict[tuple[Any, ...], Counter[str]]
    recipients: Counter[tuple[str, int, str, int, int]]
    leads: list[int]
    emails: list[Email]


def queued_leads(session: Session) -> list[int]:
    """The leads waiting in ``email_rollup_queue`` (each once, in order)."""
    return sorted(session.scalars(select(EmailRollupQueue.lead_id).distinct()))


def lead_changes(session: Session, leads: list[int]) -> LeadChanges:
    """What ``leads``' emails as they now are change in the roll-up (read only)."""
    held: dict[int, list[Email]] = defaultdict(list)
    now: dict[int, list[Email]] = defaultdict(list)
    for start in range(0, len(leads), _CHUNK):
        chunk = leads[start : start + _CHUNK]
        copies = select(*(RolledUpEmail.__table__.c[name] for name in COLUMNS))
        for row in session.execute(copies.where(RolledUpEmail.lead_id.in_(chunk))):
            held[row.lead_id].append(Email(*row))
        for row in session.execute(select(*_READ).where(Message.lead_id.in_(chunk), counted())):
            now[row.lead_id].append(_email(row))
    old: list[Email] = []
    new: list[Email] = []
    old_days: Counter[tuple[str, int, str, int, int]] = Counter()
    new_days: Counter[tuple[str, int, str, int, int]] = Counter()
    changed: list[int] = []
    for lead in leads:
        before = sorted(held.get(lead, []))
        after = sorted(now.get(lead, []))
        if before != after:
            changed.append(lead)
            old += before
            new += after
            # Each lead's chain of days is its own: never one over several leads.
            old_days.update(recipient_days(before))
            new_days.update(recipient_days(after))
    days = _difference(email_days(old), email_days(new))
    recipients: Counter[tuple[str, int, str, int, int]] = Counter()
    for key in set(old_days) | set(new_days):
        if new_days[key] != old_days[key]:
            recipients[key] = new_days[key] - old_days[key]
    return LeadChanges(days, recipients, changed, new)


def roll_up_pending(session: Session, limit: int = 5000) -> int:
    """Roll up, in the caller's transaction, the leads of up to ``limit`` rows of
    ``email_rollup_queue`` (the oldest), and remove those rows; how many rows were taken.
    One pass at a time (an advisory lock on PostgreSQL; SQLite runs one writer)."""
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
            delete(EmailRollupQueue).where(EmailRollupQueue.id.in_(ids[start : start + _CHUNK]))
        )
    leads = sorted({row.lead_id for row in taken})
    for start in range(0, len(leads), _CHUNK):
        _apply(session, lead_changes(session, leads[start : start + _CHUNK]))
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
    _add_days(session, changes.days)
    _add_recipients(session, changes.recipients)
    session.execute(delete(RolledUpEmail).where(RolledUpEmail.lead_id.in_(changes.leads)))
    bulk_insert(
        session.connection(), table_of(RolledUpEmail), [e._asdict() for e in changes.emails]
    )


def _add_days(session: Session, days: dict[tuple[Any, ...], Counter[str]]) -> None:
    rows = [
        {**dict(zip(DAY_KEY, key, strict=True)), **{name: delta[name] for name in SUMS}}
        for key, delta in sorted(days.items())
    ]
    _upsert(session, CampaignEmailDay, DAY_KEY, SUMS, rows)


def _add_recipients(session: Session, recipients: Counter[tuple[str, int, str, int, int]]) -> None:
    rows = [
        {**dict(zip(CHAIN_KEY, key, strict=True)), "recipients": delta}
        for key, delta in sorted(recipients.items())
    ]
    _upsert(session, CampaignRecipientDay, CHAIN_KEY, ("recipients",), rows)


def _upsert(
    session: Session,
    model: type[CampaignEmailDay] | type[CampaignRecipientDay],
    key: tuple[str, ...],
    sums: tuple[str, ...],
    rows: list[dict[str, Any]],
) -> None:
    """Add each row's ``sums`` to the row of its ``key`` (created at 0), then remove the
    rows that came to 0 (a recomputation has none)."""
    if not rows:
        return
    table = table_of(model)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(table)
    statement = insert.on_conflict_do_update(
        index_elements=[table.c[name] for name in key],
        set_={name: table.c[name] + insert.excluded[name] for name in sums},
    )
    connection = session.connection()
    if dialect is postgresql:
        # One statement for every row: the rows travel as one array per column (as
        # ``bulk_insert`` sends them), ~0.1 ms a row less than one statement per row.
        names = list(rows[0])
        arrays = [
            func.unnest(
                bindparam(f"u_{name}", [row[name] for row in rows],
                          type_=postgresql.ARRAY(table.c[name].type))
            ).label(name)
            for name in names
        ]  # fmt: skip
        connection.execute(
            insert.from_select(names, select(*arrays)).on_conflict_do_update(
                index_elements=[table.c[name] for name in key],
                set_={name: table.c[name] + insert.excluded[name] for name in sums},
            )
        )
    else:
        for start in range(0, len(rows), _CHUNK):
            connection.execute(statement, rows[start : start + _CHUNK])
    emptied = delete(table).where(
        *(table.c[name] == bindparam(f"k_{name}") for name in key), table.c[sums[0]] == 0
    )
    fell = [{f"k_{name}": row[name] for name in key} for row in rows if row[sums[0]] < 0]
    if fell:
        connection.execute(emptied, fell)
