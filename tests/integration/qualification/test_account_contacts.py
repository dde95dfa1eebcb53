"""The account condition decides from the contacts ``readiness_verdicts`` reads (the people
who could be engaged, and the best grade of everyone) exactly as it decides from every
person at the account listed one by one."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlalchemy import select, update

from nurture.leads.service import upsert_leads
from nurture.leads.validation import LeadFields
from nurture.models import Lead
from nurture.models.lead import decayed_score
from nurture.platform.db import transaction
from nurture.qualification import evaluate, readiness_verdicts
from nurture.qualification.readiness import ContactFacts
from nurture.qualification.versions import active_readiness, sync_file
from tests.integration.engine_support import T0

ROOT = Path(__file__).resolve().parents[3]
FIRM = dict(company_domain="acme.example", industry="software", employees=450, country="DE")
# (address, title, temperature, stage): the best grade is a cold VP's, one warm person is
# disqualified, the others are warm, hot or cold at several grades.
PEOPLE = (
    ("vera@acme.example", "VP Sales", "cold", "subscriber"),
    ("max@acme.example", "Revenue Analyst", "warm", "lead"),
    ("ann@acme.example", "Sales Manager", "hot", "lead"),
    ("dan@acme.example", "Sales Manager", "warm", "disqualified"),
    ("ivy@acme.example", "Intern", "warm", "subscriber"),
    ("cal@acme.example", "Sales Manager", "cold", "subscriber"),
)


def _every_contact(session, account_id: int) -> tuple[ContactFacts, ...]:
    rows = session.scalars(select(Lead).where(Lead.account_id == account_id)).all()
    return tuple(
        ContactFacts(
            lead.id,
            lead.fit_grade,
            decayed_score(lead.score_value, lead.score_as_of, lead.score_half_life, T0),
            lead.temperature,
            lead.stage,
            lead.title,
        )
        for lead in rows
    )


def test_account_verdicts_equal_those_from_every_contact(runtime):
    with transaction(runtime.sessions) as session:
        assert sync_file(session, "icp", ROOT / "campaigns" / "icp.yaml", now=T0).ok
        assert sync_file(session, "readiness", ROOT / "campaigns" / "readiness.yaml", now=T0).ok
    for needed in (3, 4):  # the committee is complete with three engaged, not with four
        with runtime.sessions() as session:  # closed without a commit: each round alone
            results = upsert_leads(
                session,
                [LeadFields(email=e, title=t, **FIRM) for e, t, _, _ in PEOPLE],
                now=T0,
                source="csv",
            )
            ids = [result.lead.id for result in results]
            for lead_id, (_, _, temperature, stage) in zip(ids, PEOPLE, strict=True):
                session.execute(
                    update(Lead)
                    .where(Lead.id == lead_id)
                    .values(temperature=temperature, stage=stage, score_value=30.0, score_as_of=T0)
                )
            active = active_readiness(session)
            assert active is not None
            readiness = active.readiness
            rules = [
                replace(rule, account=replace(rule.account, engaged_contacts=needed))
                if rule.account is not None
                else rule
                for rule in readiness.rules
            ]
            readiness = replace(readiness, rules=tuple(rules))
            account_id = results[0].lead.account_id
            assert account_id is not None
            everyone = _every_contact(session, account_id)
            verdicts, _ = readiness_verdicts(session, ids, T0)
            assert len(verdicts) == len(PEOPLE)
            grades = {contact.grade for contact in everyone}
            assert len(grades) > 1  # the best grade is not everyone's
            for facts, _ in verdicts:
                full = replace(facts, contacts=everyone)
                mine, reference = evaluate(readiness, facts, T0), evaluate(readiness, full, T0)
                assert (mine.rule, mine.reasons) == (reference.rule, reference.reasons)
