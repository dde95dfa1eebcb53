"""Reading the ``--now`` timestamps commands take, in a module of its own so that a command
that needs it does not import another command's module (and all that one imports)."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from nurture.platform.db import utcnow


def parse_timestamp(value: str | None) -> datetime:
    """An ISO 8601 timestamp (naive means UTC), or the current time when None."""
    if value is None:
        return utcnow()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 time, e.g. 2026-12-01T09:30"
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
