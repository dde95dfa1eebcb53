"""Upserting leads and importing them from CSV, against a real database."""

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from nurture.campaigns import triggers
from nurture.cli import (
    cli,
    leads_cmd,  # noqa: F401  (registers the commands)
)
from nurture.leads import csv_import as lead_import
from nurture.leads.csv_columns import LeadImportError
from nurture.leads.csv_import import import_leads_csv
from nurture.leads.service import upsert_lead, upsert_leads
from nurture.leads.validation import LeadFields, validate_lead_data
from nurture.models import Account, Event, Lead
from nurture.platform.db import transaction

SAMPLE = Path(__file__).parents[2] / "fixtures" / "leads" / "sample.csv"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def created_hook(monkeypatch):
    """Record leads_created calls instead of enrolling (the enrolment engine is not under
    test here)."""
    calls = []

    def record(session, leads, now):
        for lead in leads:
            assert lead.id is not None, "the hook must see a flushed lead"
            calls.append(lead.email)

    monkeypatch.setattr(triggers, "leads_created", record)
    return calls


def fields(**data) -> LeadFields:
    result, errors = validate_lead_data(data, default_timezone="UTC")
    assert errors == {}
    return result


def upsert(runtime, now=NOW, source="test", **data):
    with transaction(runtime.sessions) as session:
        result = upsert_lead(session, fields(**data), now=now, source=source)
        account = result.lead.account
        return result, (None if account is None else (account.domain, account.name))


def load_lead(runtime, email) -> Lead:
    with transaction(runtime.sessions) as session:
        lead = session.scalars(select(Lead).where(Lead.email == email)).one()
        _ = lead.account
        return lead


def count(runtime, model, *where) -> int:
    with transaction(runtime.sessions) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def import_sample(runtime, tmp_path, **options):
    options.setdefault("rejects_path", tmp_path / "rejects.csv")
    return import_leads_csv(runtime.sessions, SAMPLE, now=NOW, progress=False, **options)


def read_rejects(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


# ---------------------------------------------------------------- upsert rules


def test_a_new_lead_is_created_as_a_subscriber_with_the_channel_as_source(runtime, created_hook):
    result, account = upsert(runtime, email="jane@acme.com", first_name="Jane")
    assert result.created
    lead = load_lead(runtime, "jane@acme.com")
    assert (lead.stage, lead.source, lead.consent_status) == ("subscriber", "test", "unknown")
    assert lead.created_at == lead.updated_at == lead.stage_changed_at == NOW
    assert account == ("acme.com", None)
    assert created_hook == ["jane@acme.com"]


def test_an_update_changes_only_the_given_fields(runtime, created_hook):
    upsert(runtime, email="jane@acme.com", first_name="Jane", title="CTO", phone="+49 1234")
    later = NOW + timedelta(hours=1)
    result, _ = upsert(runtime, now=later, email="JANE@acme.com", title="CEO", first_name="")
    assert not result.created
    assert result.changed == {"title"}
    lead = load_lead(runtime, "jane@acme.com")
    assert (lead.first_name, lead.title, lead.phone) == ("Jane", "CEO", "+49 1234")
    assert lead.updated_at == later
    assert created_hook == ["jane@acme.com"]


def test_an_update_with_nothing_new_changes_nothing_and_records_nothing(runtime):
    upsert(runtime, email="jane@acme.com", first_name="Jane")
    result, _ = upsert(
        runtime, now=NOW + timedelta(days=1), email="jane@acme.com", first_name="Jane"
    )
    assert not result.created and result.changed == set()
    assert load_lead(runtime, "jane@acme.com").updated_at == NOW
    assert count(runtime, Event) == 1  # lead.created only


def test_attributes_merge_key_by_key_and_null_removes_a_key(runtime):
    upsert(runtime, email="jane@acme.com", attributes={"plan": "pro", "seats": 5, "beta": True})
    result, _ = upsert(runtime, email="jane@acme.com", attributes={"seats": 8, "beta": None})
    assert result.changed == {"attributes"}
    assert load_lead(runtime, "jane@acme.com").attributes == {"plan": "pro", "seats": 8}


def test_the_stage_changes_only_when_given_and_the_change_is_recorded(runtime):
    upsert(runtime, email="jane@acme.com", stage="customer")
    result, _ = upsert(runtime, email="jane@acme.com", first_name="Jane")
    assert load_lead(runtime, "jane@acme.com").stage == "customer"
    later = NOW + timedelta(minutes=5)
    result, _ = upsert(runtime, now=later, email="jane@acme.com", stage="lead")
    assert result.changed == {"stage"}
    lead = load_lead(runtime, "jane@acme.com")
    assert (lead.stage, lead.stage_changed_at) == ("lead", later)
    with transaction(runtime.sessions) as session:
        event = session.scalars(
            select(Event).where(Event.type == "lead.updated").order_by(Event.id)
        ).all()[-1]
        assert event.properties["stage"] == {"from": "customer", "to": "lead"}


def test_source_and_utm_are_first_touch_attribution(runtime):
    upsert(runtime, email="jane@acme.com", source="webinar", utm_source="linkedin")
    result, _ = upsert(
        runtime, email="jane@acme.com", source="ebook", utm_source="google", utm_medium="cpc"
    )
    assert result.changed == {"utm_medium"}
    lead = load_lead(runtime, "jane@acme.com")
    assert (lead.source, lead.utm_source, lead.utm_medium) == ("webinar", "linkedin", "cpc")


def test_events_record_the_source_and_the_changed_fields(runtime):
    upsert(runtime, source="api", email="jane@acme.com", first_name="Jane")
    upsert(runtime, source="csv", email="jane@acme.com", title="CTO")
    with transaction(runtime.sessions) as session:
        events = session.scalars(select(Event).order_by(Event.id)).all()
        lead_id = session.scalars(select(Lead.id)).one()
        assert [(e.type, e.lead_id, e.occurred_at) for e in events] == [
            ("lead.created", lead_id, NOW),
            ("lead.updated", lead_id, NOW),
        ]
        assert events[0].properties == {"source": "api", "changed": ["account", "first_name"]}
        assert events[1].properties == {"source": "csv", "changed": ["title"]}


def test_leads_of_one_domain_share_an_account_that_is_filled_but_never_overwritten(runtime):
    _, account = upsert(runtime, email="jane@acme.com", company="Acme", country="DE")
    assert account == ("acme.com", "Acme")
    result, account = upsert(
        runtime, email="john@acme.com", company="Acme Corporation", industry="Software"
    )
    assert account == ("acme.com", "Acme")
    assert not result.account_created
    with transaction(runtime.sessions) as session:
        stored = session.scalars(select(Account)).one()
        assert (stored.name, stored.country, stored.industry) == ("Acme", "DE", "Software")


def test_free_mail_addresses_do_not_create_accounts(runtime):
    result, account = upsert(runtime, email="bob@gmail.com", company="Bobco")
    assert account is None
    assert result.unlinked_company
    assert count(runtime, Account) == 0


def test_company_domain_links_a_free_mail_lead_and_wins_over_the_email_domain(runtime):
    _, account = upsert(runtime, email="bob@gmail.com", company_domain="bobco.com")
    assert account == ("bobco.com", None)
    _, account = upsert(runtime, email="carl@initech-mail.com", company_domain="initech.com")
    assert account == ("initech.com", None)
    # A later update without company_domain does not move Carl to initech-mail.com.
    result, account = upsert(runtime, email="carl@initech-mail.com", title="Engineer")
    assert account == ("initech.com", None)
    assert result.changed == {"title"}


def test_the_free_mail_list_can_be_extended(runtime):
    with transaction(runtime.sessions) as session:
        result = upsert_lead(
            session,
            fields(email="x@corp-mail.example.com"),
            now=NOW,
            source="test",
            free_mail_domains=frozenset({"corp-mail.example.com"}),
        )
        assert result.lead.account is None


def test_many_leads_in_one_call_share_new_accounts_and_handle_repeats(runtime, created_hook):
    items = [
        fields(email="a@acme.com", company="Acme"),
        fields(email="b@acme.com"),
        fields(email="a@acme.com", title="CTO"),
    ]
    with transaction(runtime.sessions) as session:
        results = upsert_leads(session, items, now=NOW, source="test")
        assert [r.created for r in results] == [True, True, False]
        assert results[2].changed == {"title"}
        assert results[0].lead is results[2].lead
        assert results[0].lead.account is results[1].lead.account
    assert count(runtime, Account) == 1
    assert created_hook == ["a@acme.com", "b@acme.com"]


def test_defaults_fill_only_empty_columns(runtime):
    upsert(runtime, email="jane@acme.com", lawful_basis="consent")
    with transaction(runtime.sessions) as session:
        for email in ("jane@acme.com", "new@acme.com"):
            upsert_lead(
                session,
                fields(email=email),
                now=NOW,
                source="test",
                defaults={"lawful_basis": "legitimate_interest"},
            )
    assert load_lead(runtime, "jane@acme.com").lawful_basis == "consent"
    assert load_lead(runtime, "new@acme.com").lawful_basis == "legitimate_interest"


# ---------------------------------------------------------------- CSV import


def test_import_counts_every_row_exactly_once(runtime, tmp_path, created_hook):
    summary = import_sample(runtime, tmp_path)
    assert summary.rows_read == 11
    assert (summary.created, summary.updated, summary.unchanged) == (5, 0, 0)
    assert (summary.rejected, summary.duplicates, summary.blank) == (4, 1, 1)
    assert summary.accounts_created == 3
    assert summary.unlinked_companies == 1  # Bob: gmail.com and no company_domain
    assert summary.ignored_columns == ["Plan", "Notes"]
    assert summary.columns == {
        "E-mail": "email",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Job Title": "title",
        "Company": "company",
        "Website": "company_domain",
        "Country": "country",
        "Time Zone": "timezone",
    }
    assert sorted(created_hook) == sorted(
        [
            "john@acme.com",
            "bob@gmail.com",
            "jane@acme.com",
            "carl@initech-mail.com",
            "eve@xn--bcher-kva.de",
        ]
    )
    assert count(runtime, Lead) == 5
    assert count(runtime, Event, Event.type == "lead.created") == 5
    assert str(summary) == (
        "11 rows: 5 created, 0 updated, 0 unchanged, 4 rejected, 1 duplicate, 1 blank"
    )


def test_the_rejects_file_keeps_the_original_row_with_line_and_reason(runtime, tmp_path):
    summary = import_sample(runtime, tmp_path)
    assert summary.rejects_path == tmp_path / "rejects.csv"
    rows = read_rejects(summary.rejects_path)
    assert list(rows[0])[:10] == [
        "E-mail",
        "First Name",
        "Last Name",
        "Job Title",
        "Company",
        "Website",
        "Country",
        "Time Zone",
        "Plan",
        "Notes",
    ]
    assert list(rows[0])[10:] == ["_line", "_reason"]
    by_line = {row["_line"]: row for row in rows}
    assert sorted(by_line, key=int) == ["4", "6", "10", "11"]
    assert by_line["4"]["_reason"] == "email: An email address must have an @-sign."
    assert by_line["4"]["First Name"] == "Nobody"
    assert by_line["6"]["_reason"].startswith("timezone: unknown time zone 'Mars/Olympus'")
    assert by_line["10"]["_reason"].startswith("country: 'XX' is not an ISO 3166 alpha-2")
    assert by_line["11"]["_reason"] == (
        "row has 1 more value(s) than the header has columns (extra: 'surplus')"
    )
    assert by_line["11"][None] == ["surplus"]  # kept, after the reason


def test_the_last_row_of_a_duplicate_email_wins_and_the_earlier_is_reported(runtime, tmp_path):
    summary = import_sample(runtime, tmp_path)
    assert summary.duplicate_lines == [(2, 7)]
    jane = load_lead(runtime, "jane@acme.com")
    assert jane.title == "Chief Technology Officer"


def test_an_invalid_later_row_does_not_displace_an_earlier_valid_one(runtime, tmp_path):
    path = write_csv(
        tmp_path / "d.csv", "email,title,country\na@acme.com,CTO,DE\nA@acme.com,CEO,XX\n"
    )
    summary = import_leads_csv(runtime.sessions, path, now=NOW, progress=False)
    assert (summary.created, summary.rejected, summary.duplicates) == (1, 1, 0)
    assert load_lead(runtime, "a@acme.com").title == "CTO"


def test_a_corrected_rejects_file_can_be_imported_again(runtime, tmp_path):
    first = import_sample(runtime, tmp_path)
    text = first.rejects_path.read_text(encoding="utf-8-sig")
    fixed = write_csv(tmp_path / "fixed.csv", text.replace("not-an-email", "nobody@acme.com"))
    again = import_leads_csv(
        runtime.sessions, fixed, now=NOW, progress=False, rejects_path=tmp_path / "again.csv"
    )
    assert (again.created, again.rejected) == (1, 3)
    assert again.ignored_columns == ["Plan", "Notes"]  # _line and _reason are not reported
    header = (tmp_path / "again.csv").read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert header.count("_line") == 1 and header.count("_reason") == 1
    assert [row["_line"] for row in read_rejects(tmp_path / "again.csv")] == ["3", "4", "5"]


def test_imported_values_are_normalised_and_accounts_linked_by_domain(runtime, tmp_path):
    import_sample(runtime, tmp_path)
    eve = load_lead(runtime, "eve@xn--bcher-kva.de")
    assert (eve.first_name, eve.last_name, eve.title) == ("Eve", "Müller", "Leiterin, Einkauf")
    assert eve.timezone == "Europe/Berlin"
    assert (eve.account.domain, eve.account.name, eve.account.country) == (
        "xn--bcher-kva.de",
        "Bücher GmbH",
        "DE",
    )
    john, jane = load_lead(runtime, "john@acme.com"), load_lead(runtime, "jane@acme.com")
    assert john.account_id == jane.account_id
    # John's row came first, so his spelling named the account; Jane's did not overwrite it.
    assert john.account.name == "Acme Corporation"
    assert john.account.country == "DE"  # filled from Jane's row, which had one
    assert load_lead(runtime, "bob@gmail.com").account is None
    assert load_lead(runtime, "carl@initech-mail.com").account.domain == "initech.com"
    assert john.source == "csv"


def test_reimporting_the_same_file_changes_nothing(runtime, tmp_path, created_hook):
    import_sample(runtime, tmp_path)
    events = count(runtime, Event)
    created_hook.clear()
    again = import_leads_csv(
        runtime.sessions,
        SAMPLE,
        now=NOW + timedelta(days=1),
        progress=False,
        rejects_path=tmp_path / "rejects2.csv",
    )
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    assert (again.rejected, again.duplicates, again.blank) == (4, 1, 1)
    assert again.accounts_created == 0
    assert created_hook == []
    assert count(runtime, Event) == events
    assert count(runtime, Lead) == 5
    assert load_lead(runtime, "jane@acme.com").updated_at == NOW


def test_existing_leads_are_updated_and_counted(runtime, tmp_path, created_hook):
    upsert(runtime, email="john@acme.com", first_name="Johnny")
    created_hook.clear()
    summary = import_sample(runtime, tmp_path)
    assert (summary.created, summary.updated, summary.unchanged) == (4, 1, 0)
    assert summary.accounts_created == 2  # acme.com existed already
    assert "john@acme.com" not in created_hook and len(created_hook) == 4
    assert load_lead(runtime, "john@acme.com").first_name == "John"


def test_small_batches_give_the_same_result(runtime, tmp_path):
    summary = import_sample(runtime, tmp_path, batch_size=2)
    assert (summary.created, summary.rejected, summary.duplicates) == (5, 4, 1)
    assert count(runtime, Account) == 3


def test_extra_columns_can_become_custom_attributes(runtime, tmp_path):
    summary = import_sample(runtime, tmp_path, extra_columns="attributes")
    assert summary.ignored_columns == []
    assert summary.columns["Plan"] == "attributes.plan"
    assert load_lead(runtime, "jane@acme.com").attributes == {"plan": "enterprise"}
    assert load_lead(runtime, "bob@gmail.com").attributes == {}


def write_csv(path: Path, text: str, encoding="utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_semicolons_windows_1252_and_an_explicit_mapping(runtime, tmp_path):
    path = write_csv(
        tmp_path / "export.csv",
        "Work Email;Private Email;Vorname;Tarif\r\njürgen@firma.de;j@gmx.de;Jürgen;Gold\r\n",
        encoding="cp1252",
    )
    summary = import_leads_csv(
        runtime.sessions,
        path,
        now=NOW,
        progress=False,
        mapping={"Work Email": "email", "Vorname": "first_name", "Tarif": "attributes.tier"},
    )
    assert (summary.encoding, summary.delimiter) == ("cp1252", ";")
    assert summary.created == 1
    assert summary.ignored_columns == ["Private Email"]
    lead = load_lead(runtime, "jürgen@firma.de")
    assert (lead.first_name, lead.attributes) == ("Jürgen", {"tier": "Gold"})


def test_an_explicit_mapping_overrides_the_recognised_header(runtime, tmp_path):
    path = write_csv(tmp_path / "two.csv", "Email,Work Email\nprivate@gmail.com,jane@acme.com\n")
    summary = import_leads_csv(
        runtime.sessions, path, now=NOW, progress=False, mapping={"Work Email": "email"}
    )
    assert summary.columns == {"Work Email": "email"}
    assert summary.ignored_columns == ["Email"]
    assert summary.notes == [
        "column 'Email' also looks like 'email'; column 'Work Email' is used (choose with --map)"
    ]
    assert count(runtime, Lead, Lead.email == "jane@acme.com") == 1


def test_tab_separated_with_a_byte_order_mark(runtime, tmp_path):
    path = write_csv(tmp_path / "t.tsv", "\ufeffEmail\tStage\na@acme.com\tMQL\n")
    summary = import_leads_csv(runtime.sessions, path, now=NOW, progress=False)
    assert (summary.delimiter, summary.created) == ("\t", 1)
    assert load_lead(runtime, "a@acme.com").stage == "mql"


def test_a_stage_column_changes_existing_stages_and_is_counted(runtime, tmp_path):
    upsert(runtime, email="a@acme.com", stage="customer")
    path = write_csv(tmp_path / "s.csv", "email,stage\na@acme.com,lead\n")
    summary = import_leads_csv(runtime.sessions, path, now=NOW, progress=False)
    assert (summary.updated, summary.stage_changes) == (1, 1)


def test_consent_basis_applies_to_rows_without_one(runtime, tmp_path):
    path = write_csv(tmp_path / "c.csv", "email,lawful_basis\na@acme.com,\nb@acme.com,contract\n")
    import_leads_csv(
        runtime.sessions, path, now=NOW, progress=False, consent_basis="legitimate_interest"
    )
    assert load_lead(runtime, "a@acme.com").lawful_basis == "legitimate_interest"
    assert load_lead(runtime, "b@acme.com").lawful_basis == "contract"


def test_a_json_attributes_column_is_parsed(runtime, tmp_path):
    path = write_csv(
        tmp_path / "j.csv",
        'email,attributes\na@acme.com,"{""plan"": ""pro"", ""seats"": 3}"\nb@acme.com,plan=pro\n',
    )
    summary = import_leads_csv(
        runtime.sessions, path, now=NOW, progress=False, rejects_path=tmp_path / "r.csv"
    )
    assert (summary.created, summary.rejected) == (1, 1)
    assert load_lead(runtime, "a@acme.com").attributes == {"plan": "pro", "seats": 3}
    assert read_rejects(tmp_path / "r.csv")[0]["_reason"].startswith("attributes: not valid JSON")


def test_no_rejects_means_no_rejects_file(runtime, tmp_path):
    path = write_csv(tmp_path / "ok.csv", "email\na@acme.com\n")
    summary = import_leads_csv(runtime.sessions, path, now=NOW, progress=False)
    assert summary.rejects_path is None
    assert not (tmp_path / "ok.rejects.csv").exists()


def test_the_default_rejects_file_sits_beside_the_input(runtime, tmp_path):
    path = write_csv(tmp_path / "in.csv", "email\nnope\n")
    summary = import_leads_csv(runtime.sessions, path, now=NOW, progress=False)
    assert summary.rejects_path == tmp_path / "in.rejects.csv"
    assert read_rejects(summary.rejects_path)[0]["_line"] == "2"


@pytest.mark.parametrize(
    ("content", "mapping", "message"),
    [
        ("name,phone\nJane,123\n", None, "no email column"),
        ("", None, "is empty"),
        ("email,email\na@b.com,c@d.com\n", None, "duplicate column names"),
        ("email\na@acme.com\n", {"Mail": "email"}, "does not have"),
        ("email,x\na@acme.com,1\n", {"x": "favourite"}, "not a lead field"),
        ("email,x\na@acme.com,1\n", {"x": "email", "email": "email"}, "both mapped to"),
    ],
)
def test_an_import_that_cannot_start_says_why(runtime, tmp_path, content, mapping, message):
    path = write_csv(tmp_path / "bad.csv", content)
    with pytest.raises(LeadImportError, match=message):
        import_leads_csv(runtime.sessions, path, now=NOW, progress=False, mapping=mapping)
    assert count(runtime, Lead) == 0


def test_the_rejects_file_cannot_overwrite_the_input(runtime, tmp_path):
    path = write_csv(tmp_path / "in.csv", "email\nnope\n")
    with pytest.raises(LeadImportError, match="must not be the file being imported"):
        import_leads_csv(runtime.sessions, path, now=NOW, progress=False, rejects_path=path)
    assert path.read_text() == "email\nnope\n"


def test_a_missing_or_undecodable_file_cannot_be_imported(runtime, tmp_path):
    with pytest.raises(LeadImportError, match="cannot read"):
        import_leads_csv(runtime.sessions, tmp_path / "nope.csv", now=NOW, progress=False)
    path = tmp_path / "binary.csv"
    path.write_bytes(b"email\n\x81\x8d\x8f\x90\x9d@x.com\n")
    with pytest.raises(LeadImportError, match="neither UTF-8 nor Windows-1252 text"):
        import_leads_csv(runtime.sessions, path, now=NOW, progress=False)


# ---------------------------------------------------------------- CLI


def test_cli_import_prints_the_summary_and_the_rejects_path(app, tmp_path, created_hook):
    rejects = tmp_path / "out" / "rejects.csv"
    result = app.test_cli_runner().invoke(
        cli,
        [
            "leads",
            "import",
            str(SAMPLE),
            "--rejects",
            str(rejects),
            "--source",
            "tradeshow",
            "--extra-columns",
            "attributes",
            "--consent-basis",
            "legitimate_interest",
            "--map",
            "Notes=-",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "created" in result.output and "rejected" in result.output
    assert str(rejects) in result.output.replace("\n", "")
    assert rejects.exists()
    assert len(created_hook) == 5
    runtime = app.extensions["nurture"]
    jane = load_lead(runtime, "jane@acme.com")
    assert (jane.source, jane.lawful_basis, jane.attributes) == (
        "tradeshow",
        "legitimate_interest",
        {"plan": "enterprise"},
    )


def test_cli_import_exits_1_when_the_file_cannot_be_read(app, tmp_path):
    result = app.test_cli_runner().invoke(cli, ["leads", "import", str(tmp_path / "missing.csv")])
    assert result.exit_code == 1
    assert "cannot read" in result.output


def test_cli_import_reports_a_bad_mapping(app, tmp_path):
    result = app.test_cli_runner().invoke(
        cli, ["leads", "import", str(SAMPLE), "--map", "no equals sign"]
    )
    assert result.exit_code == 1
    assert "bad mapping" in result.output


def test_cli_list_shows_leads_filtered_by_stage(app, tmp_path):
    runtime = app.extensions["nurture"]
    upsert(runtime, email="a@acme.com", stage="mql")
    upsert(runtime, email="b@acme.com")
    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["leads", "list", "--stage", "mql"])
    assert result.exit_code == 0, result.output
    assert "a@acme.com" in result.output and "b@acme.com" not in result.output
    result = runner.invoke(cli, ["leads", "list", "--limit", "1"])
    assert "a@acme.com" in result.output and "b@acme.com" not in result.output


def test_a_batch_the_database_refuses_is_retried_row_by_row(runtime, tmp_path, monkeypatch):
    # Simulates another process creating one of the leads between validation and insert:
    # the batch fails, every row is retried alone, and only the refused row is rejected.
    real = lead_import.upsert_leads

    def refusing(session, items, **kwargs):
        if any(item.email == "b@acme.com" for item in items):
            raise IntegrityError("INSERT INTO leads", {}, Exception("UNIQUE constraint failed"))
        return real(session, items, **kwargs)

    monkeypatch.setattr(lead_import, "upsert_leads", refusing)
    path = write_csv(tmp_path / "r.csv", "email\na@acme.com\nb@acme.com\nc@acme.com\n")
    summary = import_leads_csv(
        runtime.sessions, path, now=NOW, progress=False, rejects_path=tmp_path / "rej.csv"
    )
    assert (summary.created, summary.rejected) == (2, 1)
    [row] = read_rejects(tmp_path / "rej.csv")
    assert (row["email"], row["_line"]) == ("b@acme.com", "3")
    assert row["_reason"] == "the database refused the row: UNIQUE constraint failed"
    assert count(runtime, Lead) == 2
