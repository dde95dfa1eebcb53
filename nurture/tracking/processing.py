"""Turning raw tracking hits into timeline events, in batches, off the request path.

``process_pending_hits`` claims unprocessed hits (``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
so several processes share the work; SQLite's write lock serialises them), classifies each
one (``nurture.tracking.machine_rules``), writes ``events`` rows with the machine flag and reasons,
identifies web visitors and merges their anonymous history, and asks scoring to recompute
the leads touched, all in one transaction: a failure leaves the hits unprocessed for the
next pass, nothing is half-recorded.

``HitProcessor`` runs it in a background thread (``nurture serve``): it polls every
``interval`` and is woken at once when this process captures a hit, so a human click
reaches the score in well under a second.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from nurture.models import Event, Lead, Message
from nurture.models.tracking import TrackingHit
from nurture.platform import hooks
from nurture.platform.addresses import email_or_none
from nurture.platform.db import checkpoint_wal, peek, transaction
from nurture.platform.outage import OutageGate
from nurture.platform.runtime import Runtime
from nurture.tracking.capture import HitLock
from nurture.tracking.clock import instance_now
from nurture.tracking.engagement import note_engagement, record_activity, refresh_engagement
from nurture.tracking.links import LinkSigner, link_signer
from nurture.tracking.machine_rules import HitView, Thresholds, burst_of_all_links, machine_reasons
from nurture.tracking.visitors import (
    WAITING_VISITORS,
    email_visitor_id,
    identify,
    identify_by_email,
    leads_of,
    merge_waiting_visitors,
    visitor,
)

log = logging.getLogger(__name__)

EMAIL_KINDS = ("open", "click", "honeypot")
WEB_EVENT_TYPES = {"page": "page.viewed", "form": "form.submitted"}
THRESHOLDS = Thresholds()
# Hits per processing transaction, and the pause between two on SQLite (HitProcessor).
SQLITE_PASS = 32
SQLITE_PAUSE = 0.002
POSTGRES_PASS = 500


@dataclass
class _Batch:
    """What one pass works out before writing."""

    events: list[dict[str, Any]] = field(default_factory=list)
    touched: set[int] = field(default_factory=set)
    # (visitor id, lead id) and (visitor id, email) identifications, applied after the
    # events are inserted so the batch's own anonymous events move too.
    by_lead: list[tuple[str, int]] = field(default_factory=list)
    by_email: list[tuple[str, str]] = field(default_factory=list)
    # Leads with a human open or click in this batch: their mailbox works.
    engaged: set[int] = field(default_factory=set)
    # Messages with a click recorded earlier that turned out to be a machine's.
    reflagged: set[int] = field(default_factory=set)


def process_pending_hits(runtime: Runtime, now: datetime, limit: int = POSTGRES_PASS) -> int:
    """Process up to ``limit`` unprocessed hits in one transaction; how many were processed."""
    signer = link_signer(runtime.settings.secret_key)
    with transaction(runtime.sessions) as session:
        hits = session.scalars(
            select(TrackingHit)
            .where(TrackingHit.processed.is_(False))
            .order_by(TrackingHit.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if not hits:
            return 0
        batch = _Batch()
        _email_hits(session, [h for h in hits if h.kind in EMAIL_KINDS], batch, now)
        _web_hits(session, [h for h in hits if h.kind not in EMAIL_KINDS], signer, batch, now)
        if batch.events:
            session.execute(insert(Event), batch.events)
            record_activity(session, batch.events)
            note_engagement(session, batch.events)
        refresh_engagement(session, batch.reflagged)
        for visitor_id, lead_id in batch.by_lead:
            identify(session, visitor_id, lead_id, now)
            batch.touched.add(lead_id)
        for visitor_id, email in batch.by_email:
            found = identify_by_email(session, visitor_id, email, now)
            if found is not None:
                batch.touched.add(found)
        session.execute(
            update(TrackingHit)
            .where(TrackingHit.id.in_([h.id for h in hits]))
            .values(processed=True)
        )
        if batch.engaged:
            # Soft bounces count towards suppression only while nothing shows the mailbox
            # works: a person opening or clicking starts the count again (a full mailbox
            # last spring must not add up with one today).
            session.execute(
                update(Lead)
                .where(Lead.id.in_(sorted(batch.engaged)), Lead.soft_bounce_count > 0)
                .values(soft_bounce_count=0)
            )
        rescore(session, batch.touched, now)
    return len(hits)


def hits_waiting(runtime: Runtime) -> bool:
    """Whether any captured hit is unprocessed: a read that takes no write lock, so an idle
    processor polling for work never makes a capture wait (``peek``)."""
    with peek(runtime.engine) as connection:
        query = select(TrackingHit.id).where(TrackingHit.processed.is_(False)).limit(1)
        return connection.execute(query).first() is not None


def merge_waiting(runtime: Runtime, now: datetime) -> int:
    """Move the history of visitors whose address now belongs to a lead; leads touched."""
    with peek(runtime.engine) as connection:
        if connection.execute(WAITING_VISITORS.limit(1)).first() is None:
            # Nothing to merge (the usual case): no write transaction.
            return 0
    with transaction(runtime.sessions) as session:
        touched = merge_waiting_visitors(session, now)
        rescore(session, touched, now)
    return len(touched)


def rescore(session: Session, lead_ids: Iterable[int], now: datetime) -> None:
    """Hand the leads whose timeline changed to scoring (score, temperature, track)."""
    ids = sorted(set(lead_ids))
    if not ids:
        return
    hooks.publish(hooks.timelines_changed, session, lead_ids=ids, now=now)


# ---------------------------------------------------------------- email hits


def _email_hits(
    session: Session, hits: Sequence[TrackingHit], batch: _Batch, now: datetime
) -> None:
    if not hits:
        return
    messages = {
        m.token: m
        for m in session.execute(
            select(
                Message.id,
                Message.token,
                Message.lead_id,
                Message.campaign_id,
                Message.step_key,
                Message.sent_at,
            ).where(Message.token.in_({h.token for h in hits if h.token}))
        )
    }
    reasons = {
        hit.id: machine_reasons(
            HitView(
                kind=hit.kind,
                method=hit.method,
                user_agent=hit.user_agent,
                network=hit.network,
                prefetch=hit.prefetch,
                occurred_at=hit.occurred_at,
                sent_at=messages[hit.token].sent_at if hit.token in messages else None,
            ),
            THRESHOLDS,
        )
        for hit in hits
    }
    _message_rules(session, hits, messages, reasons, batch)
    for hit in hits:
        message = messages.get(hit.token or "")
        if message is None:
            continue  # the message was deleted since it was sent: nothing to attach to
        properties: dict[str, Any] = {"hit_id": hit.id}
        if hit.kind == "open":
            kind = "email.opened"
        else:
            kind = "email.clicked"
            properties.update(url=hit.url or "", link=hit.link_index)
            if hit.kind == "honeypot":
                properties["honeypot"] = True
        batch.events.append(
            {
                "lead_id": message.lead_id,
                "type": kind,
                "message_id": message.id,
                "campaign_id": message.campaign_id,
                "step_key": message.step_key,
                "occurred_at": hit.occurred_at,
                "recorded_at": now,
                "is_machine": bool(reasons[hit.id]),
                "machine_reasons": reasons[hit.id],
                "properties": properties,
            }
        )
        batch.touched.add(message.lead_id)
        if not reasons[hit.id]:
            batch.engaged.add(message.lead_id)


def _message_rules(
    session: Session,
    hits: Sequence[TrackingHit],
    messages: dict[str, Any],
    reasons: dict[int, list[str]],
    batch: _Batch,
) -> None:
    """The rules that need a message's other clicks: every link within seconds, and the
    honeypot. Clicks recorded by an earlier pass are re-flagged on the timeline."""
    clicks = [h for h in hits if h.kind in ("click", "honeypot") and h.token in messages]
    if not clicks:
        return
    span = max(THRESHOLDS.honeypot_window, THRESHOLDS.all_links_within)
    start = min(h.occurred_at for h in clicks) - span
    end = max(h.occurred_at for h in clicks) + span
    related: dict[str, list[Any]] = defaultdict(list)
    for row in session.execute(
        select(
            TrackingHit.id,
            TrackingHit.token,
            TrackingHit.kind,
            TrackingHit.occurred_at,
            TrackingHit.link_index,
            TrackingHit.link_count,
        ).where(
            TrackingHit.token.in_({h.token for h in clicks}),
            TrackingHit.kind.in_(("click", "honeypot")),
            TrackingHit.occurred_at.between(start, end),
        )
    ):
        related[row.token].append(row)
    earlier: dict[tuple[int, datetime], set[str]] = defaultdict(set)
    for token, rows in related.items():
        flagged: dict[int, set[str]] = defaultdict(set)
        plain = [r for r in rows if r.kind == "click"]
        count = max((r.link_count or 0 for r in plain), default=0)
        burst = burst_of_all_links(
            ((r.occurred_at, r.link_index) for r in plain), count, THRESHOLDS
        )
        for r in plain:
            if burst and r.occurred_at in burst:
                flagged[r.id].add("all-links-clicked")
        traps = [r.occurred_at for r in rows if r.kind == "honeypot"]
        for r in plain:
            if any(abs(r.occurred_at - at) <= THRESHOLDS.honeypot_window for at in traps):
                flagged[r.id].add("honeypot")
        times = {r.id: r.occurred_at for r in rows}
        for hit_id, why in flagged.items():
            if hit_id in reasons:
                reasons[hit_id] = list(dict.fromkeys([*reasons[hit_id], *sorted(why)]))
            else:
                earlier[(messages[token].id, times[hit_id])] |= why
    if earlier:
        _reflag(session, earlier, batch)


def _reflag(session: Session, earlier: dict[tuple[int, datetime], set[str]], batch: _Batch) -> None:
    """Mark clicks recorded by an earlier pass as machine, keeping their other reasons."""
    message_ids = {message_id for message_id, _ in earlier}
    events = session.scalars(
        select(Event).where(
            Event.message_id.in_(message_ids),
            Event.type == "email.clicked",
            Event.occurred_at.in_({at for _, at in earlier}),
        )
    ).all()
    for event in events:
        why = earlier.get((event.message_id or 0, event.occurred_at))
        if not why:
            continue
        merged = list(dict.fromkeys([*(event.machine_reasons or []), *sorted(why)]))
        if merged != event.machine_reasons or not event.is_machine:
            event.machine_reasons = merged
            event.is_machine = True
            if event.message_id is not None:
                batch.reflagged.add(event.message_id)
            if event.lead_id is not None:
                batch.touched.add(event.lead_id)


# ---------------------------------------------------------------- web and API hits


def _web_hits(
    session: Session,
    hits: Sequence[TrackingHit],
    signer: LinkSigner,
    batch: _Batch,
    now: datetime,
) -> None:
    if not hits:
        return
    known = leads_of(session, (h.visitor_id for h in hits if h.visitor_id))
    identity_tokens: dict[int, str] = {}
    for hit in hits:
        nv = (hit.payload or {}).get("nv")
        if isinstance(nv, str) and hit.visitor_id:
            token = signer.load_identity(nv, hit.occurred_at)
            if token:
                identity_tokens[hit.id] = token
    message_leads = (
        dict(
            session.execute(
                select(Message.token, Message.lead_id).where(
                    Message.token.in_(set(identity_tokens.values()))
                )
            ).all()
        )
        if identity_tokens
        else {}
    )
    emails = {
        h.id: e for h in hits if (e := email_or_none(str((h.payload or {}).get("email") or "")))
    }
    lead_by_email = _leads_by_email(session, emails.values())
    for hit in hits:
        payload = hit.payload or {}
        visitor_id = hit.visitor_id
        lead_id = known.get(visitor_id or "")
        email = emails.get(hit.id)
        if hit.id in identity_tokens and visitor_id:
            identified = message_leads.get(identity_tokens[hit.id])
            if identified is not None:
                batch.by_lead.append((visitor_id, identified))
                lead_id = lead_id or identified
        if email:
            if visitor_id:
                batch.by_email.append((visitor_id, email))
            lead_id = lead_id or lead_by_email.get(email)
            if lead_id is None and visitor_id is None:
                # An event for an address no lead has yet: kept under an id derived from
                # the address, and merged when the lead appears.
                visitor_id = email_visitor_id(email)
                visitor(session, visitor_id, now).email = email
        reasons = machine_reasons(
            HitView(
                kind=hit.kind,
                method=hit.method,
                user_agent=hit.user_agent,
                network=hit.network,
                prefetch=hit.prefetch,
            ),
            THRESHOLDS,
        )
        if hit.kind == "api":
            # Server-side events come from the marketer's own systems, not a browser.
            reasons = []
        batch.events.append(
            {
                "lead_id": lead_id,
                "anonymous_id": visitor_id,
                "type": payload.get("type") or WEB_EVENT_TYPES.get(hit.kind, hit.kind),
                "occurred_at": _occurred(payload, hit.occurred_at),
                "recorded_at": now,
                "is_machine": bool(reasons),
                "machine_reasons": reasons,
                "properties": _web_properties(hit, payload),
            }
        )
        if lead_id is not None:
            batch.touched.add(lead_id)


def _leads_by_email(session: Session, emails: Iterable[str]) -> dict[str, int]:
    wanted = set(emails)
    if not wanted:
        return {}
    return dict(session.execute(select(Lead.email, Lead.id).where(Lead.email.in_(wanted))).all())


def _occurred(payload: dict[str, Any], received: datetime) -> datetime:
    value = payload.get("occurred_at")
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return received
        if parsed.tzinfo is not None:
            return parsed
    return received


def _web_properties(hit: TrackingHit, payload: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = dict(payload.get("properties") or {})
    if hit.url:
        properties.setdefault("url", hit.url)
    for key in ("title", "referrer", "form"):
        if payload.get(key):
            properties.setdefault(key, payload[key])
    return properties


# ---------------------------------------------------------------- the background thread


class HitProcessor:
    """Runs ``process_pending_hits`` in a daemon thread: every ``interval`` seconds, and at
    once when ``wake()`` is called (the tracking endpoints do, after capturing a hit)."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        interval: float = 0.2,
        gather: float = 0.05,
        limit: int | None = None,
        merge_every: timedelta = timedelta(seconds=5),
    ) -> None:
        self.runtime = runtime
        self.interval = interval
        self.gather = gather
        sqlite = runtime.engine.dialect.name == "sqlite"
        # A processing transaction holds SQLite's single write lock from start to end, and
        # every captured hit must wait for it: small transactions, with a pause between
        # them in which the serving processes' commits get the lock (docs/benchmarks.md).
        # PostgreSQL's row locks never block the capture's INSERTs: big, cheaper passes.
        self.limit = limit or (SQLITE_PASS if sqlite else POSTGRES_PASS)
        self.pause = SQLITE_PAUSE if sqlite else 0.0
        self.merge_every = merge_every
        self._wake = threading.Event()
        self._stop = threading.Event()
        # A database outage is said once and ridden out (nurture.platform.outage).
        self._gate = OutageGate()
        self._thread = threading.Thread(target=self._run, name="nurture-hits", daemon=True)
        self._last_merge: datetime | None = None
        # On SQLite the passes queue with the capture's commits on one kernel lock
        # (nurture.tracking.capture.HitLock) instead of polling SQLite's busy handler.
        self._lock = HitLock(runtime.engine, keep_open=False)

    def start(self) -> HitProcessor:
        self._thread.start()
        return self

    def wake(self) -> None:
        """Ask for a pass now (cheap; safe from any thread)."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Finish the pass in progress and stop."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def run_once(self, now: datetime) -> int:
        """One pass: every pending hit, then (now and then) waiting visitor merges."""
        done = 0
        # Idle passes (the worker's every second, the processor's between wake-ups) only
        # look: no lock file, no write transaction for the captures to wait on.
        while hits_waiting(self.runtime):
            with self._lock.held():
                processed = process_pending_hits(self.runtime, now, self.limit)
            done += processed
            if processed < self.limit:
                break
            if self.pause:
                time.sleep(self.pause)
        if done:
            # The capture's commits leave SQLite's checkpoints to this pass (tracking/capture).
            checkpoint_wal(self.runtime.engine)
        if self._last_merge is None or now - self._last_merge >= self.merge_every:
            merge_waiting(self.runtime, now)
            self._last_merge = now
        return done

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            if self._stop.is_set():
                break
            # A short pause lets a burst of hits gather into one pass: under load, one
            # transaction per few hundred hits instead of one per hit; alone, a click
            # still reaches its score within ~50 ms.
            self._stop.wait(self.gather)
            self._wake.clear()
            try:
                self._gate.run(lambda: self.run_once(instance_now(self.runtime)))
            except Exception:
                # The hits stay unprocessed in the database; the next pass tries again.
                log.exception("processing tracking hits failed; retrying")
                self._stop.wait(1.0)
