"""Webhook signatures. Pure.

Each request carries ``X-Nurture-Signature: t=<unix seconds>,v1=<hex>`` where ``v1`` is
HMAC-SHA256, keyed with the webhook secret, of ``"<t>." + body``. Signing the timestamp
with the body lets a receiver refuse a replayed request: check the signature, then that
``t`` is within a few minutes of its own clock. ``v1`` names the scheme, so a future scheme
can be sent alongside during a migration (a receiver checks the ones it knows).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Nurture-Signature"
# How far a receiver should accept the timestamp from its own clock (seconds).
DEFAULT_TOLERANCE = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>." + body``."""
    message = str(int(timestamp)).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The value of ``X-Nurture-Signature`` for one request."""
    return f"t={int(timestamp)},v1={signature(secret, timestamp, body)}"


def verify(
    secret: str, header: str | None, body: bytes, now: float, tolerance: int = DEFAULT_TOLERANCE
) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and its timestamp is within
    ``tolerance`` seconds of ``now`` (what a receiver does; used by the tests)."""
    if not header:
        return False
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts.get("t", [""])[0])
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, given) for given in parts.get("v1", []))
