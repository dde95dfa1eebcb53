"""The remembered-domain path of ``normalise_email`` gives exactly what email-validator
gives for the whole address: the same canonical form, or a refusal with its reason."""

from __future__ import annotations

import random
import string

import pytest
from email_validator import EmailNotValidError, validate_email

from nurture.platform.addresses import normalise_email

ODD_LOCALS = [
    "jane",
    "Jane.Doe",
    "a.b.c",
    "x+tag",
    "o'brien",
    "#!$%&'*+-/=?^_`{|}~",
    ".lead",
    "lead.",
    "le..ad",
    "a" * 64,
    "a" * 65,
    "",
    "with space",
    '"quoted"',
    "zażółć",
    "name\nnext",
    "Name <jane",
]
ODD_DOMAINS = [
    "example.com",
    "Example.COM",
    "firma.pl",
    "bücher.example",
    "xn--bcher-kva.example",
    "localhost",
    "sub.-bad.example",
    "under_score.example",
    "a.b",
    "example.com.",
    "[192.0.2.1]",
    "example.local",
    "example.invalid",
    ("l" * 63 + ".") * 3 + "example",
    "exa mple.com",
    "",
]


def _reference(text: str) -> str:
    try:
        result = validate_email(text.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        return f"refused: {exc}"
    return f"{result.local_part.lower()}@{result.ascii_domain}"


def _ours(text: str) -> str:
    try:
        return normalise_email(text)
    except ValueError as exc:
        return f"refused: {exc}"


@pytest.mark.parametrize("domain", ODD_DOMAINS)
def test_every_local_part_at_every_domain_reads_as_email_validator_reads_it(domain):
    for local in ODD_LOCALS:
        text = f"{local}@{domain}"
        # Twice: the second time the domain is remembered.
        assert _ours(text) == _reference(text), text
        assert _ours(text) == _reference(text), text


def test_random_addresses_read_as_email_validator_reads_them():
    chance = random.Random(14)
    alphabet = string.ascii_letters + string.digits + ".+-_'@ \"ąé"
    for _ in range(3000):
        local = "".join(chance.choice(alphabet) for _ in range(chance.randint(0, 20)))
        domain = chance.choice(ODD_DOMAINS)
        text = f"{local}@{domain}"
        assert _ours(text) == _reference(text), text
