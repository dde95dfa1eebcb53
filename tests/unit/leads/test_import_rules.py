"""The import's pure rules: header names in other languages, why a lead cannot be mailed,
the consent a batch records, and the summary's line about who cannot be mailed."""

from datetime import UTC, datetime

import pytest

from nurture.consent.rules import not_mailable_reason
from nurture.leads.csv_columns import describe_ignored, plan_columns
from nurture.leads.header_synonyms import did_you_mean, target_for_header
from nurture.leads.import_summary import (
    BatchConsent,
    apply_batch_consent,
    describe_not_mailable,
)
from nurture.leads.validation import LeadFields

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("Imię", "first_name"),
        ("IMIE", "first_name"),
        ("Vorname", "first_name"),
        ("First name", "first_name"),
        ("Nazwisko", "last_name"),
        ("Nachname", "last_name"),
        ("Firma", "company"),
        ("Unternehmen", "company"),
        ("Company", "company"),
        ("Stanowisko", "title"),
        ("Position", "title"),
        ("Job title", "title"),
        ("Telefon", "phone"),
        ("Kraj", "country"),
        ("Land", "country"),
        ("E-mail", "email"),
        ("E-Mail-Adresse", "email"),
        ("Zgoda", "consent_status"),
        ("Einwilligung", "consent_status"),
        ("Miasto", "attributes.city"),
        ("Stadt", "attributes.city"),
        (" podstawa_prawna ", "lawful_basis"),
    ],
)
def test_headers_in_polish_german_and_english_name_their_field(header, target):
    assert target_for_header(header) == target


def test_an_unknown_header_names_nothing_and_a_typo_gets_a_did_you_mean():
    assert target_for_header("Ulubiony kolor") is None
    assert did_you_mean("Ulubiony kolor") is None
    assert did_you_mean("Nazwsko") == ("nazwisko", "last_name")


def test_ignored_columns_are_described_with_their_likely_field():
    plan, _ = plan_columns(["email", "Nazwsko", "Notatka"], {}, "ignore")
    assert describe_ignored(plan) == ["'Nazwsko' (did you mean last_name?)", "'Notatka'"]


def test_no_did_you_mean_for_a_field_another_column_already_fills():
    plan, _ = plan_columns(["email", "Nazwisko", "Nazwsko"], {}, "ignore")
    assert plan.ignored == ["Nazwsko"] and plan.hints == {}


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"consent_status": "granted", "lawful_basis": "consent"}, None),
        ({"consent_status": "unknown", "lawful_basis": "legitimate_interest"}, None),
        ({"consent_status": "unknown", "lawful_basis": "contract"}, None),
        ({"consent_status": "unknown", "lawful_basis": None}, "no_consent_basis"),
        ({"consent_status": "unknown", "lawful_basis": "consent"}, "no_consent_basis"),
        ({"consent_status": "unknown", "lawful_basis": "legal_obligation"}, "no_consent_basis"),
        (
            {"consent_status": "pending", "lawful_basis": "legitimate_interest"},
            "awaiting_confirmation",
        ),
        ({"consent_status": "withdrawn", "lawful_basis": "contract"}, "withdrawn"),
        (
            {"consent_status": "granted", "lawful_basis": "consent", "unsubscribed_at": NOW},
            "suppressed",
        ),
        (
            {
                "consent_status": "granted",
                "lawful_basis": "consent",
                "suppressed_at": NOW,
                "suppression_reason": "complaint",
            },
            "suppressed",
        ),
        (
            {
                "consent_status": "granted",
                "lawful_basis": "consent",
                "suppressed_at": NOW,
                "suppression_reason": "hard_bounce",
            },
            "invalid",
        ),
    ],
)
def test_why_a_lead_cannot_be_mailed(values, reason):
    assert not_mailable_reason(**values) == reason


BATCH = BatchConsent(status="granted", source="import webinar.csv", at=NOW)


def test_batch_consent_fills_new_and_unknown_leads_with_its_evidence():
    row = LeadFields(email="a@firma.pl")
    for stored in (None, "unknown"):
        applied = apply_batch_consent(row, stored, BATCH)
        assert (applied.consent_status, applied.consent_source, applied.consent_at) == (
            "granted",
            "import webinar.csv",
            NOW,
        )


def test_batch_consent_never_overrides_a_row_or_a_persons_own_decision():
    own = LeadFields(email="a@firma.pl", consent_status="pending")
    assert apply_batch_consent(own, None, BATCH) == own
    row = LeadFields(email="a@firma.pl")
    for stored in ("withdrawn", "pending", "granted"):
        assert apply_batch_consent(row, stored, BATCH) == row
    withdrawal = BatchConsent(status="withdrawn", source="import optouts.csv", at=NOW)
    assert apply_batch_consent(row, "granted", withdrawal).consent_status == "withdrawn"


def test_the_not_mailable_line_names_every_reason_that_matters():
    assert describe_not_mailable({}) == "0 (no consent basis: 0, suppressed: 0, invalid: 0)"
    assert describe_not_mailable({"no_consent_basis": 2, "withdrawn": 1}) == (
        "3 (no consent basis: 2, suppressed: 0, invalid: 0, withdrawn: 1)"
    )
