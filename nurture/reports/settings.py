"""What the admin's settings pages show: users, API keys, webhook endpoints and their
delivery log, the warm-up state, the suppression list and the overview.

Every list is bounded: people and keys are few; the delivery log and the suppression list
are keyset-paged over indexed columns (``webhook_deliveries.id``, the partial index of
suppressed leads' addresses), never counted whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.consent.suppression import lift_refusal, suppressions_for
from nurture.models import ApiKey, Lead, Suppression, User, WebhookDelivery
from nurture.platform.addresses import normalise_email
from nurture.platform.config import Settings
from nurture.sending.policy import load_budget, sending_policy

PAGE_SIZE = 50
T = TypeVar("T")


@dataclass(frozen=True)
class UserRow:
    """One account as the users page lists it."""

    id: int
    email: str
    name: str
    role: str
    active: bool
    has_password: bool
    created_at: datetime
    last_login_at: datetime | None


def users(session: Session) -> list[UserRow]:
    """Every account: active ones first, then by address (people are few: no paging)."""
    rows = session.scalars(select(User).order_by(User.disabled_at.is_not(None), User.email))
    return [
        UserRow(
            u.id,
            u.email,
            u.name,
            u.role,
            u.active,
            u.password_hash is not None,
            u.created_at,
            u.last_login_at,
        )
        for u in rows
    ]


def user_by_id(session: Session, user_id: int) -> UserRow | None:
    """One account, or None."""
    user = session.get(User, user_id)
    if user is None:
        return None
    return UserRow(
        user.id,
        user.email,
        user.name,
        user.role,
        user.active,
        user.password_hash is not None,
        user.created_at,
        user.last_login_at,
    )


@dataclass(frozen=True)
class ApiKeyRow:
    """One API key (never its secret)."""

    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def api_keys(session: Session) -> list[ApiKeyRow]:
    """Active keys first, newest first."""
    rows = session.scalars(
        select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.id.desc())
    )
    return [
        ApiKeyRow(k.id, k.name, k.prefix, k.created_at, k.last_used_at, k.revoked_at) for k in rows
    ]


def api_key_by_id(session: Session, key_id: int) -> ApiKeyRow | None:
    """One key, or None."""
    k = session.get(ApiKey, key_id)
    if k is None:
        return None
    return ApiKeyRow(k.id, k.name, k.prefix, k.created_at, k.last_used_at, k.revoked_at)


# ---------------------------------------------------------------- webhooks


@dataclass(frozen=True)
class Endpoint:
    """A configured webhook endpoint and what is waiting or failed for it."""

    url: str
    pending: int
    failed: int


def webhook_endpoints(session: Session, settings: Settings) -> list[Endpoint]:
    """The endpoints of ``NURTURE_WEBHOOK_URLS``, with their pending and failed deliveries
    (counted through the status index; delivered ones, the bulk, are not counted)."""
    counts: dict[tuple[str, str], int] = {}
    for url, status, count in session.execute(
        select(WebhookDelivery.url, WebhookDelivery.status, func.count())
        .where(WebhookDelivery.status.in_(("pending", "failed")))
        .group_by(WebhookDelivery.url, WebhookDelivery.status)
    ):
        counts[(url, status)] = int(count)
    return [
        Endpoint(url, counts.get((url, "pending"), 0), counts.get((url, "failed"), 0))
        for url in settings.webhook_urls
    ]


@dataclass(frozen=True)
class DeliveryRow:
    """One line of the delivery log."""

    id: int
    created_at: datetime
    event: str
    handoff_id: int | None
    url: str
    status: str
    attempts: int
    response_code: int | None
    last_error: str | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None

    @property
    def retryable(self) -> bool:
        """The retry use case accepts it (anything not yet delivered)."""
        return self.status != "delivered"


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a keyset-paged list; ``next_after`` is the key of the page after."""

    rows: list[T]
    next_after: str | None


def webhook_deliveries(
    session: Session, *, status: str | None = None, after: int | None = None
) -> Page[DeliveryRow]:
    """The delivery log, newest first, ``PAGE_SIZE`` at a time, after delivery ``after``."""
    query = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(PAGE_SIZE + 1)
    if status:
        query = query.where(WebhookDelivery.status == status)
    if after is not None:
        query = query.where(WebhookDelivery.id < after)
    found = list(session.scalars(query))
    rows = [
        DeliveryRow(
            d.id,
            d.created_at,
            d.event,
            d.handoff_id,
            d.url,
            d.status,
            d.attempts,
            d.response_code,
            None if d.status == "delivered" else d.response_excerpt,
            d.last_attempt_at,
            d.next_attempt_at if d.status == "pending" else None,
        )
        for d in found[:PAGE_SIZE]
    ]
    more = len(found) > PAGE_SIZE
    return Page(rows, str(rows[-1].id) if more else None)


# ---------------------------------------------------------------- warm-up


@dataclass(frozen=True)
class WarmupDay:
    day: date
    cap: int


@dataclass(frozen=True)
class Warmup:
    """The warm-up of a new sending domain: where it stands today."""

    state: str  # off | not_started | active | finished
    start: date | None = None
    day_number: int | None = None  # 1 on the start day
    cap_today: int | None = None
    sent_today: int = 0
    schedule: tuple[WarmupDay, ...] = ()

    @property
    def remaining_today(self) -> int | None:
        return None if self.cap_today is None else max(self.cap_today - self.sent_today, 0)


def warmup(session: Session, settings: Settings, now: datetime) -> Warmup:
    """Today's cap and use of ``NURTURE_WARMUP_START``/``_SCHEDULE``, counted the way the
    engine counts it (campaign emails queued since midnight UTC)."""
    policy = sending_policy(settings)
    plan = policy.warmup
    if plan is None:
        return Warmup("off")
    schedule = tuple(
        WarmupDay(plan.start + timedelta(days=i), cap) for i, cap in enumerate(plan.schedule)
    )
    today = now.date()
    index = (today - plan.start).days
    if index < 0:
        return Warmup("not_started", plan.start, None, None, 0, schedule)
    if index >= len(plan.schedule):
        return Warmup("finished", plan.start, index + 1, None, 0, schedule)
    budget = load_budget(session, policy, now)
    sent = budget.today_used if budget is not None else 0
    return Warmup("active", plan.start, index + 1, plan.cap_on(today), sent, schedule)


# ---------------------------------------------------------------- suppression list


@dataclass(frozen=True)
class SuppressionRow:
    """One suppressed address: why, since when, and whether an admin may lift it."""

    email: str
    reason: str
    source: str | None
    suppressed_at: datetime
    lead_id: int | None
    lift_refusal: str | None  # None: an admin may lift it


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def suppressions(
    session: Session, *, query: str = "", exact: bool = False, after: str | None = None
) -> Page[SuppressionRow]:
    """Suppressed addresses by address, ``PAGE_SIZE`` at a time.

    ``exact``: the one address ``query`` (found through its hash, so it works for
    addresses no lead has, e.g. an erased person's). Otherwise the suppressed leads whose
    address starts with ``query`` (all of them when it is empty), after address ``after``.
    """
    text = query.strip().lower()
    if exact:
        return Page(_exact(session, text), None)
    statement = (
        select(Lead)
        .where(Lead.suppressed_at.is_not(None))
        .order_by(Lead.email)
        .limit(PAGE_SIZE + 1)
    )
    if text:
        statement = statement.where(Lead.email.like(_like_prefix(text), escape="\\"))
    if after:
        statement = statement.where(Lead.email > after)
    leads = list(session.scalars(statement))
    page, more = leads[:PAGE_SIZE], len(leads) > PAGE_SIZE
    entries = suppressions_for(session, [lead.email for lead in page])
    rows = [_row_of(lead, lead.email, entries.get(lead.email)) for lead in page]
    return Page(rows, page[-1].email if more else None)


def _exact(session: Session, text: str) -> list[SuppressionRow]:
    try:
        address = normalise_email(text)
    except ValueError:
        address = text
    if not address:
        return []
    entry = suppressions_for(session, [address]).get(address)
    lead = session.scalar(select(Lead).where(Lead.email == address))
    if entry is None and (lead is None or lead.suppressed_at is None):
        return []
    return [_row_of(lead, address, entry)]


def _row_of(lead: Lead | None, email: str, entry: Suppression | None) -> SuppressionRow:
    reason = (entry.reason if entry else None) or (lead.suppression_reason if lead else None)
    reason = reason or "manual"
    when = entry.created_at if entry else None
    if when is None and lead is not None:
        when = lead.suppressed_at
    assert when is not None
    refusal = lift_refusal(
        reason,
        unsubscribed=lead is not None and lead.unsubscribed_at is not None,
        withdrawn=lead is not None and lead.consent_status == "withdrawn",
    )
    return SuppressionRow(
        email, reason, entry.source if entry else None, when, lead.id if lead else None, refusal
    )


# ---------------------------------------------------------------- overview


@dataclass(frozen=True)
class Overview:
    """The state of each settings section, for the overview page."""

    users_active: int
    users_disabled: int
    admins_active: int
    invitations_open: int  # active accounts without a password yet
    api_keys_active: int
    api_keys_revoked: int
    webhook_endpoints: int
    webhooks_pending: int
    webhooks_failed: int
    smtp_configured: bool
    dkim_configured: bool
    warmup: Warmup


def overview(session: Session, settings: Settings, now: datetime) -> Overview:
    """Counts over the small tables (users, keys) and the status index of webhooks."""
    people = users(session)
    keys = session.execute(
        select(ApiKey.revoked_at.is_(None), func.count()).group_by(ApiKey.revoked_at.is_(None))
    ).all()
    key_counts = {bool(active): int(count) for active, count in keys}
    hooks = dict(
        session.execute(
            select(WebhookDelivery.status, func.count())
            .where(WebhookDelivery.status.in_(("pending", "failed")))
            .group_by(WebhookDelivery.status)
        ).all()
    )
    return Overview(
        users_active=sum(1 for u in people if u.active),
        users_disabled=sum(1 for u in people if not u.active),
        admins_active=sum(1 for u in people if u.active and u.role == "admin"),
        invitations_open=sum(1 for u in people if u.active and not u.has_password),
        api_keys_active=key_counts.get(True, 0),
        api_keys_revoked=key_counts.get(False, 0),
        webhook_endpoints=len(settings.webhook_urls),
        webhooks_pending=int(hooks.get("pending", 0)),
        webhooks_failed=int(hooks.get("failed", 0)),
        smtp_configured=bool(settings.smtp_url),
        dkim_configured=settings.dkim_key_file is not None,
        warmup=warmup(session, settings, now),
    )
