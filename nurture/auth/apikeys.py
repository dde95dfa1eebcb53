"""API keys: created with a random secret, shown once, stored only as a hash.

A key looks like ``nrt_<prefix>_<secret>``. The prefix (8 characters, stored in clear) finds
the row without scanning the table and lets people name a key ("revoke nrt_k3x9a2b7") without
revealing it; the secret proves possession. Keys are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.models import ApiKey

KEY_SCHEME = "nrt"
PREFIX_LENGTH = 8
# 32 random bytes = 256 bits of entropy, urlsafe-base64 encoded (43 characters).
SECRET_BYTES = 32
# last_used_at is bookkeeping for humans ("is this key still in use?"); writing it on every
# request would turn every API read into a write, so it is refreshed at most once a minute.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
_NAME_MAX = 100


def hash_api_key(plaintext: str) -> str:
    """The stored form of a key: SHA-256 of the whole key, hex-encoded (64 characters).

    A fast hash is right here, unlike for passwords. Slow, salted hashes (bcrypt, scrypt,
    argon2) exist because passwords are chosen by people and can be guessed from a stolen
    hash. This secret is 256 random bits: no dictionary contains it and no amount of hashing
    speed makes 2^256 guesses feasible, so a stolen hash gives nothing. A slow hash would
    only add tens of milliseconds of CPU to every API request.
    """
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def create_api_key(session: Session, name: str, *, now: datetime) -> tuple[ApiKey, str]:
    """Create a key named ``name``; return the row and the plaintext key.

    The plaintext exists only in the return value: show it to the user once.
    """
    name = " ".join(name.split())
    if not name:
        raise ValueError("an API key needs a name (who or what uses it)")
    if len(name) > _NAME_MAX:
        raise ValueError(f"an API key name has at most {_NAME_MAX} characters")
    while True:
        prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
        # 36^8 ≈ 2.8e12 prefixes make a collision improbable, but it costs one lookup to
        # make it impossible (the unique constraint would otherwise fail the transaction).
        if session.scalars(select(ApiKey.id).where(ApiKey.prefix == prefix)).first() is None:
            break
    plaintext = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    key = ApiKey(name=name, prefix=prefix, key_hash=hash_api_key(plaintext), created_at=now)
    session.add(key)
    session.flush()
    return key, plaintext


def parse_prefix(presented: str) -> str | None:
    """The lookup prefix of a presented key, or None when it is not shaped like one."""
    scheme, _, rest = presented.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != KEY_SCHEME or len(prefix) != PREFIX_LENGTH or not secret:
        return None
    if any(ch not in _PREFIX_ALPHABET for ch in prefix):
        return None
    return prefix


def verify_api_key(session: Session, presented: str, *, now: datetime) -> ApiKey | None:
    """The active key matching ``presented``, or None (unknown, malformed or revoked).

    Refreshes ``last_used_at`` at most once a minute.
    """
    prefix = parse_prefix(presented.strip())
    if prefix is None:
        return None
    key = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).one_or_none()
    if key is None:
        return None
    # compare_digest takes the same time wherever the strings differ, so response timing
    # reveals nothing about how much of a guessed hash was right.
    if not hmac.compare_digest(key.key_hash, hash_api_key(presented.strip())):
        return None
    if key.revoked_at is not None:
        return None
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        key.last_used_at = now
    return key


def revoke_api_key(session: Session, prefix: str, *, now: datetime) -> ApiKey | None:
    """Revoke the key with ``prefix`` (also accepts ``nrt_<prefix>`` or the whole key).

    Returns the key, or None when there is none. Revoking twice keeps the first time.
    """
    text = prefix.strip()
    if text.startswith(f"{KEY_SCHEME}_"):
        text = text.split("_")[1]
    key = session.scalars(select(ApiKey).where(ApiKey.prefix == text)).one_or_none()
    if key is not None and key.revoked_at is None:
        key.revoked_at = now
    return key


def list_api_keys(session: Session) -> list[ApiKey]:
    """Every key, oldest first (only names, prefixes and dates: there are no secrets)."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))
