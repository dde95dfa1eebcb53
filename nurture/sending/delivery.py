"""What leaves the building: the types every transport shares, and the retry policy.

The sending engine renders a message to bytes, wraps it in an :class:`Outgoing` and hands
batches to a :class:`Transport`. A transport answers each item with a
:class:`DeliveryResult` and never raises for a delivery problem: a refused connection, a
rejected recipient or a full disk are all *results*, so the engine can record them per
message and schedule the next attempt with :func:`retry_delay`.

Two transports exist: :class:`nurture.sending.smtp.SmtpTransport` (a real SMTP server, chosen when
``settings.smtp_url`` is set) and :class:`nurture.sending.outbox.OutboxTransport` (rows in the local
database, the default). :func:`nurture.sending.transports.make_transport` picks one.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parseaddr
from typing import Literal, Protocol, runtime_checkable

DeliveryStatus = Literal["sent", "temporary", "permanent"]


@dataclass(frozen=True)
class Outgoing:
    """One message ready to go: envelope addresses and the finished RFC 5322 bytes."""

    # The Message row this is the delivery of (None for mail outside the messages table).
    message_pk: int | None
    envelope_from: str
    to: str
    # The whole message, headers and body, with CRLF line endings (RFC 5321). Kept out of
    # the repr: 14 KB of MIME in a log line helps nobody.
    data: bytes = field(repr=False)
    subject: str | None = None


@dataclass(frozen=True)
class DeliveryResult:
    """What happened to one :class:`Outgoing`.

    ``sent``: the server accepted the message (or the outbox stored it). ``temporary``: try
    again later (4xx replies, network trouble). ``permanent``: do not try again (5xx
    replies). ``code`` is the SMTP reply code when there was one; ``reply`` is a readable
    explanation (the server's own text when it answered); ``command`` the SMTP command the
    server refused (``MAIL``, ``RCPT`` or ``DATA``; empty when none was).
    """

    status: DeliveryStatus
    code: int | None
    reply: str
    command: str = ""

    @property
    def ok(self) -> bool:
        """True when the message was accepted."""
        return self.status == "sent"

    @property
    def retryable(self) -> bool:
        """True when a later attempt may succeed."""
        return self.status == "temporary"

    @classmethod
    def from_reply(cls, code: int, reply: str, command: str = "") -> DeliveryResult:
        """Classify an SMTP reply: 2xx sent, 4xx temporary, 5xx permanent.

        Anything else (a garbled reply, an unexpected 1xx/3xx) is treated as temporary: it
        says nothing about the message itself, so giving up on it would be wrong.
        """
        if 200 <= code < 300:
            return cls("sent", code, reply)
        if 500 <= code < 600:
            return cls("permanent", code, reply, command)
        return cls("temporary", code, reply, command)

    @classmethod
    def temporary_failure(cls, reply: str, code: int | None = None) -> DeliveryResult:
        """A failure worth retrying, usually with no SMTP reply (network, timeouts)."""
        return cls("temporary", code, reply)

    def __str__(self) -> str:
        code = f"{self.code} " if self.code is not None else ""
        return f"{self.status}: {code}{self.reply}"


@runtime_checkable
class Transport(Protocol):
    """Something that delivers :class:`Outgoing` messages.

    Implementations are thread-safe, keep whatever connections they need between calls
    and return one result per item, in order. They raise only for programming errors.
    """

    def send(self, item: Outgoing) -> DeliveryResult:
        """Deliver one message."""
        ...

    def send_many(self, items: Sequence[Outgoing]) -> list[DeliveryResult]:
        """Deliver a batch; the results are in the order of ``items``."""
        ...

    def close(self) -> None:
        """Release connections; the transport may be used again afterwards."""
        ...


# Delay before attempt n+1 after n failed attempts: fast at first for blips (greylisting
# asks for a few minutes), then spaced out so a server that is down for hours is not
# hammered. The last value is the cap.
RETRY_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=4),
)
RETRY_JITTER = 0.2


def retry_delay(
    attempt: int, *, jitter: bool = True, rng: random.Random | None = None
) -> timedelta:
    """How long to wait after the ``attempt``-th failed attempt (1-based) before the next.

    1 min, 5 min, 15 min, 1 h, then 4 h for every later attempt. With ``jitter`` (the
    default) the delay is spread ±20 % at random so that a batch deferred together by one
    outage is not retried in one burst; pass ``jitter=False`` (or a seeded ``rng``) for
    deterministic values in tests.
    """
    if attempt < 1:
        raise ValueError(f"attempt must be 1 or more, got {attempt}")
    base = RETRY_SCHEDULE[min(attempt, len(RETRY_SCHEDULE)) - 1]
    if not jitter:
        return base
    # Not a security decision: spreading retries only needs a cheap, uniform spread.
    factor = (rng or random).uniform(1 - RETRY_JITTER, 1 + RETRY_JITTER)
    return timedelta(seconds=round(base.total_seconds() * factor, 3))


def envelope_address(header_value: str) -> str:
    """The bare address of a From-style header (``"Name <a@b.example>"`` → ``a@b.example``),
    for use as the SMTP envelope sender."""
    _, address = parseaddr(header_value)
    if not address or "@" not in address:
        raise ValueError(f"no email address in {header_value!r}")
    return address
