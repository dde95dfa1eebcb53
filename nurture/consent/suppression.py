"""The suppression list: addresses that campaigns must never mail again.

Entries are keyed by an HMAC-SHA256 of the normalised address with the instance pepper
(``Settings.suppression_pepper``), never by the address, so an erased person stays
suppressed without the address being kept. The lead row carries a copy
(``suppressed_at``, ``suppression_reason``) so the engine's per-send check
(``nurture.consent.rules.is_mailable``) is a column read, not a query.

The pepper travels with the session: ``Runtime`` puts it in ``Session.info`` under
``PEPPER_KEY``; callers without a runtime session may pass ``pepper=`` explicitly.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from nurture.consent import audit
from nurture.models import Lead, Message, Suppression
from nurture.platform import hooks
from nurture.platform.addresses import normalise_email
from nurture.platform.db import among, rows_affected
from nurture.platform.runtime import PEPPER_KEY

REASONS = ("unsubscribed", "hard_bounce", "complaint", "erased", "manual")
# Reasons that also count as the person withdrawing from marketing (unsubscribed_at).
_WITHDRAWALS = frozenset({"unsubscribed", "complaint", "erased"})
# What an admin may take off the list by hand: a hard bounce (the mailbox works again, or
# the bounce was misread) and a manual entry. An unsubscribe, a complaint or an erasure is
# the person's own decision: only the person can reverse it, by new consent (a confirmed
# opt-in, the preference centre), never an admin.
LIFTABLE_BY_ADMIN = frozenset({"hard_bounce", "manual"})


class SuppressionError(ValueError):
    """A refused suppression change; nothing was changed. The message is for people."""


def lift_refusal(reason: str, *, unsubscribed: bool, withdrawn: bool) -> str | None:
    """Why an admin may not lift a suppression with ``reason`` (pure), or None when they
    may. ``unsubscribed``/``withdrawn``: the lead also unsubscribed or withdrew consent."""
    if reason == "unsubscribed":
        return "the person unsubscribed; only they can subscribe again"
    if reason == "complaint":
        return "the person reported an email as spam; only they can subscribe again"
    if reason == "erased":
        return "the person's data was erased at their request"
    if reason not in LIFTABLE_BY_ADMIN:
        return f"a suppression for {reason!r} cannot be lifted by hand"
    if unsubscribed or withdrawn:
        return "the person also unsubscribed or withdrew consent; only they can subscribe again"
    return None


@lru_cache(maxsize=8192)
def email_hash(email: str, pepper: str) -> str:
    """The suppression key of an already normalised address (pure).

    Remembered for the latest addresses: an import's batch looks each of its addresses up
    for an erasure, then for a suppression, then writes it in the audit log."""
    return hmac.digest(pepper.encode(), email.encode(), hashlib.sha256).hex()


def canonical_email(raw: str) -> str:
    """The address as leads store it; addresses the validator rejects (odd bounce
    recipients) are still suppressed, lower-cased and stripped."""
    try:
        return normalise_email(raw)
    except ValueError:
        return raw.strip().lower()


def session_pepper(session: Session, pepper: str | None = None) -> str:
    """The pepper given, or the one the runtime attached to the session."""
    value = pepper or session.info.get(PEPPER_KEY)
    if not value:
        raise RuntimeError(
            "no suppression pepper: use a Runtime session (runtime.sessions) or pass pepper="
        )
    return value


def hash_for(session: Session, email: str, *, pepper: str | None = None) -> str:
    """The suppression key of ``email`` (any spelling) with the session's pepper."""
    return email_hash(canonical_email(email), session_pepper(session, pepper))


def suppress(
    session: Session,
    lead_or_email: Lead | str,
    *,
    reason: str,
    source: str,
    now: datetime,
    detail: Mapping[str, Any] | None = None,
    actor: str = "system",
    pepper: str | None = None,
) -> Suppression:
    """Put an address on the suppression list, in the caller's transaction.

    Works for addresses with or without a lead. A lead is marked suppressed (and, for
    unsubscribes, complaints and erasure, unsubscribed), its live enrolments are made due
    now so they exit at the next tick, and its deferred retries are cancelled, so nothing
    more goes out. Suppressing an already suppressed address updates the reason and still
    writes an audit row. ``detail`` goes to the audit log: never put an address in it.
    """
    if reason not in REASONS:
        raise ValueError(f"unknown suppression reason {reason!r}; one of {', '.join(REASONS)}")
    lead, email = _resolve(session, lead_or_email)
    key = email_hash(email, session_pepper(session, pepper))
    entry = session.scalar(select(Suppression).where(Suppression.email_hash == key))
    if entry is None:
        entry = Suppression(
            email_hash=key, reason=reason, source=source[:100], created_at=now, updated_at=now
        )
        session.add(entry)
    elif entry.reason != "erased" or reason == "erased":
        # "erased" is the strongest reason: a later bounce must not make it look ordinary.
        entry.reason, entry.source, entry.updated_at = reason, source[:100], now
    if lead is not None:
        mark_lead_suppressed(lead, reason=entry.reason, now=now)
        if reason in _WITHDRAWALS and lead.unsubscribed_at is None:
            lead.unsubscribed_at = now
        lead.updated_at = now
        _stop_sending(session, lead, now)
    audit.record(
        session,
        action="suppression.added",
        lead_id=lead.id if lead is not None else None,
        email_hash=key,
        detail={"reason": reason, "source": source, **(detail or {})},
        actor=actor,
        now=now,
    )
    return entry


def mark_lead_suppressed(lead: Lead, *, reason: str, now: datetime) -> None:
    """Copy a suppression onto the lead row (keeps the first time, the latest reason)."""
    if lead.suppressed_at is None:
        lead.suppressed_at = now
    lead.suppression_reason = reason


def is_suppressed(session: Session, email: str, *, pepper: str | None = None) -> bool:
    """True when the address (any spelling) is on the suppression list."""
    key = hash_for(session, email, pepper=pepper)
    return session.scalar(select(Suppression.id).where(Suppression.email_hash == key)) is not None


def suppressions_for(
    session: Session, emails: Iterable[str], *, pepper: str | None = None
) -> dict[str, Suppression]:
    """Suppression entries for normalised addresses, by address (one query)."""
    secret = session_pepper(session, pepper)
    keys = {email_hash(email, secret): email for email in emails}
    if not keys:
        return {}
    rows = session.scalars(select(Suppression).where(among(session, Suppression.email_hash, keys)))
    return {keys[row.email_hash]: row for row in rows}


def erased_among(session: Session, emails: Iterable[str], *, pepper: str | None = None) -> set[str]:
    """The normalised addresses among ``emails`` whose person was erased at their request
    (and has not opted in again since: new consent lifts the suppression)."""
    found = suppressions_for(session, emails, pepper=pepper)
    return {email for email, entry in found.items() if entry.reason == "erased"}


def lift(
    session: Session,
    lead_or_email: Lead | str,
    *,
    source: str,
    now: datetime,
    actor: str,
    detail: Mapping[str, Any] | None = None,
    pepper: str | None = None,
) -> bool:
    """Take an address off the suppression list because the person gave new, explicit
    consent (a confirmed double opt-in, a resubscribe in the preference centre).

    The caller records that consent; this only removes the block. Returns False when the
    address was not suppressed.
    """
    lead, email = _resolve(session, lead_or_email)
    key = email_hash(email, session_pepper(session, pepper))
    removed = rows_affected(
        session.execute(delete(Suppression).where(Suppression.email_hash == key))
    )
    was_marked = lead is not None and lead.suppressed_at is not None
    if lead is not None:
        lead.suppressed_at = None
        lead.suppression_reason = None
        lead.unsubscribed_at = None
        lead.updated_at = now
    if not removed and not was_marked:
        return False
    audit.record(
        session,
        action="suppression.lifted",
        lead_id=lead.id if lead is not None else None,
        email_hash=key,
        detail={"source": source, **(detail or {})},
        actor=actor,
        now=now,
    )
    if lead is not None:
        # Mailable again: campaigns it could not enter while suppressed get another look.
        session.flush()
        hooks.publish(hooks.leads_changed, session, leads=[lead], changed={}, now=now)
    return True


def lift_by_admin(
    session: Session, email: str, *, actor: str, now: datetime, pepper: str | None = None
) -> str:
    """Take ``email`` off the suppression list on an admin's word, where
    :func:`lift_refusal` allows it; returns the reason it had. SuppressionError (nothing
    changed) when it is not suppressed or may not be lifted by hand."""
    lead, address = _resolve(session, email)
    key = email_hash(address, session_pepper(session, pepper))
    entry = session.scalar(select(Suppression).where(Suppression.email_hash == key))
    reason = entry.reason if entry is not None else (lead.suppression_reason if lead else None)
    if reason is None:
        raise SuppressionError("that address is not on the suppression list")
    refusal = lift_refusal(
        reason,
        unsubscribed=lead is not None and lead.unsubscribed_at is not None,
        withdrawn=lead is not None and lead.consent_status == "withdrawn",
    )
    if refusal:
        raise SuppressionError(refusal)
    lift(
        session,
        lead if lead is not None else address,
        source="admin",
        now=now,
        actor=actor,
        detail={"reason": reason},
        pepper=pepper,
    )
    return reason


def _resolve(session: Session, lead_or_email: Lead | str) -> tuple[Lead | None, str]:
    if isinstance(lead_or_email, Lead):
        return lead_or_email, canonical_email(lead_or_email.email)
    email = canonical_email(lead_or_email)
    lead = session.scalar(select(Lead).where(Lead.email == email))
    return lead, email


def _stop_sending(session: Session, lead: Lead, now: datetime) -> None:
    # Enrolments exit at the next tick (the drip rules see the lead is not mailable);
    # making them due now means that happens before any wait would have ended.
    session.flush()
    hooks.publish(hooks.lead_changed, session, lead=lead, now=now)
    # A deferred retry is a send too: cancel it rather than let the retry loop deliver it.
    session.execute(
        update(Message)
        .where(Message.lead_id == lead.id, Message.status.in_(("deferred", "queued")))
        .values(status="cancelled", next_attempt_at=None, error=f"suppressed at {now:%Y-%m-%d}")
    )
