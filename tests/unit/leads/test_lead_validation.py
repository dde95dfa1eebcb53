"""Lead validation and normalisation: pure rules, no database."""

from datetime import UTC, datetime

import pytest

from nurture.leads.accounts import FREE_MAIL_DOMAINS, account_domain
from nurture.leads.fields import IMPORTABLE_FIELDS
from nurture.leads.validation import LeadFields, normalise_domain, validate_lead_data
from nurture.platform.addresses import normalise_email


def validate(**data):
    return validate_lead_data(data, default_timezone="UTC")


def valid(**data) -> LeadFields:
    fields, errors = validate(**data)
    assert errors == {}
    assert fields is not None
    return fields


def errors_of(**data) -> dict[str, str]:
    fields, errors = validate(**data)
    assert fields is None
    return errors


# ---------------------------------------------------------------- email


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        ("jane.example.com", "must have an @-sign"),
        ("jane@", "There must be something after the @-sign"),
        ("@example.com", "There must be something before the @-sign"),
        ("jane@example", "It should have a period"),
        ("jane@@example.com", "invalid characters"),
        ("jane doe@example.com", "invalid characters before the @-sign"),
        ("jane@example..com", "period"),
        ("jane@service.invalid", "special-use or reserved name"),
    ],
)
def test_an_invalid_email_is_refused_with_email_validators_reason(email, reason):
    assert reason in errors_of(email=email)["email"]


def test_email_is_required():
    assert errors_of(first_name="Jane") == {"email": "required"}
    assert errors_of(email="   ") == {"email": "required"}


def test_email_must_be_a_string():
    assert errors_of(email=42) == {"email": "must be a string"}


def test_email_is_lower_cased_and_trimmed():
    assert valid(email="  Jane.Doe@ACME.Example.COM ").email == "jane.doe@acme.example.com"


def test_an_international_domain_is_stored_in_ascii():
    assert valid(email="Jane@Bücher.DE").email == "jane@xn--bcher-kva.de"
    assert normalise_email("jane@xn--bcher-kva.de") == "jane@xn--bcher-kva.de"


def test_an_international_local_part_is_kept():
    assert valid(email="Jürgen@bücher.de").email == "jürgen@xn--bcher-kva.de"


# ---------------------------------------------------------------- plain fields


def test_text_is_trimmed_and_inner_whitespace_collapsed():
    fields = valid(email="a@acme.com", first_name="  Mary \t Ann ", title="VP\nSales")
    assert fields.first_name == "Mary Ann"
    assert fields.title == "VP Sales"


def test_empty_values_mean_not_given():
    fields = valid(email="a@acme.com", first_name="", last_name=None, phone="   ")
    assert fields.first_name is None and fields.last_name is None and fields.phone is None
    assert fields.given() == {"email"}


def test_text_longer_than_its_column_is_refused():
    assert errors_of(email="a@acme.com", first_name="x" * 101) == {
        "first_name": "at most 100 characters"
    }
    assert valid(email="a@acme.com", first_name="x" * 100).first_name == "x" * 100
    assert errors_of(email="a@acme.com", consent_text="y" * 501)["consent_text"] == (
        "at most 500 characters"
    )


def test_control_characters_are_refused():
    assert "control characters" in errors_of(email="a@acme.com", last_name="Doe\x00")["last_name"]


def test_a_number_where_text_belongs_is_refused():
    assert errors_of(email="a@acme.com", first_name=7) == {"first_name": "must be a string"}


@pytest.mark.parametrize(
    "phone", ["+49 30 1234567", "(555) 123-4567", "+1.555.123.4567 x42", "030/123456 ext. 7"]
)
def test_common_phone_formats_are_accepted(phone):
    assert valid(email="a@acme.com", phone=phone).phone == phone


@pytest.mark.parametrize("phone", ["call me", "12", "+49 30 abc", "1" * 21])
def test_things_that_are_not_phone_numbers_are_refused(phone):
    assert "phone" in errors_of(email="a@acme.com", phone=phone)


# ---------------------------------------------------------------- time zone, locale, country


def test_a_valid_time_zone_is_stored_in_its_canonical_spelling():
    assert valid(email="a@acme.com", timezone="Europe/Berlin").timezone == "Europe/Berlin"
    assert valid(email="a@acme.com", timezone="america/new_york").timezone == "America/New_York"
    assert valid(email="a@acme.com", timezone="UTC").timezone == "UTC"


@pytest.mark.parametrize("zone", ["Mars/Olympus", "CEST", "Europe/Berlinn", "../etc/passwd"])
def test_an_unknown_time_zone_is_refused(zone):
    reason = errors_of(email="a@acme.com", timezone=zone)["timezone"]
    assert reason.startswith("unknown time zone")
    assert "Europe/Berlin" in reason  # says what a valid one looks like


def test_locale_is_normalised_to_a_bcp47_tag():
    assert valid(email="a@acme.com", locale="en_us").locale == "en-US"
    assert valid(email="a@acme.com", locale="zh-hant-tw").locale == "zh-Hant-TW"
    assert "locale" in errors_of(email="a@acme.com", locale="english please")


def test_country_is_an_upper_case_iso_code():
    assert valid(email="a@acme.com", country=" de ").country == "DE"
    assert valid(email="a@acme.com", country="uk").country == "GB"


@pytest.mark.parametrize("country", ["XX", "Germany", "DEU", "D"])
def test_a_country_that_is_not_an_iso_alpha2_code_is_refused(country):
    assert "ISO 3166 alpha-2" in errors_of(email="a@acme.com", country=country)["country"]


# ---------------------------------------------------------------- stage and consent


def test_stage_must_be_a_lifecycle_stage():
    assert valid(email="a@acme.com", stage="MQL").stage == "mql"
    reason = errors_of(email="a@acme.com", stage="hot")["stage"]
    assert "subscriber" in reason and "disqualified" in reason


def test_stage_is_not_given_unless_it_is_given():
    # The default (subscriber) is applied when a lead is created, not here, so an update
    # without a stage can never move a lead.
    assert valid(email="a@acme.com").stage is None


def test_consent_values_are_checked_and_normalised():
    fields = valid(
        email="a@acme.com",
        consent_status="Granted",
        lawful_basis="Legitimate interest",
        consent_source="webinar form",
        consent_at="2025-03-01T09:30:00Z",
    )
    assert fields.consent_status == "granted"
    assert fields.lawful_basis == "legitimate_interest"
    assert fields.consent_at == datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    errors = errors_of(email="a@acme.com", consent_status="yes", lawful_basis="because")
    assert "granted, pending, unknown, withdrawn" in errors["consent_status"]
    assert "legitimate_interest" in errors["lawful_basis"]


def test_a_consent_time_without_offset_is_read_in_the_default_time_zone():
    fields, _ = validate_lead_data(
        {"email": "a@acme.com", "consent_at": "2025-07-01 12:00"}, default_timezone="Europe/Berlin"
    )
    assert fields is not None
    assert fields.consent_at == datetime(2025, 7, 1, 10, 0, tzinfo=UTC)


def test_a_consent_time_that_is_not_iso8601_is_refused():
    assert "ISO 8601" in errors_of(email="a@acme.com", consent_at="yesterday")["consent_at"]


# ---------------------------------------------------------------- attributes


def test_attributes_take_scalars_and_lists_of_scalars():
    attributes = {"plan": "pro", "seats": 12, "trial": True, "tags": ["a", "b"], "gone": None}
    assert valid(email="a@acme.com", attributes=attributes).attributes == attributes


def test_attributes_must_be_an_object():
    assert errors_of(email="a@acme.com", attributes=["plan"]) == {
        "attributes": "must be an object of key: value pairs"
    }


def test_each_bad_attribute_is_named():
    errors = errors_of(
        email="a@acme.com",
        attributes={"nested": {"a": 1}, "k" * 65: 1, "mixed": [1, {"x": 2}], "nan": float("nan")},
    )
    assert set(errors) == {
        "attributes.nested",
        "attributes." + "k" * 64,
        "attributes.mixed",
        "attributes.nan",
    }
    assert "at most 64 characters" in errors["attributes." + "k" * 64]


# ---------------------------------------------------------------- company fields


def test_company_numbers_accept_spreadsheet_formats():
    fields = valid(email="a@acme.com", employees="1,200", annual_revenue=5_000_000, branches="3")
    assert (fields.employees, fields.annual_revenue, fields.branches) == (1200, 5_000_000, 3)


@pytest.mark.parametrize("value", ["-1", -1, "12.5", 12.5, "many", True])
def test_company_numbers_must_be_whole_and_not_negative(value):
    assert "employees" in errors_of(email="a@acme.com", employees=value)


@pytest.mark.parametrize(
    ("raw", "domain"),
    [
        ("Acme.com", "acme.com"),
        ("https://www.acme.com/about?x=1", "acme.com"),
        ("acme.co.uk.", "acme.co.uk"),
        ("http://Bücher.de:8080", "xn--bcher-kva.de"),
    ],
)
def test_company_domain_is_reduced_to_a_bare_domain(raw, domain):
    assert normalise_domain(raw) == domain
    assert valid(email="a@b.com", company_domain=raw).company_domain == domain


@pytest.mark.parametrize("raw", ["acme", "jane@acme.com", "acme..com", "-acme.com", "ac me.com"])
def test_a_company_domain_that_is_not_a_domain_is_refused(raw):
    assert "company_domain" in errors_of(email="a@acme.com", company_domain=raw)


def test_account_domain_prefers_company_domain_then_the_email_domain():
    assert account_domain(valid(email="a@acme.com")) == "acme.com"
    assert account_domain(valid(email="a@acme.com", company_domain="acme.de")) == "acme.de"
    assert account_domain(valid(email="a@gmail.com", company_domain="acme.de")) == "acme.de"


@pytest.mark.parametrize("domain", sorted(FREE_MAIL_DOMAINS))
def test_free_mail_addresses_give_no_account_domain(domain):
    assert account_domain(valid(email=f"someone@{domain}")) is None


# ---------------------------------------------------------------- the whole object


def test_unknown_fields_are_refused_and_the_allowed_ones_listed():
    errors = errors_of(email="a@acme.com", favourite_colour="teal")
    assert list(errors) == ["favourite_colour"]
    assert all(name in errors["favourite_colour"] for name in IMPORTABLE_FIELDS)


def test_every_problem_is_reported_at_once():
    errors = errors_of(email="nope", timezone="Nowhere/Land", country="XX", employees="-3")
    assert set(errors) == {"email", "timezone", "country", "employees"}


def test_a_full_lead_validates():
    fields = valid(
        email="Jane@Acme.com",
        first_name="Jane",
        last_name="Doe",
        title="CTO",
        phone="+49 30 1234567",
        timezone="Europe/Berlin",
        locale="de-DE",
        source="webinar",
        utm_source="linkedin",
        utm_medium="paid",
        utm_campaign="q3",
        utm_term="bi",
        utm_content="v2",
        stage="lead",
        consent_status="granted",
        lawful_basis="consent",
        consent_source="signup form",
        consent_text="Yes, send me news",
        consent_at="2025-01-01T00:00:00+01:00",
        attributes={"plan": "pro"},
        company="Acme GmbH",
        company_domain="acme.de",
        industry="Manufacturing",
        employees=250,
        annual_revenue=40_000_000,
        branches=4,
        country="DE",
    )
    assert fields.given() == set(IMPORTABLE_FIELDS)
    assert fields.has_company_data()
