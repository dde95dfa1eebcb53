"""API-key authentication for the JSON API.

``require_api_key`` guards a view: the key comes as ``Authorization: Bearer <key>`` or, for
tools that cannot set that header, ``X-API-Key: <key>``. The verified key is in ``g.api_key``.
The presented key is never logged or echoed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import current_app, g, request

from nurture.auth.apikeys import verify_api_key
from nurture.models import ApiKey
from nurture.platform.db import transaction, utcnow
from nurture.web.errors import json_error

F = TypeVar("F", bound=Callable[..., Any])


def presented_api_key() -> str | None:
    """The key the request carries, or None."""
    authorization = request.headers.get("Authorization", "")
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    header = request.headers.get("X-API-Key", "").strip()
    return header or None


def has_valid_api_key() -> bool:
    """Whether the request carries a valid, unrevoked key (checked as ``require_api_key``
    checks it), for a hook that must not answer before the key check would."""
    presented = presented_api_key()
    return presented is not None and _verified(presented) is not None


def _verified(presented: str) -> ApiKey | None:
    runtime = current_app.extensions["nurture"]
    # Its own short transaction: verification may refresh last_used_at, and that must not
    # depend on whether the request's own work later commits or rolls back.
    with transaction(runtime.sessions) as session:
        return verify_api_key(session, presented, now=utcnow())


def _unauthorized(message: str, *, invalid: bool) -> Any:
    # RFC 6750: name the scheme and, when a token was sent but refused, say so.
    challenge = 'Bearer realm="nurture"' + (', error="invalid_token"' if invalid else "")
    return json_error(401, "unauthorized", message, headers={"WWW-Authenticate": challenge})


def require_api_key(view: F) -> F:
    """Reject the request with a JSON 401 unless it carries a valid, unrevoked API key."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        presented = presented_api_key()
        if presented is None:
            return _unauthorized(
                "an API key is required: send 'Authorization: Bearer <key>'", invalid=False
            )
        key = _verified(presented)
        if key is None:
            return _unauthorized("the API key is not valid or has been revoked", invalid=True)
        g.api_key = key
        return view(*args, **kwargs)

    return cast(F, wrapper)
