"""Passwords: hashed with argon2id (argon2-cffi), checked against a length and content
policy. Nothing here stores or logs a password."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 1024  # argon2 hashes any length; a megabyte "password" is an attack
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the account does not exist, so that a wrong email costs as much
    time as a wrong password and the answer time tells nobody which accounts exist. Made on
    first use, not at import: hashing costs ~0.3 s, which every command and worker paid at
    start-up."""
    return _hasher.hash("an account that does not exist")


def password_problem(password: str, *, email: str) -> str | None:
    """Why ``password`` may not be used, or None when it may."""
    if len(password) < MIN_LENGTH:
        return f"use at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"use at most {MAX_LENGTH} characters"
    if not password.strip():
        return "use more than spaces"
    folded, address = password.casefold(), email.casefold()
    local = address.split("@")[0]
    if folded in address or (len(local) >= 4 and local in folded):
        return "do not use your email address in the password"
    if len(set(password)) < 5:
        return "use more different characters"
    return None


def hash_password(password: str) -> str:
    """The argon2id hash to store."""
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored``; an empty or broken hash never matches (and
    costs the same time as a real check)."""
    try:
        return _hasher.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True when the hash was made with weaker parameters than today's (rehash at login)."""
    return _hasher.check_needs_rehash(stored)
