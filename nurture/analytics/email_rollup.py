"""The roll-up of the campaign results (docs/analytics.md, "Email and campaign results"):
what the report reads instead of every email of the period.

Three tables (``nurture.models.rollup``), kept in the transaction of every change of a
message that the figures count (the ``messages_changed`` event: a send, a bounce report or
decision, an open, a click, an unsubscribe, a complaint):

- ``rolled_up_emails``: each counted email (kind "campaign", a campaign, sent) with what it
  adds to each figure — the roll-up's own memory of what it holds of that email, never
  read by a report;
- ``campaign_email_days``: their sums per campaign, version, step, template and UTC day;
- ``campaign_recipient_days``: distinct recipients made additive, per chain (all emails,
  per campaign, step, template, version), group, day and each lead's previous delivered
  day in the group.

A change of a message rolls its lead's emails up again: what ``rolled_up_emails`` held of
that lead is taken out of the sums, the lead's emails as they now are put in, and the
copy replaced. The sums therefore always equal the copy, and the copy of a lead equals
its messages once any of them changed through a use case; ``nurture db rebuild-rollups``
recomputes all three from ``messages`` (``email_rollup_rebuild``) and says how many rows
differed. Reading a lead's emails (over ``ix_messages_lead_id_queued_at``) costs a few
rows per lead, whatever the history.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, delete, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from nurture.models import CampaignEmailDay, CampaignRecipientDay, Message, RolledUpEmail
from nurture.models.rollup import EMAIL_FIGURES
from nurture.platform.db import bulk_insert, table_of

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
# The first key of the advisory locks that serialise one lead's roll-up (PostgreSQL);
# the second is the lead's id. Two-key locks do not share the one-key space of
# ``nurture.platform.db.serialize``.
_LOCK_CLASS = 20053


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


def follow_messages(session: Session, message_ids: Iterable[int]) -> int:
    """Roll up again, in the caller's transaction, every email of the leads of
    ``message_ids`` (after those messages were written); how many leads changed."""
    ids = sorted({int(i) for i in message_ids if i is not None})
    leads: set[int] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        leads.update(session.scalars(select(Message.lead_id).where(Message.id.in_(chunk))))
    ordered = sorted(leads)
    _lock(session, ordered)
    changed = 0
    for start in range(0, len(ordered), _CHUNK):
        changed += _roll_up(session, ordered[start : start + _CHUNK])
    return changed


def _lock(session: Session, leads: list[int]) -> None:
    """Serialise the roll-up of each lead with another transaction's (PostgreSQL; SQLite
    runs one writer): its emails are read after the other has committed. Taken in the
    leads' order, so two transactions never wait on each other."""
    if not leads or session.get_bind().dialect.name != "postgresql":
        return
    session.execute(
        text(
            "SELECT count(pg_advisory_xact_lock(:class, lead)) FROM"
            " (SELECT unnest(CAST(:leads AS integer[])) AS lead ORDER BY 1) AS locked"
        ),
        {"class": _LOCK_CLASS, "leads": leads},
    )


def _roll_up(session: Session, leads: list[int]) -> int:
    held: dict[int, list[Email]] = defaultdict(list)
    for row in session.execute(
        select(*(RolledUpEmail.__table__.c[name] for name in COLUMNS)).where(
            RolledUpEmail.lead_id.in_(leads)
        )
    ):
        held[row.lead_id].append(Email(*row))
    now: dict[int, list[Email]] = defaultdict(list)
    for row in session.execute(select(*_READ).where(Message.lead_id.in_(leads), counted())):
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
    if not changed:
        return 0
    _add_days(session, email_days(old), email_days(new))
    _add_recipients(session, old_days, new_days)
    session.execute(delete(RolledUpEmail).where(RolledUpEmail.lead_id.in_(changed)))
    bulk_insert(session.connection(), table_of(RolledUpEmail), [e._asdict() for e in new])
    return len(changed)


def _add_days(
    session: Session,
    old: dict[tuple[Any, ...], Counter[str]],
    new: dict[tuple[Any, ...], Counter[str]],
) -> None:
    rows = []
    for key in sorted(set(old) | set(new)):
        delta = {name: new.get(key, Counter())[name] - old.get(key, Counter())[name]
                 for name in SUMS}  # fmt: skip
        if any(delta.values()):
            rows.append({**dict(zip(DAY_KEY, key, strict=True)), **delta})
    _upsert(session, CampaignEmailDay, DAY_KEY, SUMS, rows)


def _add_recipients(
    session: Session,
    old: Counter[tuple[str, int, str, int, int]],
    new: Counter[tuple[str, int, str, int, int]],
) -> None:
    rows = []
    for key in sorted(set(old) | set(new)):
        delta = new[key] - old[key]
        if delta:
            rows.append({**dict(zip(CHAIN_KEY, key, strict=True)), "recipients": delta})
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
