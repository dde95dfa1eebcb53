"""Roll-ups of history that the reports read instead of the history itself."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nurture.platform.db import Base

# What each campaign email adds to the campaign results (``RolledUpEmail``'s columns).
EMAIL_FIGURES: tuple[str, ...] = (
    "delivered",
    "hard_bounced",
    "soft_bounced",
    "opened",
    "machine_opened",
    "clicked",
    "clicks",
    "machine_clicked",
    "unsubscribed",
    "complained",
)


class _Outcomes:
    """The outcome counts of ``EMAIL_FIGURES`` after ``delivered``: one email's flags in
    ``rolled_up_emails``, their sums in the day tables."""

    hard_bounced: Mapped[int]
    soft_bounced: Mapped[int]
    opened: Mapped[int]
    machine_opened: Mapped[int]
    clicked: Mapped[int]
    clicks: Mapped[int]
    machine_clicked: Mapped[int]
    unsubscribed: Mapped[int]
    complained: Mapped[int]


class LeadStageFirst(Base):
    """When a lead first entered each funnel stage, beside its creation: one row per lead
    that has entered at least one (``nurture.analytics.rollup`` keeps it).

    It is ``stage_changes`` summed up (the first time of each stage a change entered, by
    ``nurture.analytics.definitions.entered_stages``), written in the transaction of each
    stage change and always equal to a full recomputation from ``stage_changes``
    (``nurture db rebuild-rollups`` recomputes it). It names no person: erasure keeps it,
    as it keeps the stage changes.
    """

    __tablename__ = "lead_stage_firsts"
    __table_args__ = (
        # The cohort view reads the leads created in a period.
        Index("ix_lead_stage_firsts_created_at", "created_at"),
    )

    lead_id: Mapped[int] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    # The lead's creation (``leads.created_at``, which never changes), so the cohort view
    # needs no join to the leads when it filters on nothing else.
    created_at: Mapped[datetime]
    mql_at: Mapped[datetime | None]
    sal_at: Mapped[datetime | None]
    sql_at: Mapped[datetime | None]
    opportunity_at: Mapped[datetime | None]
    customer_at: Mapped[datetime | None]


class LeadFirstTouch(Base):
    """When a lead first came into view through something it did: the time of its first
    human touch (``nurture.analytics.first_touches``: an open, a click, a page view, a
    form, a server-side event, ``custom.*``; machine hits are not touches), one row per
    lead that has one. The sales cycle reads it instead of each won lead's events.

    Its own table rather than a column: on ``lead_stage_firsts`` it would hold only the
    leads of the funnel, so every event of a lead outside it would have to be read back
    when the lead first reached ``mql``, and that table's recomputation from the stage
    changes would need the events too; on ``leads`` the migration, a rebuild and every
    earlier touch would rewrite the wide lead rows that scoring and the hit processor
    update. Here it is two columns, written only when a lead's first touch moves.

    Database triggers on ``events`` (migration 9850) keep it in the writer's transaction,
    whoever writes (the hit processor's batch insert, a visitor's history moved onto its
    lead, a click re-flagged as a scanner's, a bulk insert), so it always equals a
    recomputation from ``events`` (``nurture db rebuild-rollups --check``). It names no
    person: erasure keeps it, as it keeps the events' types and times.
    """

    __tablename__ = "lead_first_touches"

    lead_id: Mapped[int] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    touched_at: Mapped[datetime]


class CampaignEntry(Base):
    """A lead's first enrolment in a campaign, beside the lead's creation: one row per lead
    and campaign it was ever enrolled in (``enrollments`` with ``entry_number`` 1), which
    the reports grouped by campaign read instead of the enrolments
    (``nurture.analytics.campaign_entries``).

    Database triggers on ``enrollments`` keep it in the writer's transaction, whatever
    wrote the enrolment (``enrol_lead``, the bulk insert of an import, a bulk load), so it
    always equals a recomputation (``nurture db rebuild-rollups --check``). It names no
    person: erasure keeps it, as it keeps the enrolments.
    """

    __tablename__ = "campaign_entries"
    __table_args__ = (
        # The period's pairs from the index alone (a report grouped by campaign that
        # filters on nothing else of the lead reads only this), by day.
        Index("ix_campaign_entries_created_day", "created_day", "campaign_id", "lead_id"),
    )

    lead_id: Mapped[int] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id"), primary_key=True, autoincrement=False
    )
    # The lead's creation (``leads.created_at``, which never changes).
    created_at: Mapped[datetime]
    # Its day (UTC) as a number, 20260105 for 5 January 2026: the reports count the pairs
    # per day or month (an integer division) without computing it for each of them.
    created_day: Mapped[int]


class StageEntry(Base):
    """One entry of a lead into a funnel stage: one row per stage change and funnel stage
    it enters (``nurture.analytics.definitions.entered_stages``), with the change's time
    and ``prev_at``, the time of the lead's entry into the same stage just before it in
    (``at``, ``change_id``) order (NULL for its first). A lead entered a stage in
    ``[start, end)`` exactly when one of its entries there has ``prev_at`` NULL or before
    ``start``, and exactly one does: the funnel's period view counts those rows
    (``nurture.analytics.stage_entries``) instead of summing each lead's changes.

    Database triggers on ``stage_changes`` (migration 9880) keep it in the writer's
    transaction, whoever writes, so it always equals a recomputation
    (``nurture db rebuild-rollups --check``). It names no person: erasure keeps it, as it
    keeps the stage changes.
    """

    __tablename__ = "stage_entries"
    __table_args__ = (
        # A lead's entries into one stage in order: the triggers' predecessor and successor.
        Index("ix_stage_entries_lead_id_stage_at", "lead_id", "stage", "at", "change_id"),
        # A period's entries from the index alone on PostgreSQL (the period view).
        Index("ix_stage_entries_at", "at", postgresql_include=["stage", "prev_at", "lead_id"]),
    )

    change_id: Mapped[int] = mapped_column(
        ForeignKey("stage_changes.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    stage: Mapped[str] = mapped_column(String(20), primary_key=True)
    lead_id: Mapped[int]
    at: Mapped[datetime]
    prev_at: Mapped[datetime | None]


class RolledUpEmail(_Outcomes, Base):
    """What the campaign results count of one campaign email sent (``kind`` "campaign",
    a campaign, a send time): the roll-ups' own copy of it, so that when its message
    changes, what the roll-ups hold of it is known and can be taken out before the new
    state is added (``nurture.analytics.email_rollup``). Equal to a recomputation from
    ``messages`` for every lead not waiting in ``email_rollup_queue``.

    Its lead stays after an erasure as the message's own does: the figures keep counting
    the erased person's emails, without identity.
    """

    __tablename__ = "rolled_up_emails"
    __table_args__ = (
        # A lead's emails are rolled up again together (its distinct-recipient days).
        Index("ix_rolled_up_emails_lead_id", "lead_id"),
    )

    # No foreign key: when a message is deleted, its copy must stay until the roll-up
    # takes what it added out of the sums (the message's lead is queued by a trigger).
    message_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    lead_id: Mapped[int]
    campaign_id: Mapped[int]
    # The campaign version (0: none recorded), the step ("": none) and the template.
    version_id: Mapped[int]
    step_key: Mapped[str] = mapped_column(String(201))
    template: Mapped[str] = mapped_column(String(100))
    # The UTC day it was sent, as 20260131.
    day: Mapped[int]
    delivered: Mapped[int]


class CampaignEmailDay(_Outcomes, Base):
    """The campaign results' additive figures of the campaign emails sent on one UTC day,
    per campaign, version, step and template (``nurture.analytics.email_rollup``): the sum
    of ``rolled_up_emails``, brought up to date by the worker's roll-up pass. It names no
    person."""

    __tablename__ = "campaign_email_days"
    __table_args__ = (
        # A period's days only: older history adds rows the report never reads.
        Index("ix_campaign_email_days_day", "day"),
    )

    campaign_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    step_key: Mapped[str] = mapped_column(String(201), primary_key=True)
    template: Mapped[str] = mapped_column(String(100), primary_key=True)
    day: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    sent: Mapped[int]


class CampaignRecipientDay(Base):
    """Distinct recipients made additive (``nurture.analytics.email_rollup``): for each
    ``chain`` (``all`` emails, or per ``campaign``, ``step``, ``template``, ``version``, or
    per campaign and the lead's ``source``, ``grade``, ``owner``, ``segment``),
    group (``campaign_id`` 0 and ``group_key`` "" where the chain has none) and UTC day,
    how many leads had a delivered email of the group that day whose previous delivered
    day in the group was ``prev_day`` (0: none). A lead is a recipient of a group in
    ``[start, end)`` exactly once: on its first day there, whose previous day is before
    ``start``; so the count is a sum, not a DISTINCT over every email. It names no
    person."""

    __tablename__ = "campaign_recipient_days"
    __table_args__ = (
        # One chain's days of a period only (as ``ix_campaign_email_days_day``).
        Index("ix_campaign_recipient_days_chain_day", "chain", "day"),
    )

    chain: Mapped[str] = mapped_column(String(10), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    group_key: Mapped[str] = mapped_column(String(320), primary_key=True)
    day: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    prev_day: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    recipients: Mapped[int]


class EmailRollupQueue(Base):
    """Leads whose campaign email changed since the roll-up last read them: a row per
    change of a counted message (sent, bounced, opened, clicked, unsubscribed, complained,
    deleted), appended by a database trigger on ``messages`` in the transaction of the
    change (migration 9790), taken by the worker's roll-up pass
    (``nurture.analytics.email_rollup.roll_up_pending``). Append-only for the writers: no
    key but its own, so two transactions never wait on each other here."""

    __tablename__ = "email_rollup_queue"
    __table_args__ = (Index("ix_email_rollup_queue_lead_id", "lead_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int]


class RolledUpLead(Base):
    """The groups of a lead with counted emails, as the roll-up's sums hold them: its
    ``source``, fit ``grade``, ``owner`` (the latest handoff's rep) and ``segment`` ("" for
    none), so that when one changes, the lead's emails can be taken out of the old group
    (``nurture.analytics.email_rollup``)."""

    __tablename__ = "rolled_up_leads"

    lead_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(100))
    grade: Mapped[str] = mapped_column(String(1))
    owner: Mapped[str] = mapped_column(String(320))
    segment: Mapped[str] = mapped_column(String(100))


class CampaignGroupDay(_Outcomes, Base):
    """The campaign results' additive figures of the campaign emails sent on one UTC day,
    per campaign and lead group (``kind`` source, grade, owner or segment, and its
    ``value``, "" for none), as ``rolled_up_leads`` holds the leads' groups. It names no
    person."""

    __tablename__ = "campaign_group_days"
    __table_args__ = (Index("ix_campaign_group_days_kind_day", "kind", "day"),)

    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    value: Mapped[str] = mapped_column(String(320), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    day: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    sent: Mapped[int]


class EmailRollupState(Base):
    """One row: the sales team's segments (``nurture.analytics.lead_groups``) the lead
    groups of the roll-up were computed with; None until they were first filled. When the
    team's segments change, the lead groups are rebuilt."""

    __tablename__ = "email_rollup_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    segments: Mapped[str | None] = mapped_column(Text)
