"""Data for the leads journeys: a lead with a history, made through the engine's use cases."""

from __future__ import annotations

from datetime import timedelta

from nurture.leads.service import upsert_leads
from nurture.leads.validation import validate_lead_data
from nurture.models import Event
from nurture.platform.db import transaction, utcnow
from nurture.platform.runtime import Runtime


def lead_with_history(runtime: Runtime) -> int:
    """Ada, with a page view by her and a machine open (Apple's privacy proxy)."""
    fields, errors = validate_lead_data(
        {"email": "ada@acme.example", "first_name": "Ada", "last_name": "Lovelace",
         "company": "Acme Labs", "title": "Head of Analytics", "consent_status": "granted"},
        default_timezone="UTC",
    )  # fmt: skip
    assert fields is not None, errors
    now = utcnow()
    with transaction(runtime.sessions) as session:
        (result,) = upsert_leads(session, [fields], now=now - timedelta(days=2), source="api")
        lead_id = result.lead.id
        session.add_all(
            [
                Event(lead_id=lead_id, type="page.viewed", occurred_at=now - timedelta(hours=3),
                      recorded_at=now, properties={"url": "https://brightpath.example/pricing"}),
                Event(lead_id=lead_id, type="email.opened", occurred_at=now - timedelta(hours=1),
                      recorded_at=now, is_machine=True,
                      machine_reasons=["apple mail privacy protection"], properties={}),
            ]
        )  # fmt: skip
    return lead_id
