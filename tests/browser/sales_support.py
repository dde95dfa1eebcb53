"""Helpers for the sales journeys: a team and handoffs in the live app's database."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from nurture.platform.db import utcnow
from tests.browser.web_support import LiveApp
from tests.integration.sales_support import ANN, hand_off_to, sync_sales_team


def two_handoffs_for_ann(live: LiveApp, folder: Path) -> tuple[int, int]:
    """The team file synced and two leads handed to Ann (the older one first)."""
    runtime = live.runtime
    now = utcnow()
    sync_sales_team(runtime, folder, now - timedelta(days=1))
    first = hand_off_to(
        runtime, ANN, "ada@acme.example", now - timedelta(minutes=15), company="Acme Robotics"
    )
    second = hand_off_to(
        runtime, ANN, "bo@bolt.example", now - timedelta(minutes=5), company="Bolt Logistics"
    )
    return first, second
