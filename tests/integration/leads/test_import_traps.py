"""An import that cannot lose leads quietly: headers in other languages are recognised, the
columns it cannot place are named, and the summary says who of the imported people cannot
be mailed and why; a batch's consent is recorded with its evidence."""

import re
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from nurture.cli import (
    cli,
    leads_cmd,  # registers the commands; spied on below
)
from nurture.consent.suppression import suppress
from nurture.leads.csv_import import import_leads_csv
from nurture.models import AuditLog, Lead
from nurture.platform.db import transaction

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def lead(runtime, email) -> Lead:
    with transaction(runtime.sessions) as session:
        found = session.scalars(select(Lead).where(Lead.email == email)).one()
        _ = found.account
        return found


def flat(output: str) -> str:
    """The CLI's output with the table's wrapping and borders undone."""
    return re.sub(r"[\s│┃]+", " ", output)


def test_a_polish_file_keeps_every_column(app, tmp_path):
    path = write(
        tmp_path / "kontakty.csv",
        "E-mail;Imię;Nazwisko;Firma;Stanowisko;Telefon;Kraj;Miasto;Zgoda\n"
        "anna@biuro-rachunkowe.pl;Anna;Kowalska;Biuro Rachunkowe;Dyrektor finansowy;"
        "+48 600 100 200;pl;Kraków;granted\n",
    )
    result = app.test_cli_runner().invoke(cli, ["leads", "import", str(path), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "ignored columns" not in result.output
    anna = lead(app.extensions["nurture"], "anna@biuro-rachunkowe.pl")
    assert (anna.first_name, anna.last_name, anna.title, anna.phone) == (
        "Anna",
        "Kowalska",
        "Dyrektor finansowy",
        "+48 600 100 200",
    )
    assert (anna.account.name, anna.account.country) == ("Biuro Rachunkowe", "PL")
    assert anna.attributes == {"city": "Kraków"}
    assert anna.consent_status == "granted"


def test_german_and_accent_free_headers_are_recognised(runtime, tmp_path):
    path = write(
        tmp_path / "kontakte.csv",
        "E-Mail-Adresse,VORNAME,Nachname,Unternehmen,Position,Land,Stadt,Einwilligung,IMIE\n"
        "max@firma.de,Max,Muster,Firma GmbH,CFO,de,Berlin,granted,x\n",
    )
    summary = import_leads_csv(runtime.sessions, path, now=NOW, progress=False)
    assert summary.columns == {
        "E-Mail-Adresse": "email",
        "VORNAME": "first_name",
        "Nachname": "last_name",
        "Unternehmen": "company",
        "Position": "title",
        "Land": "country",
        "Einwilligung": "consent_status",
        "Stadt": "attributes.city",
    }
    # "IMIE" is first_name too, but the first column that names a field wins: it is
    # reported, not silently dropped.
    assert summary.ignored_columns == ["IMIE"]
    assert any("'IMIE' also looks like 'first_name'" in note for note in summary.notes)


def test_an_unknown_column_is_reported_with_a_did_you_mean(app, tmp_path):
    path = write(
        tmp_path / "typos.csv",
        "email,Nazwsko,Ulubiony kolor\nola@firma.pl,Nowak,zielony\n",
    )
    result = app.test_cli_runner().invoke(cli, ["leads", "import", str(path), "--no-progress"])
    assert result.exit_code == 0, result.output
    out = flat(result.output)
    assert "ignored columns" in out
    assert "Nazwsko (did you mean last_name?)" in out
    assert "Ulubiony kolor" in out and "Ulubiony kolor (did" not in out


def test_the_summary_says_who_cannot_be_mailed_and_why(app, tmp_path):
    runtime = app.extensions["nurture"]
    with transaction(runtime.sessions) as session:
        suppress(session, "gone@firma.pl", reason="unsubscribed", source="test", now=NOW)
        suppress(session, "bounced@firma.pl", reason="hard_bounce", source="test", now=NOW)
    path = write(
        tmp_path / "mixed.csv",
        "email,consent_status,lawful_basis\n"
        "yes@firma.pl,granted,consent\n"
        "li@firma.pl,,legitimate_interest\n"
        "nobasis@firma.pl,,\n"
        "gone@firma.pl,granted,consent\n"
        "bounced@firma.pl,,legitimate_interest\n"
        "not-an-address,granted,consent\n",
    )
    result = app.test_cli_runner().invoke(cli, ["leads", "import", str(path), "--no-progress"])
    assert result.exit_code == 0, result.output
    out = flat(result.output)
    assert "mailable 2" in out
    assert "cannot be mailed 3 (no consent basis: 1, suppressed: 1, invalid: 1)" in out
    assert "line 7: email:" in out  # the rejected row, with its line and reason
    summary = import_leads_csv(
        runtime.sessions, path, now=NOW, progress=False, rejects_path=tmp_path / "r.csv"
    )
    # Every row accounted for: 5 imported (2 mailable + 3 not) and 1 rejected.
    assert (summary.unchanged, summary.rejected, summary.mailable) == (5, 1, 2)
    assert summary.not_mailable == {"no_consent_basis": 1, "suppressed": 1, "invalid": 1}
    assert [line for line, _ in summary.rejected_rows] == [7]


def test_batch_consent_is_recorded_with_its_evidence(app, tmp_path):
    runtime = app.extensions["nurture"]
    first = write(
        tmp_path / "earlier.csv",
        "email,consent_status\nsaid-no@firma.pl,withdrawn\nknown@firma.pl,\n",
    )
    import_leads_csv(runtime.sessions, first, now=NOW, progress=False)
    path = write(
        tmp_path / "webinar-2026.csv",
        "email,Zgoda\nnew@firma.pl,\nown@firma.pl,pending\nsaid-no@firma.pl,\nknown@firma.pl,\n",
    )
    result = app.test_cli_runner().invoke(
        cli,
        [
            "leads",
            "import",
            str(path),
            "--no-progress",
            "--consent",
            "granted",
            "--lawful-basis",
            "consent",
        ],
    )
    assert result.exit_code == 0, result.output
    new = lead(runtime, "new@firma.pl")
    assert (new.consent_status, new.lawful_basis, new.consent_source) == (
        "granted",
        "consent",
        "import webinar-2026.csv",
    )
    assert new.consent_at is not None
    # The row's own column wins; a person's own "no" is never overwritten by a list.
    assert lead(runtime, "own@firma.pl").consent_status == "pending"
    assert lead(runtime, "said-no@firma.pl").consent_status == "withdrawn"
    assert lead(runtime, "known@firma.pl").consent_status == "granted"
    with transaction(runtime.sessions) as session:
        audited = session.scalars(
            select(AuditLog).where(
                AuditLog.action == "consent.recorded", AuditLog.lead_id == new.id
            )
        ).all()
    assert [a.detail["consent_source"] for a in audited] == ["import webinar-2026.csv"]
    out = flat(result.output)
    assert "mailable 2" in out
    assert (
        "cannot be mailed 2 (no consent basis: 0, suppressed: 0, invalid: 0, withdrawn: 1, "
        "awaiting confirmation: 1)"
    ) in out


def test_a_batch_withdrawal_applies_over_a_stored_grant(runtime, tmp_path):
    write(tmp_path / "a.csv", "email,consent_status\nx@firma.pl,granted\n")
    import_leads_csv(runtime.sessions, tmp_path / "a.csv", now=NOW, progress=False)
    write(tmp_path / "optouts.csv", "email\nx@firma.pl\n")
    summary = import_leads_csv(
        runtime.sessions, tmp_path / "optouts.csv", now=NOW, progress=False, consent="withdrawn"
    )
    assert lead(runtime, "x@firma.pl").consent_status == "withdrawn"
    assert summary.not_mailable == {"withdrawn": 1}


def test_the_help_says_what_consent_and_lawful_basis_mean(app):
    result = app.test_cli_runner().invoke(cli, ["leads", "import", "--help"])
    out = flat(result.output)
    for phrase in (
        "--consent [granted|pending|withdrawn]",
        "they opted in",
        "--lawful-basis",
        "legitimate_interest, contract: mailable without an opt-in",
        "legal_obligation: not a basis for marketing email",
    ):
        assert phrase in out, phrase


def test_the_command_imports_in_batches_of_the_import_setting(app, tmp_path, monkeypatch):
    # Not the sender's NURTURE_BATCH_SIZE: an import's cost is largely per batch.
    seen = []
    real = leads_cmd.import_leads_csv

    def spy(*args, **kwargs):
        seen.append(kwargs["batch_size"])
        return real(*args, **kwargs)

    monkeypatch.setattr(leads_cmd, "import_leads_csv", spy)
    path = write(tmp_path / "few.csv", "email,consent_status\nada@example.com,granted\n")
    runner = app.test_cli_runner()
    assert runner.invoke(cli, ["leads", "import", str(path), "--no-progress"]).exit_code == 0
    assert (
        runner.invoke(
            cli, ["leads", "import", str(path), "--no-progress", "--batch-size", "7"]
        ).exit_code
        == 0
    )
    settings = app.extensions["nurture"].settings
    assert seen == [settings.import_batch_size, 7]
    assert settings.import_batch_size == 2000 != settings.batch_size
