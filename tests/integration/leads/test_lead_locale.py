"""A lead's language: from an import's language column, from the API, or from the country
when nobody gave one; checked and written one way by Babel, and an unknown one refused with
a clear reason, never dropped silently."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from nurture.auth.apikeys import create_api_key
from nurture.leads.csv_import import import_leads_csv
from nurture.models import Lead
from nurture.platform.db import transaction

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def _import(runtime, tmp_path: Path, text: str):
    path = tmp_path / "leads.csv"
    path.write_text(text, encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    summary = import_leads_csv(
        runtime.sessions, path, now=NOW, progress=False, rejects_path=rejects
    )
    return summary, rejects


def _locales(runtime) -> dict[str, str | None]:
    with transaction(runtime.sessions) as session:
        return {lead.email: lead.locale for lead in session.scalars(select(Lead))}


def test_an_import_takes_the_language_column_and_derives_the_rest_from_the_country(
    runtime, tmp_path
):
    summary, rejects = _import(
        runtime,
        tmp_path,
        "email,language,country\n"
        "jan@firma.pl,pl_PL,PL\n"  # given: kept, written as Babel writes it
        "ola@firma.pl,,PL\n"  # not given: Poland reads Polish
        "max@firma.de,,AT\n"  # Austria reads German
        "ann@acme.com,,US\n"
        "kim@acme.ch,,CH\n"  # several languages: nobody guesses
        "bob@acme.com,Klingon,US\n",  # an unknown language: refused, with the reason
    )

    assert (summary.created, summary.rejected) == (5, 1)
    assert _locales(runtime) == {
        "jan@firma.pl": "pl-PL",
        "ola@firma.pl": "pl",
        "max@firma.de": "de",
        "ann@acme.com": "en",
        "kim@acme.ch": None,
    }
    with rejects.open(encoding="utf-8-sig") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["_line"] == "7"
    assert row["_reason"].startswith("locale: unknown locale 'Klingon'")


def test_a_language_given_later_replaces_the_one_derived_from_the_country(runtime, tmp_path):
    _import(runtime, tmp_path, "email,country\nola@firma.pl,PL\n")
    _import(runtime, tmp_path, "email,locale,country\nola@firma.pl,en-GB,PL\n")

    assert _locales(runtime) == {"ola@firma.pl": "en-GB"}


def test_the_api_sets_checks_and_derives_the_locale(app, client):
    runtime = app.extensions["nurture"]
    with transaction(runtime.sessions) as session:
        _key, plaintext = create_api_key(session, "tests", now=NOW)
    headers = {"Authorization": f"Bearer {plaintext}"}

    created = client.post(
        "/api/v1/leads", json={"email": "jan@firma.pl", "locale": "PL-pl"}, headers=headers
    )
    derived = client.post(
        "/api/v1/leads", json={"email": "ola@firma.pl", "country": "PL"}, headers=headers
    )
    refused = client.post(
        "/api/v1/leads", json={"email": "bob@firma.pl", "locale": "xx-YY"}, headers=headers
    )

    assert created.status_code in (200, 201), created.json
    assert derived.status_code in (200, 201), derived.json
    assert refused.status_code == 422
    assert "unknown locale 'xx-YY'" in str(refused.json)
    assert _locales(runtime) == {"jan@firma.pl": "pl-PL", "ola@firma.pl": "pl"}
