"""What a send batch reads from the database: what deciding and rendering need, not more.

A graded lead carries the fit grading's explanations (JSON lists of a kilobyte or more); a
worker sending to thousands of leads must not fetch and decode them for every email.
"""

from __future__ import annotations

from nurture.sending.engine import Engine
from tests.integration.engine_support import T0, add_lead, enrol, messages_for, statements

EXPLANATION = {"kind": "gate", "text": "gate 'big-enough': unknown, account.employees is missing"}


def test_a_graded_lead_gets_its_email_without_its_fit_explanations_being_read(drip):
    lead = add_lead(
        drip,
        "graded@acme.example",
        fit_score=15,
        fit_grade="D",
        fit_reasons=[EXPLANATION] * 20,
        fit_missing=[{"field": "account.employees", "text": "account.employees"}] * 5,
    )
    enrol(drip, lead)
    with statements(drip) as sent:
        report = Engine(drip).tick(T0)

    assert report.sent == 1
    [message] = messages_for(drip, lead)
    assert message.status == "sent"
    lead_reads = [s for s in sent if "FROM leads" in s]
    assert lead_reads, "the tick read the lead"
    assert not [s for s in lead_reads if "fit_reasons" in s or "fit_missing" in s]
