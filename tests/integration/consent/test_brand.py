"""The brand use cases on a real database: defaults from the environment, changes saved
and audited, the cache dropped when a change commits (and kept when it rolls back)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from nurture.consent.brand import BrandError, current_brand, update_brand
from nurture.models import AuditLog
from nurture.platform.db import transaction

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def _brand(runtime):  # type: ignore[no-untyped-def]
    with runtime.sessions() as session:
        return current_brand(session, runtime.settings)


def test_the_brand_starts_from_the_environment_and_a_saved_change_is_seen_at_once(runtime):
    before = _brand(runtime)
    assert (before.company_name, before.name_is_default) == ("Brightpath Analytics", True)
    with transaction(runtime.sessions) as session:
        changed = update_brand(
            session,
            company_name="  Acme   Rockets ",
            postal_address="",
            primary_colour="0A3D62",
            actor="user:1",
            now=NOW,
        )
    assert changed == ["company_name", "primary_colour"]
    after = _brand(runtime)
    assert (after.company_name, after.primary_colour, after.updated_by) == (
        "Acme Rockets",
        "#0a3d62",
        "user:1",
    )
    assert after.postal_address == runtime.settings.postal_address
    with runtime.sessions() as session:
        [row] = session.query(AuditLog).filter(AuditLog.action == "brand.changed").all()
        assert (row.actor, row.detail) == ("user:1", {"fields": ["company_name", "primary_colour"]})


def test_a_refused_or_rolled_back_change_leaves_the_brand_as_it_was(runtime):
    _brand(runtime)
    with pytest.raises(BrandError) as refused, transaction(runtime.sessions) as session:
        update_brand(
            session,
            company_name="Acme",
            postal_address="",
            primary_colour="#eeeeee",
            actor="t",
            now=NOW,
        )
    assert refused.value.field == "primary_colour"
    with pytest.raises(RuntimeError), transaction(runtime.sessions) as session:
        update_brand(
            session, company_name="Acme", postal_address="", primary_colour="", actor="t", now=NOW
        )
        raise RuntimeError("the request failed later")
    assert _brand(runtime).company_name == "Brightpath Analytics"
    with runtime.sessions() as session:
        assert session.query(AuditLog).count() == 0
