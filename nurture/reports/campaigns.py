"""Campaign figures: the campaign list, a campaign's steps, and its enrolments.

Email figures follow the emails sent in a period (a cohort): of the emails a campaign (or a
step) sent in the period, how many bounced, and how many a person opened, clicked, or
unsubscribed from, whenever that happened. Opens and clicks count emails, not hits (one
person opening one email five times is one open), leave machine hits out (mail privacy
proxies, security scanners: ``events.is_machine``), and a click counts as an open too (a
person who clicked read the email, even with images blocked), as the drip rules do.

- delivered = sent − bounced (a bounce report of any kind, hard or soft);
- open rate = opened ÷ delivered; click rate = clicked ÷ delivered;
- click-to-open rate = clicked ÷ opened.

What people did with each email is kept on its message (``nurture.tracking.engagement``),
so a period's figures are one read of the period's messages, not of their events.

Every query is bounded by one campaign (or the list's few campaign ids) and the period,
over the indexes of migration 9510: ``messages (campaign_id, sent_at)``, ``enrollments
(campaign_id, status, track, step)``, ``enrollments (campaign_id, enrolled_at, id)``,
``enrollments (campaign_id, finished_at)`` and ``enrollment_history (at)``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from nurture.models import (
    Campaign,
    CampaignVersion,
    Enrollment,
    EnrollmentHistory,
    Lead,
    Message,
)
from nurture.reports.keyset import after_row

WEEK = timedelta(days=7)
PAGE_SIZE = 50
# The periods the campaign page offers, in days.
PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
# History actions that mean an enrolment reached a step (not: enrolled, switched, remapped).
_AT_STEP = ("sent", "skipped", "waiting", "branched", "deferred", "completed", "exited", "stuck")


@dataclass(frozen=True)
class EmailFigures:
    """What happened to the emails sent in a period (see the module's definitions)."""

    sent: int = 0
    bounced: int = 0
    opened: int = 0
    clicked: int = 0
    unsubscribed: int = 0
    complained: int = 0

    @property
    def delivered(self) -> int:
        return max(self.sent - self.bounced, 0)

    @property
    def open_rate(self) -> float | None:
        return self.opened / self.delivered if self.delivered else None

    @property
    def click_rate(self) -> float | None:
        return self.clicked / self.delivered if self.delivered else None

    @property
    def click_to_open(self) -> float | None:
        return self.clicked / self.opened if self.opened else None


@dataclass(frozen=True)
class CampaignSummary:
    """One row of the campaign list."""

    id: int
    key: str
    name: str
    status: str  # active | paused | archived
    version: int | None
    has_errors: bool
    paused_at: datetime | None
    active_enrolments: int
    week: EmailFigures


def campaign_summaries(
    session: Session, now: datetime, *, status: str | None = None
) -> list[CampaignSummary]:
    """Every campaign (or those with ``status``) by key, with its last 7 days."""
    query = (
        select(Campaign, CampaignVersion.number)
        .outerjoin(CampaignVersion, CampaignVersion.id == Campaign.active_version_id)
        .order_by(Campaign.key)
    )
    if status:
        query = query.where(Campaign.status == status)
    rows = session.execute(query).all()
    ids = [campaign.id for campaign, _ in rows]
    active = dict(
        session.execute(
            select(Enrollment.campaign_id, func.count())
            .where(Enrollment.campaign_id.in_(ids), Enrollment.status == "active")
            .group_by(Enrollment.campaign_id)
        ).all()
    )
    week = email_figures(session, ids, now - WEEK, now)
    return [
        CampaignSummary(
            id=campaign.id,
            key=campaign.key,
            name=campaign.name,
            status=campaign.status,
            version=number,
            has_errors=campaign.last_error is not None,
            paused_at=campaign.paused_at,
            active_enrolments=int(active.get(campaign.id, 0)),
            week=week.get(campaign.id, EmailFigures()),
        )
        for campaign, number in rows
    ]


def email_figures(
    session: Session, campaign_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, EmailFigures]:
    """Per campaign: the figures of the emails sent in ``[start, end)``."""
    if not campaign_ids:
        return {}
    where = (Message.campaign_id.in_(campaign_ids),)
    return {
        key[0]: figures
        for key, figures in grouped_email_figures(
            session, where, (Message.campaign_id,), start, end
        ).items()
    }


def step_email_figures(
    session: Session, campaign_id: int, start: datetime, end: datetime
) -> dict[str, EmailFigures]:
    """Per step key (``track/step``): the figures of the emails it sent in ``[start, end)``."""
    found = campaign_email_figures(session, campaign_id, start, end)
    return {str(key): figures for key, figures in found.items() if key}


def campaign_email_figures(
    session: Session, campaign_id: int, start: datetime, end: datetime
) -> dict[str | None, EmailFigures]:
    """Per step key, and for the campaign's emails of no step (None), the figures of the
    emails sent in ``[start, end)``: every email of the period once, so they add up to the
    campaign's (``added``)."""
    where = (Message.campaign_id == campaign_id,)
    found = grouped_email_figures(session, where, (Message.step_key,), start, end)
    return {key[0]: figures for key, figures in found.items()}


def added(figures: Iterable[EmailFigures]) -> EmailFigures:
    """The figures of several sets of emails together (each email in one set: every
    figure counts emails, so they add up)."""
    names = [item.name for item in fields(EmailFigures)]
    total = dict.fromkeys(names, 0)
    for item in figures:
        for name in names:
            total[name] += getattr(item, name)
    return EmailFigures(**total)


def grouped_email_figures(
    session: Session,
    where: tuple[Any, ...],
    group: tuple[Any, ...],
    start: datetime,
    end: datetime,
) -> dict[tuple[Any, ...], EmailFigures]:
    """The figures of the messages meeting ``where`` sent in ``[start, end)``, per value of
    ``group`` (no group: one entry, under ``()``)."""
    names = ("sent", "opened", "clicked", "unsubscribed", "bounced", "complained")
    rows = session.execute(
        select(
            *group,
            func.count(),
            func.count(Message.opened_at),
            func.count(Message.clicked_at),
            func.count(Message.unsubscribed_at),
            func.count(Message.bounce_reported_at),
            func.count(Message.complained_at),
        )
        .where(*where, Message.sent_at >= start, Message.sent_at < end)
        .group_by(*group)
    )
    return {
        tuple(row[: len(group)]): EmailFigures(
            **{name: int(value or 0) for name, value in zip(names, row[len(group) :], strict=True)}
        )
        for row in rows
    }


# ---------------------------------------------------------------- steps


@dataclass(frozen=True)
class Exit:
    """Enrolments that ended at one step for one reason."""

    status: str  # completed | exited
    reason: str
    count: int


@dataclass(frozen=True)
class StepFigures:
    """What happened at one step (``track/step``) in a period."""

    entered: int = 0  # enrolments that reached the step in the period
    now_here: int = 0  # live enrolments at the step now (whatever the period)
    email: EmailFigures = field(default_factory=EmailFigures)
    exits: tuple[Exit, ...] = ()

    @property
    def exited(self) -> int:
        return sum(item.count for item in self.exits)


@dataclass(frozen=True)
class CampaignTotals:
    """The campaign as a whole: live enrolments now, and the period's figures."""

    active: int
    entered: int  # enrolled in the period
    completed: int  # finished in the period, by the campaign's own path or goal
    exited: int  # left early in the period (exit rules, unsubscribes, ...)
    email: EmailFigures


def step_figures(
    session: Session,
    campaign_id: int,
    start: datetime,
    end: datetime,
    *,
    emails: Mapping[str | None, EmailFigures] | None = None,
) -> dict[str, StepFigures]:
    """Per step key (``track/step``): entered, now here, email figures and exits.
    ``emails``: the period's ``campaign_email_figures`` when the caller has them."""
    entered: dict[str, int] = {}
    for track, step, count in session.execute(
        select(
            EnrollmentHistory.track,
            EnrollmentHistory.step,
            func.count(distinct(EnrollmentHistory.enrollment_id)),
        )
        .join(Enrollment, Enrollment.id == EnrollmentHistory.enrollment_id)
        .where(
            Enrollment.campaign_id == campaign_id,
            EnrollmentHistory.at >= start,
            EnrollmentHistory.at < end,
            EnrollmentHistory.step.is_not(None),
            EnrollmentHistory.action.in_(_AT_STEP),
        )
        .group_by(EnrollmentHistory.track, EnrollmentHistory.step)
    ):
        entered[f"{track}/{step}"] = int(count)
    here = {
        f"{track}/{step or ''}": int(count)
        for track, step, count in session.execute(
            select(Enrollment.track, Enrollment.step, func.count())
            .where(Enrollment.campaign_id == campaign_id, Enrollment.status == "active")
            .group_by(Enrollment.track, Enrollment.step)
        )
    }
    exits: dict[str, list[Exit]] = defaultdict(list)
    for track, step, status, reason, count in session.execute(
        select(
            Enrollment.track,
            Enrollment.step,
            Enrollment.status,
            Enrollment.exit_reason,
            func.count(),
        )
        .where(
            Enrollment.campaign_id == campaign_id,
            Enrollment.finished_at >= start,
            Enrollment.finished_at < end,
            Enrollment.status.in_(("completed", "exited")),
        )
        .group_by(Enrollment.track, Enrollment.step, Enrollment.status, Enrollment.exit_reason)
    ):
        exits[f"{track}/{step or ''}"].append(Exit(status, reason or "", int(count)))
    if emails is None:
        emails = campaign_email_figures(session, campaign_id, start, end)
    email = {str(key): figures for key, figures in emails.items() if key}
    keys = set(entered) | set(here) | set(exits) | set(email)
    return {
        key: StepFigures(
            entered=entered.get(key, 0),
            now_here=here.get(key, 0),
            email=email.get(key, EmailFigures()),
            exits=tuple(sorted(exits.get(key, ()), key=lambda e: (-e.count, e.reason))),
        )
        for key in keys
    }


def campaign_totals(
    session: Session,
    campaign_id: int,
    start: datetime,
    end: datetime,
    *,
    emails: Mapping[str | None, EmailFigures] | None = None,
) -> CampaignTotals:
    """The campaign's live enrolments and the period's entries, exits and email figures.
    ``emails``: the period's ``campaign_email_figures`` when the caller has them (the
    campaign page: its steps' figures add up to the campaign's, one query less)."""
    active = session.scalar(
        select(func.count()).where(
            Enrollment.campaign_id == campaign_id, Enrollment.status == "active"
        )
    )
    entered = session.scalar(
        select(func.count()).where(
            Enrollment.campaign_id == campaign_id,
            Enrollment.enrolled_at >= start,
            Enrollment.enrolled_at < end,
        )
    )
    finished = dict(
        session.execute(
            select(Enrollment.status, func.count())
            .where(
                Enrollment.campaign_id == campaign_id,
                Enrollment.finished_at >= start,
                Enrollment.finished_at < end,
            )
            .group_by(Enrollment.status)
        ).all()
    )
    if emails is not None:
        email = added(emails.values())
    else:
        email = email_figures(session, [campaign_id], start, end).get(campaign_id, EmailFigures())
    return CampaignTotals(
        active=int(active or 0),
        entered=int(entered or 0),
        completed=int(finished.get("completed", 0)),
        exited=int(finished.get("exited", 0)),
        email=email,
    )


# ---------------------------------------------------------------- enrolments


@dataclass(frozen=True)
class EnrolmentRow:
    """One enrolment: who, where, what next, how it ended."""

    id: int
    lead_id: int
    email: str
    name: str
    entry_number: int
    status: str
    track: str
    step: str | None
    next_due_at: datetime | None
    enrolled_at: datetime
    finished_at: datetime | None
    exit_reason: str | None


@dataclass(frozen=True)
class EnrolmentFilter:
    """The enrolments page's filters (None: any)."""

    status: str | None = None
    track: str | None = None
    step: str | None = None
    lead_id: int | None = None


@dataclass(frozen=True)
class EnrolmentPage:
    rows: list[EnrolmentRow]
    # The sort key of the last row when there are more: (enrolled_at, id).
    next_key: tuple[datetime, int] | None


def enrolments_page(
    session: Session,
    campaign_id: int,
    filters: EnrolmentFilter,
    *,
    after: tuple[datetime, int] | None = None,
    limit: int = PAGE_SIZE,
) -> EnrolmentPage:
    """A page of the campaign's enrolments, newest first (keyset: pass the previous page's
    ``next_key`` as ``after``)."""
    query = (
        select(Enrollment, Lead.email, Lead.first_name, Lead.last_name)
        .join(Lead, Lead.id == Enrollment.lead_id)
        .where(Enrollment.campaign_id == campaign_id)
        .order_by(Enrollment.enrolled_at.desc(), Enrollment.id.desc())
        .limit(limit + 1)
    )
    if filters.status:
        query = query.where(Enrollment.status == filters.status)
    if filters.track:
        query = query.where(Enrollment.track == filters.track)
    if filters.step:
        query = query.where(Enrollment.step == filters.step)
    if filters.lead_id is not None:
        query = query.where(Enrollment.lead_id == filters.lead_id)
    if after is not None:
        query = query.where(
            after_row((Enrollment.enrolled_at, Enrollment.id), after, descending=True)
        )
    found = session.execute(query).all()
    rows = [
        EnrolmentRow(
            id=enrollment.id,
            lead_id=enrollment.lead_id,
            email=email,
            name=" ".join(part for part in (first, last) if part),
            entry_number=enrollment.entry_number,
            status=enrollment.status,
            track=enrollment.track,
            step=enrollment.step,
            next_due_at=enrollment.next_due_at,
            enrolled_at=enrollment.enrolled_at,
            finished_at=enrollment.finished_at,
            exit_reason=enrollment.exit_reason,
        )
        for enrollment, email, first, last in found[:limit]
    ]
    more = len(found) > limit
    return EnrolmentPage(rows, (rows[-1].enrolled_at, rows[-1].id) if more and rows else None)


def lead_id_for_email(session: Session, email: str) -> int | None:
    """The id of the lead with this (normalised) address, or None."""
    return session.scalar(select(Lead.id).where(Lead.email == email))


def live_by_version(session: Session, campaign_id: int) -> dict[int, int]:
    """Live enrolments per campaign version id (those on an older one move at their next
    step)."""
    return {
        int(version): int(count)
        for version, count in session.execute(
            select(Enrollment.version_id, func.count())
            .where(Enrollment.campaign_id == campaign_id, Enrollment.status == "active")
            .group_by(Enrollment.version_id)
        )
    }
