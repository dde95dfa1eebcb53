"""Webhook use cases: queue an event in the handoff's transaction, deliver due ones after
the commit (the worker and ``nurture tick``), retry by hand, list the log.

Delivery is at-least-once: a worker that dies after the receiver answered but before the
outcome is recorded sends that event again when its lease runs out. Receivers drop
duplicates by the body's ``id`` (also in the ``X-Nurture-Event-Id`` header).
"""

from __future__ import annotations

import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from nurture.handoff.webhooks.payload import event_body
from nurture.handoff.webhooks.signing import SIGNATURE_HEADER, signature_header
from nurture.models import Handoff, WebhookDelivery
from nurture.platform.db import is_sqlite, rows_affected, transaction
from nurture.platform.runtime import Runtime, settings_of
from nurture.sending.delivery import retry_delay

log = logging.getLogger(__name__)

USER_AGENT = "Nurture-Webhooks/1"
EXCERPT = 500
# The longest a Retry-After header may postpone the next attempt.
MAX_RETRY_AFTER = timedelta(hours=6)
# Receivers answering these are asked again later; other 4xx are a permanent "no".
RETRYABLE_CODES = frozenset({408, 425, 429})


def enqueue(
    session: Session,
    handoff: Handoff,
    event: str,
    now: datetime,
    *,
    extra: dict[str, Any] | None = None,
) -> list[WebhookDelivery]:
    """Queue ``event`` about ``handoff`` for every configured endpoint, due now; nothing
    when no endpoint is configured. Runs in the caller's transaction, so an event exists
    exactly when the change it reports was committed."""
    settings = settings_of(session)
    if settings is None or not settings.webhook_urls:
        return []
    event_id, body = event_body(
        session,
        handoff,
        event,
        now,
        secret_key=settings.secret_key,
        public_url=settings.public_url,
        extra=extra,
    )
    rows = [
        WebhookDelivery(
            event_id=event_id,
            event=event,
            handoff_id=handoff.id,
            url=url,
            body=body,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        for url in settings.webhook_urls
    ]
    session.add_all(rows)
    return rows


# ---------------------------------------------------------------- outcomes (pure)


@dataclass(frozen=True)
class Response:
    """What one attempt got: an HTTP status (None: no answer) and text."""

    code: int | None
    text: str
    duration_ms: int
    retry_after: timedelta | None = None


@dataclass(frozen=True)
class Decision:
    status: str  # delivered | pending | failed
    next_attempt_at: datetime | None


def decide(response: Response, attempts: int, max_attempts: int, now: datetime) -> Decision:
    """After the ``attempts``-th attempt: delivered on 2xx; again later (with backoff) on
    no answer, 5xx, 408, 425 or 429 while attempts remain; otherwise failed."""
    code = response.code
    if code is not None and 200 <= code < 300:
        return Decision("delivered", None)
    retryable = code is None or code >= 500 or code in RETRYABLE_CODES
    if not retryable or attempts >= max_attempts:
        return Decision("failed", None)
    delay = retry_delay(attempts)
    if response.retry_after is not None:
        delay = max(delay, min(response.retry_after, MAX_RETRY_AFTER))
    return Decision("pending", now + delay)


# ---------------------------------------------------------------- sending


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would re-send the signed body somewhere nobody configured (and urllib
    # turns a POST into a bodiless GET): the 3xx is recorded as the answer instead.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)

Sender = Callable[[str, bytes, dict[str, str], float], Response]


def http_post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Response:
    """POST ``body`` to ``url``; the answer, or ``code=None`` with the network error."""
    # The URL comes from NURTURE_WEBHOOK_URLS, which accepts only http(s).
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    started = time.perf_counter()
    try:
        with _OPENER.open(request, timeout=timeout) as answer:
            text = answer.read(EXCERPT * 4).decode("utf-8", "replace")
            code = answer.status
            retry_after = None
    except urllib.error.HTTPError as error:
        with error:
            text = error.read(EXCERPT * 4).decode("utf-8", "replace")
        code = error.code
        retry_after = _retry_after(error.headers.get("Retry-After"))
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        text, code, retry_after = f"network error: {reason}", None, None
    duration = int((time.perf_counter() - started) * 1000)
    return Response(code, text[:EXCERPT], duration, retry_after)


def _retry_after(value: str | None) -> timedelta | None:
    if value and value.strip().isdigit():
        return timedelta(seconds=int(value.strip()))
    return None


@dataclass(frozen=True)
class _Claimed:
    id: int
    event_id: str
    event: str
    url: str
    body: str
    attempts: int


def deliver_due(
    runtime: Runtime, now: datetime, *, limit: int = 50, sender: Sender | None = None
) -> int:
    """Send the deliveries due at ``now`` (at most ``limit``); returns how many were tried.

    Claims them in one short transaction (``SKIP LOCKED`` on PostgreSQL, and a lease so a
    dead worker's claim is taken again), POSTs them with no transaction open (four at a
    time, so one slow endpoint does not hold up the others), then records every outcome
    in one more transaction.
    """
    settings = runtime.settings
    lease = timedelta(seconds=settings.webhook_timeout * 2 + 60)
    with transaction(runtime.sessions) as session:
        query = (
            select(WebhookDelivery)
            .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit)
        )
        if not is_sqlite(runtime.engine):
            query = query.with_for_update(skip_locked=True)
        claimed = []
        for row in session.scalars(query):
            row.next_attempt_at = now + lease
            claimed.append(
                _Claimed(row.id, row.event_id, row.event, row.url, row.body, row.attempts)
            )
    if not claimed:
        return 0
    secret = settings.webhook_secret or ""
    send = sender or http_post

    def attempt(item: _Claimed) -> Response:
        body = item.body.encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "X-Nurture-Event": item.event,
            "X-Nurture-Event-Id": item.event_id,
            "X-Nurture-Delivery": str(item.id),
            # The timestamp of this attempt: a retry is signed afresh, the body is the same.
            SIGNATURE_HEADER: signature_header(secret, int(time.time()), body),
        }
        return send(item.url, body, headers, settings.webhook_timeout)

    if len(claimed) == 1:
        responses = [attempt(claimed[0])]
    else:
        with ThreadPoolExecutor(max_workers=min(4, len(claimed))) as pool:
            responses = list(pool.map(attempt, claimed))
    _record(runtime, claimed, responses, now)
    return len(claimed)


def _record(
    runtime: Runtime, claimed: Sequence[_Claimed], responses: Sequence[Response], now: datetime
) -> None:
    max_attempts = runtime.settings.webhook_max_attempts
    with transaction(runtime.sessions) as session:
        for item, response in zip(claimed, responses, strict=True):
            row = session.get(WebhookDelivery, item.id)
            if row is None:
                continue
            row.attempts = item.attempts + 1
            decision = decide(response, row.attempts, max_attempts, now)
            row.status = decision.status
            row.next_attempt_at = decision.next_attempt_at
            row.last_attempt_at = now
            row.response_code = response.code
            row.response_excerpt = response.text[:EXCERPT] or None
            row.duration_ms = response.duration_ms
            if decision.status == "delivered":
                row.delivered_at = now
            elif decision.status == "failed":
                # The URL may carry a token in its query string: log the host only.
                host = item.url.split("/")[2] if "//" in item.url else "?"
                log.warning(
                    "webhook %s (%s) to %s failed after %s attempt(s): %s",
                    item.id,
                    item.event,
                    host,
                    row.attempts,
                    response.code or response.text[:120],
                )


# ---------------------------------------------------------------- the log


def retry(session: Session, delivery_id: int, now: datetime) -> WebhookDelivery:
    """Make a delivery due now again (a failed one gets one more attempt at least).
    ``LookupError`` when there is no such delivery, ``ValueError`` when it was delivered."""
    row = session.get(WebhookDelivery, delivery_id)
    if row is None:
        raise LookupError(f"no webhook delivery {delivery_id}")
    if row.status == "delivered":
        raise ValueError(f"webhook delivery {delivery_id} was already delivered")
    # Past the attempt limit this is exactly one more attempt: a failure fails it again.
    row.status = "pending"
    row.next_attempt_at = now
    return row


def list_deliveries(
    session: Session, *, status: str | None = None, limit: int = 50
) -> list[WebhookDelivery]:
    """The newest deliveries first."""
    query = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
    if status:
        query = query.where(WebhookDelivery.status == status)
    return list(session.scalars(query))


def purge_deliveries(session: Session, *, now: datetime, retention: timedelta | None) -> int:
    """Delete delivered and failed deliveries created more than ``retention`` ago (their
    bodies hold the lead's contact data); pending ones stay. Returns how many went."""
    if retention is None:
        return 0
    return rows_affected(
        session.execute(
            delete(WebhookDelivery).where(
                WebhookDelivery.status.in_(("delivered", "failed")),
                WebhookDelivery.created_at < now - retention,
            )
        )
    )
