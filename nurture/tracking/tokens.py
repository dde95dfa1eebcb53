"""Signed tokens for the public URLs in emails (open pixel, unsubscribe, preferences).

Each message has a random token; URLs carry it signed with the instance secret, so a
tampered or invented token is recognised without a database look-up.
"""

from __future__ import annotations

import secrets

from itsdangerous import BadSignature, Signer

_SALT = "nurture.message"


def new_message_token() -> str:
    """A random, URL-safe token naming one message (22 characters, 128 bits)."""
    return secrets.token_urlsafe(16)


class MessageSigner:
    """Signs and checks message tokens with the instance secret."""

    def __init__(self, secret_key: str) -> None:
        self._signer = Signer(secret_key, salt=_SALT)

    def sign(self, token: str) -> str:
        """``token.signature``, safe to put in a URL path."""
        return self._signer.sign(token).decode("ascii")

    def unsign(self, signed: str) -> str | None:
        """The token, or None when the signature does not match (tampered or foreign)."""
        try:
            return self._signer.unsign(signed).decode("ascii")
        except (BadSignature, UnicodeError):
            return None


def message_urls(public_url: str, signed: str) -> dict[str, str]:
    """The per-message URLs the templates and headers use."""
    return {
        "unsubscribe_url": f"{public_url}/u/{signed}",
        "preferences_url": f"{public_url}/u/{signed}/preferences",
        "open_pixel_url": f"{public_url}/t/o/{signed}.gif",
    }
