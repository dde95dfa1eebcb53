"""What a send batch reads from the database: what deciding and rendering need, not more.

A graded lead carries the fit grading's explanations (JSON lists of a kilobyte or more); a
worker sending to thousands of leads must not fetch and decode them for every email.
"""

from __future__ import annotations

import pytest

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


@pytest.mark.postgres
def test_a_batch_reads_its_facts_with_statements_that_do_not_grow_with_the_batch(drip):
    # The driver parses each new statement text in Python: a statement whose text depends
    # on how many enrolments a batch has (an IN list) is parsed again for every batch.
    def fact_reads(count: int, start: int) -> list[str]:
        for index in range(count):
            enrol(drip, add_lead(drip, f"lead{start + index}@acme.example"))
        with statements(drip) as sent:
            assert Engine(drip).tick(T0).sent == count
        return [s for s in sent if s.lstrip().startswith("SELECT") and "messages" in s]

    one, three = fact_reads(1, 0), fact_reads(3, 10)
    assert one and sorted(one) == sorted(three)
