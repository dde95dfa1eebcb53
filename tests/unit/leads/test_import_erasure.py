"""Finding an erased person's address in the rows lead imports keep."""

import pytest

from nurture.leads.import_erasure import address_pattern, holds_address


@pytest.mark.parametrize(
    "text",
    [
        "al@acme.example",
        "AL@Acme.EXAMPLE",
        '  "al@acme.example" ',
        "Al <al@acme.example>",
        "mailto:al@acme.example",
        "jan;al@acme.example;Acme",
        "write to al@acme.example.",
    ],
)
def test_the_address_is_found_in_any_case_and_surrounding(text):
    assert holds_address(["x", text], address_pattern("al@acme.example"))


@pytest.mark.parametrize(
    "text",
    [
        "hal@acme.example",
        "x.al@acme.example",
        "x-al@acme.example",
        "x+al@acme.example",
        "al@acme.example.org",
        "al@acme.example-shop.org",
        "al@acme.examples",
    ],
)
def test_a_longer_address_that_contains_it_is_another_person(text):
    assert not holds_address([text], address_pattern("al@acme.example"))


def test_an_international_domain_is_found_in_its_unicode_spelling_too():
    # Leads store the domain as IDNA; a file exported by a person holds what they typed.
    pattern = address_pattern("ada@xn--bcher-kva.example")
    assert holds_address(["Ada@Bücher.example"], pattern)
    assert holds_address(["ada@xn--bcher-kva.example"], pattern)
    assert not holds_address(["ada@bucher.example"], pattern)
