"""The overview: today and the last 7 days at a glance, and what needs a person now.

Email figures follow the emails sent in the period, as the campaign figures do
(``nurture.reports.campaigns``): of the emails sent to leads, how many a person opened,
clicked, unsubscribed from, and how many bounced or drew a complaint, whenever that
happened; machine hits left out. They are read from each message's engagement columns
(``nurture.tracking.engagement``), one pass over the period's messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, distinct, func, or_, select
from sqlalchemy.orm import Session

from nurture.models import (
    Campaign,
    Handoff,
    HandoffSla,
    Lead,
    Message,
    StageChange,
    WebhookDelivery,
)
from nurture.platform.config import Settings
from nurture.reports.campaigns import EmailFigures, grouped_email_figures
from nurture.sending.kinds import INTERNAL_KINDS
from nurture.sending.policy import sending_policy

# Rates above these, over at least SPIKE_MIN_SENT emails in a day, are a problem: mailbox
# providers start filtering a sender around 2 % bounces or 0.1 % complaints (Gmail's and
# Yahoo's 2024 sender rules name 0.3 % as the line never to cross).
BOUNCE_SPIKE = 0.02
COMPLAINT_SPIKE = 0.001
SPIKE_MIN_SENT = 50


@dataclass(frozen=True)
class Figures:
    """What happened in one period."""

    sent: int = 0
    opened: int = 0
    clicked: int = 0
    unsubscribed: int = 0
    bounced: int = 0
    complained: int = 0
    new_leads: int = 0
    new_mqls: int = 0

    @property
    def open_rate(self) -> float | None:
        """Human opens per email sent."""
        return self.opened / self.sent if self.sent else None

    @property
    def click_rate(self) -> float | None:
        """Human clicks per email sent."""
        return self.clicked / self.sent if self.sent else None


@dataclass(frozen=True)
class Problem:
    """Something that needs a person: a stable code (pages word it in the reader's
    language), its figures, and which area fixes it."""

    area: str  # campaigns | sending | webhooks
    # campaign_errors | bounce_spike | complaint_spike | webhooks_failing | warmup_cap |
    # sender_refused
    code: str
    params: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Glance:
    """The home page's figures."""

    today: Figures
    week: Figures
    handoffs_waiting: int
    sla_breaches: int  # breached in the last 7 days
    problems: list[Problem] = field(default_factory=list)


def figures(session: Session, start: datetime, end: datetime) -> Figures:
    """The figures of ``[start, end)``: the emails sent to leads in it and what people did
    with them so far (as the campaign figures count), the leads and MQLs it brought."""
    # A rep's handoff notification is not an email a lead got.
    to_leads = (Message.kind.not_in(INTERNAL_KINDS),)
    emails = grouped_email_figures(session, to_leads, (), start, end).get((), EmailFigures())
    counts: dict[str, int] = {
        name: getattr(emails, name)
        for name in ("sent", "opened", "clicked", "unsubscribed", "bounced", "complained")
    }
    counts["new_leads"] = int(
        session.scalar(
            select(func.count())
            .select_from(Lead)
            .where(Lead.created_at >= start, Lead.created_at < end)
        )
        or 0
    )
    counts["new_mqls"] = int(
        session.scalar(
            select(func.count(distinct(StageChange.lead_id))).where(
                StageChange.to_stage == "mql", StageChange.at >= start, StageChange.at < end
            )
        )
        or 0
    )
    return Figures(**counts)


def glance(session: Session, settings: Settings, now: datetime) -> Glance:
    """Today (since midnight UTC) and the last 7 days, with the open problems."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week_start = now - timedelta(days=7)
    today, week = figures(session, midnight, now), figures(session, week_start, now)
    waiting = session.scalar(
        select(func.count()).select_from(Handoff).where(Handoff.status == "offered")
    )
    # A deadline that passed unanswered is a breach from that moment, whether or not the
    # worker's SLA pass has marked it yet.
    breaches = session.scalar(
        select(func.count())
        .select_from(HandoffSla)
        .where(
            or_(
                HandoffSla.breached_at >= week_start,
                and_(
                    HandoffSla.status == "pending",
                    HandoffSla.due_at < now,
                    HandoffSla.due_at >= week_start,
                ),
            )
        )
    )
    return Glance(
        today=today,
        week=week,
        handoffs_waiting=int(waiting or 0),
        sla_breaches=int(breaches or 0),
        problems=problems(session, settings, now, today),
    )


def problems(session: Session, settings: Settings, now: datetime, today: Figures) -> list[Problem]:
    """What needs a person: broken campaign files, a bounce or complaint spike, failing
    webhooks, emails held back because receivers refuse the sender, a warm-up cap
    reached."""
    found = [
        Problem("campaigns", "campaign_errors", {"campaign": key, "errors": error})
        for key, error in session.execute(
            select(Campaign.key, Campaign.last_error)
            .where(Campaign.last_error.is_not(None))
            .order_by(Campaign.key)
        )
    ]
    if today.sent >= SPIKE_MIN_SENT:
        if today.bounced / today.sent > BOUNCE_SPIKE:
            found.append(Problem("sending", "bounce_spike", _spike(today.bounced, today)))
        if today.complained / today.sent > COMPLAINT_SPIKE:
            found.append(Problem("sending", "complaint_spike", _spike(today.complained, today)))
    failing = session.scalar(
        select(func.count())
        .select_from(WebhookDelivery)
        .where(
            WebhookDelivery.status == "failed",
            WebhookDelivery.created_at >= now - timedelta(days=7),
        )
    )
    if failing:
        found.append(Problem("webhooks", "webhooks_failing", {"count": int(failing)}))
    # Emails a receiving server refused with a 5xx that blames the sender are held back
    # for a retry (sending.record); only those wait with a 5xx code. Live work only: the
    # index on next_attempt_at holds no finished message.
    held, reply = session.execute(
        select(func.count(), func.max(Message.smtp_reply)).where(
            Message.next_attempt_at.is_not(None),
            Message.status == "deferred",
            Message.smtp_code >= 500,
        )
    ).one()
    if held:
        found.append(Problem("sending", "sender_refused", {"count": int(held), "reply": reply}))
    warmup = sending_policy(settings).warmup
    cap = warmup.cap_on(now.date()) if warmup is not None else None
    if cap is not None and today.sent >= cap:
        found.append(Problem("sending", "warmup_cap", {"sent": today.sent, "cap": cap}))
    return found


def _spike(count: int, today: Figures) -> dict[str, object]:
    return {"count": count, "sent": today.sent, "rate": count / today.sent}
