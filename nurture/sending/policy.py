"""Sending policy beyond one lead: per-recipient-domain throttles and a warm-up cap.

Mailbox providers judge a sender by volume: a burst of thousands of messages to one
provider, or a new sending domain that starts at full speed, gets throttled or sent to
spam. Two limits, both counted over the ``messages`` table so every worker sharing a
database sees the same totals:

* **Domain throttle** (``NURTURE_DOMAIN_THROTTLE=gmail.com=2000/1h,yahoo.com=1000/1h``): at
  most N campaign emails to that recipient domain in any rolling period.
* **Warm-up** (``NURTURE_WARMUP_START=2026-12-01``): a daily cap across all recipients that
  grows day by day along ``NURTURE_WARMUP_SCHEDULE`` (default doubling from 50) and lifts
  when the schedule ends.

An email over a limit is not dropped: its enrolment is deferred and tried again when the
limit frees (see ``LeadFacts.send_blocked_until``), so the drip order is kept.

The parsing and the :class:`SendBudget` arithmetic are pure; :func:`load_budget` does the
counting queries, and only when a limit is configured.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.models import Message
from nurture.platform.config import Settings
from nurture.platform.policies import DomainLimit

DEFAULT_WARMUP_SCHEDULE: tuple[int, ...] = (
    50, 100, 200, 400, 800, 1500, 3000, 6000, 12000, 25000, 50000, 100000,
)  # fmt: skip
# A throttled domain is looked at again after this share of its period.
_RECHECK_SHARE = 12


@dataclass(frozen=True)
class WarmUp:
    """Daily caps for a new sending domain, starting on ``start`` (day 1 = first value)."""

    start: date
    schedule: tuple[int, ...] = DEFAULT_WARMUP_SCHEDULE

    def cap_on(self, day: date) -> int | None:
        """The cap for ``day``, or None once the warm-up is over (or before it starts)."""
        index = (day - self.start).days
        if index < 0 or index >= len(self.schedule):
            return None
        return self.schedule[index]


@dataclass(frozen=True)
class SendingPolicy:
    """The configured limits (empty: no limits, nothing is counted)."""

    domain_limits: tuple[DomainLimit, ...] = ()
    warmup: WarmUp | None = None

    @property
    def active(self) -> bool:
        return bool(self.domain_limits) or self.warmup is not None


def sending_policy(settings: Settings) -> SendingPolicy:
    """The policy the settings describe."""
    warmup = None
    if settings.warmup_start is not None:
        warmup = WarmUp(settings.warmup_start, settings.warmup_schedule or DEFAULT_WARMUP_SCHEDULE)
    return SendingPolicy(tuple(settings.domain_throttle), warmup)


def recipient_domain(address: str) -> str:
    """The lower-cased domain of an email address."""
    return address.rpartition("@")[2].lower()


@dataclass
class SendBudget:
    """What is left of each limit for the rest of a batch, updated as emails are taken."""

    policy: SendingPolicy
    now: datetime
    # Emails already queued within each domain limit's period, by domain.
    domain_used: Counter[str] = field(default_factory=Counter)
    # Emails already queued today (UTC), for the warm-up cap.
    today_used: int = 0

    def blocked(self, address: str) -> tuple[datetime, str] | None:
        """(retry at, reason) when an email to ``address`` would break a limit now."""
        warmup = self.policy.warmup
        if warmup is not None:
            cap = warmup.cap_on(self.now.date())
            if cap is not None and self.today_used >= cap:
                tomorrow = datetime.combine(self.now.date() + timedelta(days=1), time(0), UTC)
                return tomorrow, f"warm-up cap of {cap} emails today reached"
        limit = self._limit_for(recipient_domain(address))
        if limit is not None and self.domain_used[limit.domain] >= limit.max_emails:
            retry = self.now + limit.per / _RECHECK_SHARE
            return retry, f"throttle for {limit.domain} ({limit.max_emails} per {limit.per})"
        return None

    def take(self, address: str) -> None:
        """Count one email to ``address`` against the limits."""
        self.today_used += 1
        limit = self._limit_for(recipient_domain(address))
        if limit is not None:
            self.domain_used[limit.domain] += 1

    def _limit_for(self, domain: str) -> DomainLimit | None:
        for limit in self.policy.domain_limits:
            if domain == limit.domain or domain.endswith("." + limit.domain):
                return limit
        return None


def load_budget(session: Session, policy: SendingPolicy, now: datetime) -> SendBudget | None:
    """Count what the limits have used so far (None when no limit is configured)."""
    if not policy.active:
        return None
    budget = SendBudget(policy, now)
    if policy.warmup is not None and policy.warmup.cap_on(now.date()) is not None:
        midnight = datetime.combine(now.date(), time(0), UTC)
        budget.today_used = (
            session.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.kind == "campaign", Message.queued_at >= midnight)
            )
            or 0
        )
    for limit in policy.domain_limits:
        budget.domain_used[limit.domain] = (
            session.scalar(
                select(func.count())
                .select_from(Message)
                .where(
                    Message.kind == "campaign",
                    Message.queued_at > now - limit.per,
                    func.lower(Message.to_address).like(f"%@{limit.domain}")
                    | func.lower(Message.to_address).like(f"%.{limit.domain}"),
                )
            )
            or 0
        )
    return budget
