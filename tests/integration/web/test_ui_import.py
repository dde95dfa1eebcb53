"""The import pages: upload → preview → mapping → run → counts → rejects, with hostile files."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from nurture.models import AuditLog, ImportJob, ImportReject, Lead
from nurture.platform.db import transaction, utcnow
from nurture.web import create_app
from nurture.web.ui.imports import join_imports
from tests.integration.web.ui_support import csrf_token, signed_in_client

POLISH = (
    "Imię;Nazwisko;Adres e-mail;Firma;Stanowisko;Telefon;Kraj;Kod rabatowy\r\n"
    "Jan;Kowalski;jan@acme.pl;Acme;CEO;+48 22 123 45 67;PL;A1\r\n"
    "Anna;Nowak;anna@acme.pl;Acme;CFO;;PL;B2\r\n"
    "Zła;Linia;nie-email;Acme;;;PL;C3\r\n"
    "Ewa;Wiśniewska;ewa@beta.pl;Beta;Inżynier;;DE;\r\n"
)


def sessions(app):
    return app.extensions["nurture"].sessions


def upload(client, data: bytes, name: str = "leads.csv"):
    token = csrf_token(client, "/import")
    return client.post(
        "/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def job_id_of(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(re.search(r"/import/(\d+)$", response.headers["Location"]).group(1))


def start(client, job_id: int, targets: list[str], **options):
    token = csrf_token(client, f"/import/{job_id}")
    data = {f"column_{i}": t for i, t in enumerate(targets)}
    data.update({"csrf_token": token, "consent_basis": "legitimate_interest", "source": "fair"})
    data["confirm"] = "y"
    data.update(options)
    return client.post(f"/import/{job_id}/start", data=data)


def selected(html: str, index: int) -> str:
    select_html = re.search(rf'<select[^>]*name="column_{index}".*?</select>', html, re.S).group(0)
    return (
        re.search(
            r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', select_html
        ).group(1)
        or ""
    )


@pytest.fixture
def marketer(app):
    return signed_in_client(app, "marketer")


def test_a_polish_file_is_previewed_with_suggestions_imported_and_its_rejects_downloaded(
    app, marketer
):
    job_id = job_id_of(upload(marketer, POLISH.encode("cp1250"), "targi.csv"))
    html = marketer.get(f"/import/{job_id}").get_data(as_text=True)
    assert "Wiśniewska" in html  # cp1250 detected, not read as Windows-1252
    assert "<td>jan@acme.pl</td>" in html
    suggested = [selected(html, i) for i in range(8)]
    assert suggested == [
        "first_name",
        "last_name",
        "email",
        "company",
        "title",
        "phone",
        "country",
        "-",
    ]

    targets = [*suggested[:7], "attributes.kod_rabatowy"]
    response = start(marketer, job_id, targets)
    assert response.status_code == 302
    join_imports(app)

    page = marketer.get(f"/import/{job_id}").get_data(as_text=True)
    assert "Done" in page and 'value="100"' in page
    with transaction(sessions(app)) as session:
        job = session.get(ImportJob, job_id)
        assert (job.status, job.created, job.rejected, job.rows_read, job.rows_total) == (
            "done",
            3,
            1,
            4,
            4,
        )
        assert job.stored_name is None  # the uploaded copy is gone once imported
        jan = session.scalar(select(Lead).where(Lead.email == "jan@acme.pl"))
        assert (jan.first_name, jan.title, jan.lawful_basis, jan.source) == (
            "Jan",
            "CEO",
            "legitimate_interest",
            "fair",
        )
        assert jan.attributes == {"kod_rabatowy": "A1"}
        actions = set(session.scalars(select(AuditLog.action)))
    assert "app.ui_import.start" in actions and "app.ui_import.upload" in actions

    status = marketer.get(f"/import/{job_id}/status").get_json()
    assert status["status"] == "done" and status["counts"]["rejected"] == 1

    download = marketer.get(f"/import/{job_id}/rejects.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = list(
        csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")
    )
    assert rows[0][-2:] == ["_line", "_reason"]
    assert rows[1][:3] == ["Zła", "Linia", "nie-email"] and rows[1][8] == "4"
    assert rows[1][9].startswith("email:")


def test_hostile_rows_are_rejected_with_their_line_and_reason_and_the_csv_is_formula_safe(
    app, marketer
):
    long_name = "x" * 10_000
    text = (
        "email,first_name,notes\n"
        '=cmd|"/c calc"!A1,Eve,x\n'
        f"long@example.com,{long_name},x\n"
        "nul@example.com,Nu\x00ll,x\n"
        "ok@example.com,Ok,x\n"
        "extra@example.com,Ex,x,too,many\n"
        'open@example.com,"Never closed,x\n'
        "after@example.com,After,x\n"
    )
    job_id = job_id_of(upload(marketer, text.encode()))
    start(marketer, job_id, ["email", "first_name", "-"])
    join_imports(app)
    with transaction(sessions(app)) as session:
        job = session.get(ImportJob, job_id)
        assert (job.created, job.rejected) == (2, 5), job.error
        lines = dict(session.execute(select(ImportReject.line, ImportReject.reason)).all())
        emails = set(session.scalars(select(Lead.email)))
    assert emails == {"ok@example.com", "after@example.com"}
    assert sorted(lines) == [2, 3, 4, 6, 7]
    assert "at most 100 characters" in lines[3]
    assert "control characters" in lines[4]
    assert "more value" in lines[6]
    assert "never closed" in lines[7]
    body = marketer.get(f"/import/{job_id}/rejects.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[1][0].startswith("'=cmd")
    assert rows[2][1] == long_name


def test_a_quote_closed_by_a_later_row_and_a_short_row_are_rejected_and_no_lead_is_lost(
    app, marketer
):
    text = (
        "email,first_name,company\n"
        'ann@example.com,Ann,"Acme\n'
        "bob@example.com,Bob,Beta\n"
        'cy@example.com,Cy,"Gamma"\n'
        "di@example.com,Di\n"
    )
    job_id = job_id_of(upload(marketer, text.encode()))
    start(marketer, job_id, ["email", "first_name", "company"])
    join_imports(app)
    with transaction(sessions(app)) as session:
        job = session.get(ImportJob, job_id)
        assert (job.rows_read, job.created, job.rejected) == (4, 2, 2), job.error
        lines = dict(session.execute(select(ImportReject.line, ImportReject.reason)).all())
        emails = set(session.scalars(select(Lead.email)))
    assert emails == {"bob@example.com", "cy@example.com"}
    assert sorted(lines) == [2, 5]
    assert "takes in the lines after it" in lines[2]
    assert "header has 3 columns" in lines[5]


def test_a_file_without_an_email_column_cannot_start_and_nothing_is_saved(app, marketer):
    job_id = job_id_of(upload(marketer, b"Name,Phone\nJan,+48 1234567\n"))
    response = start(marketer, job_id, ["first_name", "first_name"], consent_basis="")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Map one column to Email" not in html or "already mapped" in html
    assert 'id="column_1-error"' in html and "already mapped" in html
    assert 'id="consent_basis-error"' in html
    response = start(marketer, job_id, ["first_name", "phone"])
    assert response.status_code == 422
    assert "Map one column to Email" in response.get_data(as_text=True)
    response = start(marketer, job_id, ["email", "phone"], source="fa\x00ir")
    assert response.status_code == 422
    assert 'id="source-error"' in response.get_data(as_text=True)
    with transaction(sessions(app)) as session:
        job = session.get(ImportJob, job_id)
        assert (job.status, job.mapping) == ("uploaded", None)
        assert session.scalar(select(func.count()).select_from(Lead)) == 0


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.csv", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "logo.csv", "not a text file"),
        (b"PK\x03\x04\x14\x00\x06\x00", "book.xlsx", "spreadsheet"),
    ],
)
def test_files_that_are_not_csv_are_refused_beside_the_field(app, marketer, data, name, message):
    response = upload(marketer, data, name)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="file-error"' in html and message in html
    with transaction(sessions(app)) as session:
        assert session.scalar(select(func.count()).select_from(ImportJob)) == 0


def test_a_file_over_the_size_limit_gets_a_clear_413_page(settings):

    app = create_app(
        {"NURTURE_SETTINGS": settings.with_overrides(import_max_size=1000), "TESTING": True}
    )
    try:
        client = signed_in_client(app, "marketer")
        response = upload(client, b"email\n" + b"a@example.com\n" * 10_000)
        assert response.status_code == 413
        html = response.get_data(as_text=True)
        assert 'id="file-error"' in html and "larger than the limit" in html
    finally:
        app.extensions["nurture"].close()


def test_utf16_and_tab_separated_files_are_read(app, marketer):
    text = "E-Mail-Adresse\tVorname\r\nkarl@firma.de\tKarl\r\n"
    job_id = job_id_of(upload(marketer, text.encode("utf-16")))
    html = marketer.get(f"/import/{job_id}").get_data(as_text=True)
    assert selected(html, 0) == "email" and selected(html, 1) == "first_name"
    with transaction(sessions(app)) as session:
        job = session.get(ImportJob, job_id)
        assert (job.encoding, job.delimiter) == ("utf-16", "\t")


def test_an_interrupted_import_is_marked_and_resumes_without_counting_twice(app, marketer):
    rows = "".join(f"p{i}@example.com,P{i}\n" for i in range(7))
    job_id = job_id_of(upload(marketer, ("email,first_name\n" + rows).encode()))
    with transaction(sessions(app)) as session:
        job = session.get(ImportJob, job_id)
        # As a process that died after its first batch of 3 would have left it.
        job.mapping, job.consent_basis, job.status = ["email", "first_name"], "consent", "running"
        job.rows_read, job.created, job.rows_total = 3, 3, 7
        job.heartbeat_at = utcnow() - timedelta(hours=1)
        for i in range(3):
            session.add(Lead(email=f"p{i}@example.com", stage="subscriber"))
    page = marketer.get(f"/import/{job_id}").get_data(as_text=True)
    assert "Interrupted" in page and "Resume" in page
    token = csrf_token(marketer, f"/import/{job_id}")
    assert marketer.post(f"/import/{job_id}/resume", data={"csrf_token": token}).status_code == 303
    join_imports(app)
    with transaction(sessions(app)) as session:
        job = session.get(ImportJob, job_id)
        assert (job.status, job.rows_read, job.created, job.updated, job.unchanged) == (
            "done",
            7,
            7,
            0,
            0,
        )
        assert session.scalar(select(func.count()).select_from(Lead)) == 7


@pytest.mark.parametrize("role", ["viewer", "sales-manager"])
def test_roles_without_lead_editing_cannot_reach_the_import(app, role):
    client = signed_in_client(app, role)
    assert client.get("/import").status_code == 403
    assert client.get("/import/1/rejects.csv").status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/import/99999999999999999999",
        "/import/0",
        "/import/42",
        "/import/42/status",
        "/import/42/rejects.csv",
        "/import/%00",
        "/import/abc",
    ],
)
def test_unknown_or_bad_ids_are_404(marketer, path):
    assert marketer.get(path).status_code == 404


def test_the_list_shows_past_imports_and_a_bad_cursor_is_the_first_page(app, marketer):
    job_id_of(
        upload(
            marketer,
            b"email\n<script>alert(1)</script>@x.com\n",
            "<img src=x onerror=alert(1)>.csv",
        )
    )
    html = marketer.get("/import?after=%00zz").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;.csv" in html and "<img src=x" not in html
    assert "Waiting for mapping" in html


def test_erasing_a_person_erases_their_rows_kept_by_imports(app, marketer):
    first = job_id_of(upload(marketer, b"email,first_name\r\nbob_1@acme.example,Bob\r\n"))
    start(marketer, first, ["email", "first_name"])
    join_imports(app)
    # A later file has Bob again, on a row that fails on another field: it is rejected and
    # kept with the job, values and all; an unknown file waits with its first rows shown.
    later = b"email,first_name,timezone\r\nBOB_1@acme.example,Bob,Mars/Olympus_Mons\r\n"
    rejected = job_id_of(upload(marketer, later))
    start(marketer, rejected, ["email", "first_name", "timezone"])
    join_imports(app)
    waiting = job_id_of(
        upload(marketer, b"email,name\r\nann@acme.example,Ann\r\nbob_1@acme.example,Bob\r\n")
    )
    assert "bob_1@acme.example" in marketer.get(f"/import/{waiting}").get_data(as_text=True)
    assert "BOB_1" in marketer.get(f"/import/{rejected}/rejects.csv").get_data(as_text=True)
    with transaction(sessions(app)) as session:
        bob = session.scalar(select(Lead).where(Lead.email == "bob_1@acme.example"))
        bob_id = bob.id

    admin = signed_in_client(app, "admin")
    token = csrf_token(admin, f"/leads/{bob_id}/erase")
    erased = admin.post(
        f"/leads/{bob_id}/erase",
        data={"csrf_token": token, "confirm": "bob_1@acme.example"},
        follow_redirects=True,
    )
    assert "Their rows were also removed from 2 lead imports." in erased.get_data(as_text=True)

    rejects = marketer.get(f"/import/{rejected}/rejects.csv").get_data(as_text=True)
    assert "bob" not in rejects.lower() and "Mars" not in rejects
    assert len(rejects.strip().splitlines()) == 2  # the header, and the row's line kept
    page = marketer.get(f"/import/{waiting}").get_data(as_text=True)
    assert "bob_1@acme.example" not in page and "ann@acme.example" in page
    # The waiting file lost Bob's row: importing it now brings Ann in, and not Bob back.
    start(marketer, waiting, ["email", "first_name"])
    join_imports(app)
    with transaction(sessions(app)) as session:
        job = session.get(ImportJob, waiting)
        assert (job.status, job.created, job.blank) == ("done", 1, 1)
        emails = set(session.scalars(select(Lead.email).where(Lead.erased_at.is_(None))))
    assert emails == {"ann@acme.example"}


def test_the_job_page_says_who_of_the_imported_leads_cannot_be_mailed_and_why(app, marketer):
    data = "email;Zgoda\nzgoda@acme.pl;granted\nbrak@acme.pl;\ninny@acme.pl;\n"
    job_id = job_id_of(upload(marketer, data.encode(), "lista.csv"))
    response = start(marketer, job_id, ["email", "consent_status"], consent_basis="consent")
    assert response.status_code == 302
    join_imports(app)
    with transaction(sessions(app)) as session:
        job = session.get(ImportJob, job_id)
        assert (job.status, job.created, job.mailable, job.not_mailable) == (
            "done",
            3,
            1,
            {"no_consent_basis": 2},
        )
    page = marketer.get(f"/import/{job_id}").get_data(as_text=True)
    assert "Who can be mailed" in page
    assert re.search(r"data-import-mailable>1<", page)
    assert re.search(r'data-import-not-mailable="no_consent_basis">2<', page)
    assert "Leads without a consent basis are kept but not mailed" in page
    status = marketer.get(f"/import/{job_id}/status").get_json()
    assert (status["mailable"], status["not_mailable"]) == (1, {"no_consent_basis": 2})


def test_a_batch_consent_chosen_on_the_page_is_recorded_with_the_file_name(app, marketer):
    data = "email;Zgoda\nnowy@acme.pl;\nwlasna@acme.pl;withdrawn\n"
    job_id = job_id_of(upload(marketer, data.encode(), "webinar.csv"))
    response = start(
        marketer,
        job_id,
        ["email", "consent_status"],
        consent_basis="consent",
        consent_status="granted",
    )
    assert response.status_code == 302
    join_imports(app)
    with transaction(sessions(app)) as session:
        job = session.get(ImportJob, job_id)
        assert (job.consent_status, job.mailable, job.not_mailable) == (
            "granted",
            1,
            {"withdrawn": 1},
        )
        new = session.scalar(select(Lead).where(Lead.email == "nowy@acme.pl"))
        assert (new.consent_status, new.consent_source) == ("granted", "import webinar.csv")
    page = marketer.get(f"/import/{job_id}").get_data(as_text=True)
    assert "Consent for this batch" in page


def test_an_unknown_batch_consent_is_refused_beside_its_select(app, marketer):
    job_id = job_id_of(upload(marketer, b"email\na@acme.pl\n", "a.csv"))
    response = start(marketer, job_id, ["email"], consent_status="maybe")
    assert response.status_code == 422
    with transaction(sessions(app)) as session:
        assert session.get(ImportJob, job_id).status == "uploaded"
