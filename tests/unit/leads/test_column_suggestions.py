"""Column suggestions for lead files, whatever the headers' language."""

import pytest

from nurture.leads.column_suggestions import attribute_key, normalise, suggest_columns


def targets(header, rows=()):
    return [s.target for s in suggest_columns(header, [list(r) for r in rows])]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            ["Imię", "Nazwisko", "Adres e-mail", "Firma", "Stanowisko", "Telefon", "Kraj"],
            ["first_name", "last_name", "email", "company", "title", "phone", "country"],
        ),
        (
            ["Vorname", "Nachname", "E-Mail-Adresse", "Unternehmen", "Mitarbeiter", "Land"],
            ["first_name", "last_name", "email", "company", "employees", "country"],
        ),
        (
            ["Prénom", "Nom", "Courriel", "Société", "Poste", "Pays"],
            ["first_name", "last_name", "email", "company", "title", "country"],
        ),
        (
            ["Nombre", "Apellidos", "Correo electrónico", "Empresa", "Cargo", "País"],
            ["first_name", "last_name", "email", "company", "title", "country"],
        ),
        (
            ["Nome", "Cognome", "Indirizzo email", "Azienda", "Ruolo", "Paese"],
            ["first_name", "last_name", "email", "company", "title", "country"],
        ),
        (
            ["Primeiro nome", "Sobrenome", "Endereço de e-mail", "Empresa", "Telefone"],
            ["first_name", "last_name", "email", "company", "phone"],
        ),
        (
            ["Voornaam", "Achternaam", "E-mailadres", "Bedrijfsnaam", "Functie", "Website"],
            ["first_name", "last_name", "email", "company", "title", "company_domain"],
        ),
        (
            ["Work Email", "First Name", "Job Title", "Annual Revenue", "UTM Campaign"],
            ["email", "first_name", "title", "annual_revenue", "utm_campaign"],
        ),
    ],
)
def test_headers_in_eight_languages_are_recognised(header, expected):
    assert targets(header) == expected


def test_accents_case_and_punctuation_do_not_matter():
    assert normalise("  Adres E-MAIL (służbowy) ") == "adres e mail sluzbowy"
    assert targets(["IMIE", "nazwisko:", "E_mail"]) == ["first_name", "last_name", "email"]


def test_a_header_containing_a_field_name_and_a_near_miss_are_suggested():
    found = suggest_columns(["Adres e-mail służbowy", "Emial", "Telefonnr"], [])
    assert [(s.target, s.reason) for s in found] == [
        ("email", "contains"),
        ("-", "none"),
        ("phone", "similar"),
    ]
    # The near miss of email loses to the column that names it.
    assert suggest_columns(["Emial"], [])[0].target == "email"


def test_values_reveal_columns_with_unknown_headers():
    rows = [
        ("jan@acme.pl", "PL", "acme.pl", "+48 22 123 45 67", "Europe/Warsaw"),
        ("ewa@beta.de", "DE", "https://beta.de", "030 1234567", "Europe/Berlin"),
    ]
    assert targets(["Kontakt", "Code", "Web", "Nr", "Zone"], rows) == [
        "email",
        "country",
        "company_domain",
        "phone",
        "timezone",
    ]


def test_each_field_is_suggested_once_and_values_settle_which_column_is_the_email():
    rows = [("Jan", "jan@acme.pl"), ("Ewa", "ewa@acme.pl")]
    # Both headers say email, but only the second column's values are addresses.
    assert targets(["E-mail", "Adres e-mail"], rows) == ["-", "email"]


def test_common_words_inside_longer_headers_are_not_taken_for_fields():
    assert targets(["Last login", "Page title", "Newsletter"], [("x", "y", "no")]) == [
        "-",
        "-",
        "-",
    ]


def test_unknown_columns_suggest_nothing_and_offer_an_attribute_name():
    assert targets(["Kod rabatowy"]) == ["-"]
    assert attribute_key("Kod rabatowy (2024)") == "kod_rabatowy_2024"
    assert attribute_key("!!!") == "column"
    assert len(attribute_key("x" * 500)) == 64


def test_the_bookkeeping_columns_of_a_rejects_file_are_skipped():
    assert targets(["email", "_line", "_reason"]) == ["email", "-", "-"]
