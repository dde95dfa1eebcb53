"""Helpers for the JSON API tests: an API key's headers."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask

from nurture.auth.apikeys import create_api_key
from nurture.platform.db import transaction

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def api_headers(app: Flask) -> dict[str, str]:
    """The headers of a request carrying a new, valid API key."""
    with transaction(app.extensions["nurture"].sessions) as session:
        _key, plaintext = create_api_key(session, "tests", now=NOW)
    return {"Authorization": f"Bearer {plaintext}"}
