"""The send engine reads a batch's leads as plain rows (``load_lead_rows``): every rule and
template context must see exactly what the ORM lead would show it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from nurture.campaigns.facts import lead_facts_base, lead_fields
from nurture.campaigns.vocabulary import ACCOUNT_FIELD_NAMES
from nurture.consent.rules import is_mailable, lead_not_mailable_reason, wants_topic
from nurture.leads.fields import CONDITION_FIELDS
from nurture.models import Account, Lead, load_lead_rows
from nurture.models.lead_row import ACCOUNT_ROW_COLUMNS, LEAD_ROW_COLUMNS
from nurture.platform.db import transaction
from nurture.rendering.context import build_context
from tests.integration.engine_support import T0, add_lead

URLS = {
    "unsubscribe_url": "https://n.example/u/x",
    "preferences_url": "https://n.example/u/x/preferences",
    "open_pixel_url": "https://n.example/t/o/x.gif",
}


def test_the_rows_carry_every_field_campaign_conditions_compare():
    assert set(CONDITION_FIELDS) <= set(LEAD_ROW_COLUMNS)
    assert set(ACCOUNT_FIELD_NAMES) <= set(ACCOUNT_ROW_COLUMNS)


def test_rules_and_templates_see_the_same_lead_from_a_row_as_from_the_orm(runtime):
    with transaction(runtime.sessions) as session:
        account = Account(
            domain="acme.example",
            name="Acme",
            industry="Logistics",
            employees=120,
            annual_revenue=9_000_000,
            branches=3,
            country="PL",
            attributes={"crm": "Pipedrive"},
        )
        session.add(account)
        session.flush()
        account_id = account.id
    with_account = add_lead(
        runtime,
        "ada@acme.example",
        last_name="Lovelace",
        title="CTO",
        locale="pl-PL",
        source="webinar",
        utm_campaign="spring",
        attributes={"plan": "pro", "seats": 12},
        topic_opt_outs=["product-news"],
        score_value=40.0,
        score_as_of=T0 - timedelta(days=3),
        score_half_life=86400.0 * 7,
        account_id=account_id,
    )
    unsubscribed = add_lead(
        runtime, "gone@else.example", first_name=None, unsubscribed_at=T0 - timedelta(days=1)
    )
    pending = add_lead(runtime, "maybe@else.example", consent_status="pending", lawful_basis=None)
    ids = [with_account, unsubscribed, pending]

    with runtime.sessions() as session:
        rows = load_lead_rows(session, ids)
        leads = {
            lead.id: lead
            for lead in session.scalars(
                select(Lead).where(Lead.id.in_(ids)).options(selectinload(Lead.account))
            )
        }
        assert set(rows) == set(ids)
        for lead_id in ids:
            row, lead = rows[lead_id], leads[lead_id]
            assert lead_facts_base(row, T0) == lead_facts_base(lead, T0)
            assert lead_fields(row) == lead_fields(lead)
            assert is_mailable(row) == is_mailable(lead)
            assert lead_not_mailable_reason(row) == lead_not_mailable_reason(lead)
            assert wants_topic(row, "product-news") == wants_topic(lead, "product-news")
            assert row.full_name == lead.full_name
            settings = runtime.settings
            assert build_context(row, urls=URLS, settings=settings) == build_context(
                lead, urls=URLS, settings=settings
            )
    assert rows[with_account].account is not None
    assert rows[with_account].account.name == "Acme"
    assert rows[unsubscribed].account is None
    assert not is_mailable(rows[unsubscribed]) and not is_mailable(rows[pending])
    assert not wants_topic(rows[with_account], "product-news")


def test_no_ids_read_nothing(runtime):
    with runtime.sessions() as session:
        assert load_lead_rows(session, []) == {}
