"""Signed, expiring, one-time links that let a person set their password.

Two kinds: an *invitation* (a new account without a password; valid for days) and a
*reset* (a forgotten password; valid for an hour). The token carries the user's id and a
fingerprint of the current password hash, so it stops working the moment a password is set
(one use) or the account changes its password another way; the signature (itsdangerous,
keyed by the instance secret) makes it tamper-proof and its timestamp makes it expire.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from nurture.models import User

INVITE = "invite"
RESET = "reset"
LIFETIMES: dict[str, timedelta] = {INVITE: timedelta(days=3), RESET: timedelta(hours=1)}
_SALT = "nurture.password-link"


def fingerprint(user: User) -> str:
    """A short digest of what makes a session or link of this user valid: the password hash
    and whether the account is active. Changing either invalidates both."""
    state = f"{user.id}:{user.password_hash or ''}:{user.disabled_at is not None}"
    return hashlib.sha256(state.encode()).hexdigest()[:16]


def password_token(secret: str, user: User, kind: str) -> str:
    """The token of a set-password link of ``kind`` (INVITE or RESET) for ``user``."""
    if kind not in LIFETIMES:
        raise ValueError(f"unknown link kind {kind!r}")
    return URLSafeTimedSerializer(secret, salt=_SALT).dumps([kind, user.id, fingerprint(user)])


def user_for_token(session: Session, secret: str, token: str, *, now: datetime) -> User | None:
    """The active user a valid, unexpired, unused token belongs to; None for anything else
    (tampered, expired, already used, account disabled)."""
    serializer = URLSafeTimedSerializer(secret, salt=_SALT)
    try:
        payload, signed_at = serializer.loads(token, return_timestamp=True)
        kind, user_id, print_ = payload
    except (BadSignature, ValueError, TypeError):
        return None
    lifetime = LIFETIMES.get(kind) if isinstance(kind, str) else None
    if lifetime is None or not isinstance(user_id, int) or now - signed_at > lifetime:
        return None
    user = session.get(User, user_id)
    if user is None or not user.active or fingerprint(user) != print_:
        return None
    return user
