"""New leads inserted as rows join the session as a flush would leave them: persistent,
unchanged, every column loaded, stored as the ORM stores them; and what is not a new lead
(or has an account without an id) is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select, text

from nurture.leads.new_leads import insert_new_leads
from nurture.models import Account, Lead
from tests.integration.engine_support import T0


def _lead(email: str) -> Lead:
    return Lead(email=email, first_name="Ada", created_at=T0, updated_at=T0, stage_changed_at=T0)


def _stored(session, email: str) -> dict:
    lead = session.scalar(select(Lead).where(Lead.email == email))
    skip = {"id", "email", "account_id"}
    return {c.key: getattr(lead, c.key) for c in inspect(Lead).column_attrs if c.key not in skip}


def _raw(session, email: str) -> dict:
    """The row as the database holds it (on SQLite, timestamps are text whose format the
    ORM's own comparisons rely on)."""
    row = session.execute(text("SELECT * FROM leads WHERE email = :e"), {"e": email}).one()
    return {k: v for k, v in row._mapping.items() if k not in {"id", "email", "account_id",
                                                                 "email_domain"}}  # fmt: skip


def test_inserted_leads_are_loaded_persistent_and_stored_as_a_flush_stores_them(runtime):
    with runtime.sessions() as session:
        account = Account(domain="acme.example", attributes={}, created_at=T0, updated_at=T0)
        session.add(account)
        session.flush()
        lead = _lead("row@acme.example")
        insert_new_leads(session, [(lead, account), (_lead("alone@example.com"), None)])
        state = inspect(lead)
        assert state.persistent and not state.modified and not state.unloaded
        assert lead.id is not None and lead.account is account
        assert lead.account_id == account.id
        session.add(_lead("flushed@example.com"))
        session.commit()
    with runtime.sessions() as session:
        # The same columns as the unit of work writes (defaults, derived keys, NULLs).
        assert _stored(session, "alone@example.com") == _stored(session, "flushed@example.com")
        assert _raw(session, "alone@example.com") == _raw(session, "flushed@example.com")


def test_a_lead_with_an_id_or_an_account_without_one_is_refused(runtime):
    with runtime.sessions() as session:
        old = _lead("old@example.com")
        session.add(old)
        session.flush()
        with pytest.raises(ValueError, match="not new"):
            insert_new_leads(session, [(old, None)])
        pending = Account(domain="new.example", attributes={}, created_at=T0, updated_at=T0)
        with pytest.raises(ValueError, match="no id yet"):
            insert_new_leads(session, [(_lead("new@new.example"), pending)])
