"""The lead field catalogue agrees with the models and with the validated data type."""

from dataclasses import fields

import pytest
from sqlalchemy import BigInteger, String

from nurture.leads.fields import IMPORTABLE_FIELDS, LEAD_FIELDS
from nurture.leads.header_synonyms import synonyms
from nurture.leads.validation import LeadFields
from nurture.models import Account, Lead

LEAD_COLUMNS = Lead.__table__.c
ACCOUNT_COLUMNS = Account.__table__.c


def column_of(field):
    """The column a catalogue field is stored in (company_domain: the account's domain)."""
    if field.name == "company_domain":
        return ACCOUNT_COLUMNS["domain"]
    if field.account_column is not None:
        return ACCOUNT_COLUMNS[field.account_column]
    return LEAD_COLUMNS[field.name]


def test_names_are_unique():
    names = [field.name for field in LEAD_FIELDS]
    assert len(names) == len(set(names))


def test_validated_lead_data_has_exactly_the_importable_fields_in_catalogue_order():
    assert tuple(f.name for f in fields(LeadFields)) == IMPORTABLE_FIELDS


@pytest.mark.parametrize("field", LEAD_FIELDS, ids=lambda field: field.name)
def test_every_field_is_stored_in_a_column(field):
    assert column_of(field) is not None


@pytest.mark.parametrize(
    "field", [f for f in LEAD_FIELDS if f.max_length is not None], ids=lambda field: field.name
)
def test_a_valid_value_always_fits_its_column(field):
    column = column_of(field)
    assert isinstance(column.type, String)
    assert field.max_length == column.type.length


@pytest.mark.parametrize(
    "field", [f for f in LEAD_FIELDS if f.kind == "integer"], ids=lambda field: field.name
)
def test_the_largest_accepted_number_fits_its_column(field):
    bits = 64 if isinstance(column_of(field).type, BigInteger) else 32
    assert field.maximum == 2 ** (bits - 1) - 1


def test_only_lead_columns_are_updated_erased_or_compared():
    for field in LEAD_FIELDS:
        if field.on_update or field.erasable or field.condition or field.consent:
            assert field.name in LEAD_COLUMNS, field.name


def test_every_header_synonym_names_an_importable_field_or_an_attribute():
    for target in synonyms().names:
        assert target in IMPORTABLE_FIELDS or target.startswith("attributes."), target
