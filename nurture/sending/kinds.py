"""Message kinds: what each row of ``messages`` is, and how the engine treats it.

Every email is a ``Message`` row with a ``kind``. Campaign steps are ``campaign``; the
others are transactional: queued "deferred, due now" by the feature that needs them
(:func:`queue_message`), so the engine's retry pass renders and sends them at its next tick
through the same transport, retries and outcome recording as campaign email.

A kind is *internal* when its recipient is not the lead the row is about (a rep's handoff
notification, the SLA's reminder and escalation): no click tracking, no open pixel, no
unsubscribe header, and its outcome is recorded as ``notification.*`` on the lead's
timeline, never as an email the lead got.

Templates of transactional kinds see more than the lead (the handoff, the SLA clock): the
feature that owns the kind registers a :data:`ContextProvider` for it at start-up
(``nurture.wiring``), so the engine renders them without knowing the features above it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.models import Message, User
from nurture.platform.config import Settings
from nurture.sending.mime import new_message_id
from nurture.tracking.tokens import new_message_token


@dataclass(frozen=True)
class MessageKind:
    """One kind of email: its template (None: the campaign step names it) and whether its
    recipient is someone other than the lead."""

    name: str
    template: str | None
    internal: bool = False


CAMPAIGN = MessageKind("campaign", None)
CONFIRMATION = MessageKind("confirmation", "confirm-subscription")
HANDOFF = MessageKind("handoff", "sales-handoff", internal=True)
AUTO_REPLY = MessageKind("auto_reply", "handoff-auto-reply")
SLA_REMINDER = MessageKind("sla_reminder", "sla-reminder", internal=True)
SLA_ESCALATION = MessageKind("sla_escalation", "sla-escalation", internal=True)
# A hand-raise answered without a handoff of its own (held for review, already with sales):
# the same auto-reply, and the note to marketing's reviewers.
HAND_RAISE_REPLY = MessageKind("hand_raise_reply", "handoff-auto-reply")
HAND_RAISE_REVIEW = MessageKind("hand_raise_review", "hand-raise-review", internal=True)

KINDS: dict[str, MessageKind] = {
    kind.name: kind
    for kind in (
        CAMPAIGN,
        CONFIRMATION,
        HANDOFF,
        AUTO_REPLY,
        SLA_REMINDER,
        SLA_ESCALATION,
        HAND_RAISE_REPLY,
        HAND_RAISE_REVIEW,
    )
}
# Kinds whose recipient is not the lead: never tracked, never unsubscribe-able as the lead.
INTERNAL_KINDS = frozenset(kind.name for kind in KINDS.values() if kind.internal)

# What a transactional template sees besides the lead, for the messages of some kinds:
# (session, messages of those kinds, settings, now) -> {message id: extra context}. ``now``
# is the engine's (simulated) time of the send, so relative times are computed when shown.
ContextProvider = Callable[
    [Session, Sequence[Message], Settings, datetime], dict[int, dict[str, Any]]
]
_providers: dict[str, ContextProvider] = {}


def register_context(kinds: Sequence[MessageKind], provider: ContextProvider) -> None:
    """Make ``provider`` the source of extra template context for ``kinds`` (start-up)."""
    for kind in kinds:
        _providers[kind.name] = provider


def template_extras(
    session: Session, messages: Sequence[Message], settings: Settings, now: datetime
) -> dict[int, dict[str, Any]]:
    """Extra template context for the transactional messages among ``messages``, by id,
    as of ``now`` (the moment they are rendered)."""
    by_provider: dict[ContextProvider, list[Message]] = {}
    for message in messages:
        provider = _providers.get(message.kind)
        if provider is not None:
            by_provider.setdefault(provider, []).append(message)
    extras: dict[int, dict[str, Any]] = {}
    for provider, wanted in by_provider.items():
        extras.update(provider(session, wanted, settings, now))
    return extras


def recipient_locales(session: Session, addresses: Collection[str]) -> dict[str, str]:
    """The language each of ``addresses`` reads, for those that are a user's with one set
    (lower-cased address -> locale): internal emails go to colleagues, not to the lead."""
    if not addresses:
        return {}
    lowered = {address.lower() for address in addresses}
    rows = session.execute(
        select(User.email, User.locale).where(
            func.lower(User.email).in_(lowered), User.locale.is_not(None)
        )
    )
    return {email.lower(): locale for email, locale in rows if locale}


def queue_message(
    session: Session,
    kind: MessageKind,
    *,
    lead_id: int,
    to_address: str,
    mail_from: str,
    now: datetime,
) -> Message:
    """Add one transactional email, due at once: "deferred, due now", so the engine's retry
    pass renders and sends it at its next tick."""
    if kind.template is None:
        raise ValueError(f"{kind.name} messages are sent by campaigns, not queued")
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "localhost"
    message = Message(
        lead_id=lead_id,
        kind=kind.name,
        template=kind.template,
        to_address=to_address,
        message_id=new_message_id(domain).strip("<>"),
        token=new_message_token(),
        status="deferred",
        attempts=0,
        next_attempt_at=now,
        queued_at=now,
    )
    session.add(message)
    return message
