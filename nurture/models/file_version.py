"""Columns shared by the version tables of the files marketers edit (scoring model, sales
team, ICP and readiness): what ``nurture.files.versions.activate`` reads and writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nurture.platform.db import utcnow


class FileVersionColumns:
    """One validated revision of a file: its source, parsed spec and activation state.

    The tables add their own ``id``, ``number`` and ``checksum`` (unique per table, or per
    kind where one table holds two kinds of file).
    """

    name: Mapped[str] = mapped_column(String(200))
    source_path: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(Text)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    is_active: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None]
