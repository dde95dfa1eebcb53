"""A report's PostgreSQL settings (no JIT, more memory for its hash tables) hold for its
own transaction only: the pooled connection goes back to the server's defaults for
whatever runs on it next."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from nurture.analytics import funnel_report, parse_filter
from nurture.analytics.scope import REPORT_SETTINGS

pytestmark = pytest.mark.postgres


def _settings(session: Session) -> dict[str, str]:
    return {
        name: session.scalar(text("SELECT current_setting(:name)"), {"name": name})
        for name in REPORT_SETTINGS
    }


def test_a_reports_settings_end_with_its_transaction(runtime):
    report = parse_filter(start="2026-01-01", end="2026-02-01", today=date(2026, 3, 1))
    with runtime.engine.connect() as connection, Session(connection) as session:
        before = _settings(session)
        session.rollback()
        funnel_report(session, report)
        assert _settings(session) == REPORT_SETTINGS
        session.rollback()
        assert _settings(session) == before
    assert before != REPORT_SETTINGS
