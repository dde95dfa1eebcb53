"""Erasing a person also erases them from lead imports: the uploaded files waiting for (or
in the middle of) their import, the rejected rows and previews jobs keep; and no import
brings an erased person back. Real files in the instance folder, the real import job."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from nurture.auth.apikeys import create_api_key
from nurture.cli import cli, privacy_cmd  # noqa: F401  (registers the commands)
from nurture.leads import import_jobs
from nurture.leads.csv_import import import_leads_csv
from nurture.models import AuditLog, ImportJob, ImportReject, Lead
from nurture.platform.db import transaction
from nurture.privacy.rights import ErasureReport, erase_lead
from tests.conftest import BACKEND
from tests.integration.engine_support import T0, add_lead

ERASED = "erased at the person's request"


def upload(runtime, data: bytes) -> int:
    with transaction(runtime.sessions) as session:
        job = import_jobs.create_job(
            session,
            instance_path=runtime.settings.instance_path,
            stream=io.BytesIO(data),
            file_name="fair.csv",
            user_id=None,
            now=T0,
            max_bytes=10_000_000,
        )
        return job.id


def queue(runtime, job_id: int, targets: list[str]) -> None:
    with transaction(runtime.sessions) as session:
        job = session.get(ImportJob, job_id)
        problems = import_jobs.start_job(
            session,
            job,
            targets=targets,
            consent_basis="legitimate_interest",
            source="fair",
            now=T0,
        )
        assert not problems


def run(runtime, job_id: int, batch_size: int = 2) -> ImportJob:
    import_jobs.run_job(
        runtime.sessions,
        job_id,
        instance_path=runtime.settings.instance_path,
        default_timezone="UTC",
        batch_size=batch_size,
        clock=lambda: T0,
    )
    return job(runtime, job_id)


def job(runtime, job_id: int) -> ImportJob:
    with transaction(runtime.sessions) as session:
        found = session.get(ImportJob, job_id)
        session.expunge(found)
        return found


def stored(runtime, job_id: int) -> Path:
    path = import_jobs.stored_path(runtime.settings.instance_path, job(runtime, job_id))
    assert path is not None
    return path


def erase(runtime, ref: str) -> ErasureReport:
    with transaction(runtime.sessions) as session:
        return erase_lead(
            session, ref, now=T0, actor="test", instance_path=runtime.settings.instance_path
        )


def emails(runtime) -> set[str]:
    with transaction(runtime.sessions) as session:
        return set(session.scalars(select(Lead.email).where(Lead.erased_at.is_(None))))


def rejects(runtime, job_id: int) -> list[tuple[int, list, str]]:
    with transaction(runtime.sessions) as session:
        rows = session.scalars(
            select(ImportReject).where(ImportReject.job_id == job_id).order_by(ImportReject.line)
        )
        return [(row.line, row.values, row.reason) for row in rows]


FAIR = (
    "email,first_name,notes\r\n"
    "ann@acme.example,Ann,met at the stand\r\n"
    'bob@acme.example,Bob,"asked for a demo,\r\nnext week"\r\n'
    "cyd@acme.example,Cyd,\r\n"
    "not-an-address,Dee,\r\n"
    "eve@acme.example,Eve,\r\n"
)


def test_a_queued_import_loses_the_erased_persons_row_and_does_not_bring_them_back(runtime):
    bob = add_lead(runtime, "bob@acme.example")
    job_id = upload(runtime, FAIR.encode())
    queue(runtime, job_id, ["email", "first_name", "-"])

    report = erase(runtime, str(bob))

    text = stored(runtime, job_id).read_bytes().decode()
    assert "bob" not in text.lower() and "demo" not in text
    # The row is emptied on as many lines: every other row keeps its place and its line.
    assert text == FAIR.replace('bob@acme.example,Bob,"asked for a demo,\r\nnext week"', ",,\r\n")
    assert (report.imports.imports, report.imports.file_rows) == (1, 1)
    # The first rows were shown to map the columns, and forgotten when the import started.
    assert report.imports.preview_rows == 0 and job(runtime, job_id).preview == []

    done = run(runtime, job_id)
    assert (done.status, done.created, done.blank, done.rejected) == ("done", 3, 1, 1)
    assert emails(runtime) == {"ann@acme.example", "cyd@acme.example", "eve@acme.example"}
    # The rejected row is reported on the line it has in the file the marketer holds.
    assert [line for line, _, _ in rejects(runtime, job_id)] == [6]


def _wait_for_a_lock_wait(runtime) -> None:  # type: ignore[no-untyped-def]
    """On PostgreSQL, until a session of the test's database waits for a lock (the erasure
    queued behind the batch in hand), so it is first in the queue when the batch ends; on
    SQLite, a moment."""
    if BACKEND != "postgresql":
        time.sleep(0.5)
        return
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 10
    with runtime.engine.connect() as connection:
        while not connection.scalar(waiting):
            assert time.monotonic() < deadline, "the erasure never waited for the import"
            time.sleep(0.02)
            connection.rollback()


def test_an_erasure_during_an_import_waits_for_its_batch_and_the_import_refuses_the_person(
    runtime, monkeypatch
):
    add_lead(runtime, "bob@acme.example")
    job_id = upload(
        runtime,
        b"email,first_name\nann@acme.example,Ann\nbob@acme.example,Bob\ncyd@acme.example,Cyd\n",
    )
    queue(runtime, job_id, ["email", "first_name"])
    # The import stops inside its first batch's transaction until told to go on: by then it
    # has read the whole file, Bob's row included.
    in_batch, go_on = threading.Event(), threading.Event()
    record_counts = import_jobs._record_counts

    def pausing(job, summary, now):
        if not in_batch.is_set():
            in_batch.set()
            assert go_on.wait(10)
        record_counts(job, summary, now)

    monkeypatch.setattr(import_jobs, "_record_counts", pausing)
    importing = threading.Thread(target=run, args=(runtime, job_id, 1))
    importing.start()
    assert in_batch.wait(10)
    reports: list[ErasureReport] = []
    erasing = threading.Thread(target=lambda: reports.append(erase(runtime, "bob@acme.example")))
    erasing.start()

    try:
        _wait_for_a_lock_wait(runtime)
        assert erasing.is_alive()  # waiting for the batch in hand
    finally:
        go_on.set()
        erasing.join(20)
        importing.join(20)

    assert reports, "the erasure did not finish"
    done = job(runtime, job_id)
    assert (done.status, done.created) == ("done", 2)
    assert emails(runtime) == {"ann@acme.example", "cyd@acme.example"}
    assert all("bob" not in str(values) for _, values, _ in rejects(runtime, job_id))
    if BACKEND == "postgresql":
        # The erasure queued first for the job's lock: it emptied Bob's row in the file, and
        # the import's next batch waited for it, then refused the row it had read before.
        # (SQLite's next writer is whoever retries first: there the import may also finish
        # first, and the erasure then finds Bob as a lead like any other.)
        assert reports[0].imports.file_rows == 1
        assert rejects(runtime, job_id) == [(3, [], ERASED)]


def test_an_interrupted_import_resumes_at_the_right_row_after_an_erasure(runtime):
    rows = "".join(f"p{i}@acme.example,P{i}\n" for i in range(7))
    job_id = upload(runtime, ("email,first_name\n" + rows).encode())
    queue(runtime, job_id, ["email", "first_name"])
    with transaction(runtime.sessions) as session:
        interrupted = session.get(ImportJob, job_id)
        # As a process that died after its first batch of 3 would have left it.
        interrupted.status, interrupted.rows_read, interrupted.created = "interrupted", 3, 3
    for i in range(3):
        add_lead(runtime, f"p{i}@acme.example")
    add_lead(runtime, "p5@acme.example")  # also known from elsewhere

    # One person the import had already brought in, one it had still to read.
    erase(runtime, "p1@acme.example")
    report = erase(runtime, "p5@acme.example")
    assert report.imports.file_rows == 1

    with transaction(runtime.sessions) as session:
        assert import_jobs.resume_job(session, session.get(ImportJob, job_id), T0)
    done = run(runtime, job_id)
    assert (done.status, done.rows_read, done.created, done.blank) == ("done", 7, 6, 1)
    assert emails(runtime) == {f"p{i}@acme.example" for i in (0, 2, 3, 4, 6)}


def test_an_erasure_leaves_files_without_the_address_byte_for_byte(runtime):
    add_lead(runtime, "al@acme.example")
    near_misses = "email,name\r\nhal@acme.example,Hal\r\nal@acme.example.org,Al Org\r\n"
    first = upload(runtime, near_misses.encode("utf-8-sig"))
    second = upload(runtime, "E-Mail\tName\r\nzoe@firma.example\tZoë\r\n".encode("utf-16"))
    before = {job_id: stored(runtime, job_id).read_bytes() for job_id in (first, second)}
    mtimes = {job_id: stored(runtime, job_id).stat().st_mtime_ns for job_id in (first, second)}

    report = erase(runtime, "al@acme.example")

    assert report.imports.imports == report.imports.rows == 0
    for job_id in (first, second):
        assert stored(runtime, job_id).read_bytes() == before[job_id]
        assert stored(runtime, job_id).stat().st_mtime_ns == mtimes[job_id]
    assert len(list(import_jobs.imports_folder(runtime.settings.instance_path).iterdir())) == 2


@pytest.mark.parametrize(
    ("encoding", "data", "expected"),
    [
        (
            "utf-16",
            "E-Mail\tName\nada@xn--bcher-kva.example\tAda\nzoë@firma.example\tZoë\n",
            "E-Mail\tName\n\t\nzoë@firma.example\tZoë\n",
        ),
        (
            "cp1250",
            "Adres e-mail;Imię;Miasto\r\njan@acme.pl;Jan;Wałbrzych\r\nAda@Bücher.example;Ada;Łódź",
            "Adres e-mail;Imię;Miasto\r\njan@acme.pl;Jan;Wałbrzych\r\n;;",
        ),
    ],
    ids=["utf-16", "cp1250"],
)
def test_a_file_is_purged_in_its_own_encoding_and_the_rest_of_it_stays(
    runtime, encoding, data, expected
):
    add_lead(runtime, "ada@xn--bcher-kva.example")
    job_id = upload(runtime, data.encode(encoding))
    assert job(runtime, job_id).encoding == encoding

    assert erase(runtime, "ada@bücher.example").imports.file_rows == 1

    assert stored(runtime, job_id).read_bytes() == expected.encode(encoding)


def test_a_stored_file_that_cannot_be_read_any_more_is_deleted_rather_than_left_unchecked(
    runtime,
):
    add_lead(runtime, "bob@acme.example")
    job_id = upload(runtime, b"email\r\nann@acme.example\r\n")
    path = stored(runtime, job_id)
    path.write_bytes(b"email\r\n\xff\xfe bob@acme.example\r\n")  # changed on disk

    assert erase(runtime, "bob@acme.example").imports.imports == 1

    assert not path.exists()
    left = job(runtime, job_id)
    assert left.stored_name is None and "could not be read" in left.error


def test_rejected_rows_of_a_finished_import_are_emptied_and_keep_their_line(runtime):
    job_id = upload(
        runtime,
        b"email,first_name,timezone\r\n"
        b"ann@acme.example,Ann,Mars/Olympus\r\n"
        b"BOB@acme.example,Bob,Mars/Olympus\r\n"
        b"hal@acme.example,Hal,Mars/Olympus\r\n",
    )
    queue(runtime, job_id, ["email", "first_name", "timezone"])
    assert run(runtime, job_id).rejected == 3
    add_lead(runtime, "bob@acme.example")  # known from elsewhere

    report = erase(runtime, "bob@acme.example")

    assert (report.imports.imports, report.imports.rejected_rows) == (1, 1)
    kept = rejects(runtime, job_id)
    assert [line for line, _, _ in kept] == [2, 3, 4]
    assert kept[1][1:] == ([], ERASED)
    assert kept[0][1][0] == "ann@acme.example" and kept[2][1][0] == "hal@acme.example"
    assert job(runtime, job_id).stored_name is None  # a finished import keeps no file


def test_no_import_brings_an_erased_person_back_nor_keeps_their_rejected_row(runtime):
    add_lead(runtime, "bob@acme.example")
    erase(runtime, "bob@acme.example")
    # A file uploaded after the erasure: Bob on a valid row and on one that fails on its
    # time zone (a rejected row keeps its values, but not an erased person's).
    job_id = upload(
        runtime,
        b"email,first_name,timezone\r\n"
        b"ann@acme.example,Ann,UTC\r\n"
        b"Bob@ACME.example,Bob,UTC\r\n"
        b"bob@acme.example,Robert,Mars/Olympus\r\n",
    )
    queue(runtime, job_id, ["email", "first_name", "timezone"])

    done = run(runtime, job_id)

    assert (done.created, done.rejected) == (1, 2)
    assert emails(runtime) == {"ann@acme.example"}
    assert rejects(runtime, job_id) == [(3, [], ERASED), (4, [], ERASED)]


def test_the_cli_import_refuses_an_erased_address_and_keeps_no_values_of_it(runtime, tmp_path):
    add_lead(runtime, "bob@acme.example")
    erase(runtime, "bob@acme.example")
    source = tmp_path / "crm.csv"
    source.write_text("email,first_name\nann@acme.example,Ann\nbob@acme.example,Bob\n")

    summary = import_leads_csv(runtime.sessions, source, now=T0, progress=False)

    assert (summary.created, summary.rejected) == (1, 1)
    assert emails(runtime) == {"ann@acme.example"}
    assert summary.rejects_path is not None
    assert summary.rejects_path.read_text(encoding="utf-8-sig").splitlines()[1:] == [
        f",,3,{ERASED}"
    ]


def test_a_failed_import_keeps_no_copy_of_the_file(runtime):
    job_id = upload(runtime, b"email,first_name\r\nann@acme.example,Ann\r\n")
    path = stored(runtime, job_id)
    queue(runtime, job_id, ["email", "first_name"])
    path.write_bytes(b"\xff\xfe\x00garbage")  # the file cannot be read any more

    failed = run(runtime, job_id)

    assert failed.status == "failed" and failed.error
    assert failed.stored_name is None and not path.exists()


def test_the_cli_says_what_it_removed_from_imports_and_the_audit_log_counts_it(app, runtime):
    add_lead(runtime, "bob@acme.example")
    waiting = upload(runtime, b"email\r\nann@acme.example\r\nbob@acme.example\r\n")

    result = app.test_cli_runner().invoke(cli, ["leads", "erase", "bob@acme.example", "--yes"])

    assert result.exit_code == 0, result.output
    assert "removed from 1 lead import(s): 1 row(s) of uploaded files" in result.output
    assert stored(runtime, waiting).read_bytes() == b'email\r\nann@acme.example\r\n""\r\n'
    with transaction(runtime.sessions) as session:
        detail = session.scalar(select(AuditLog.detail).where(AuditLog.action == "lead.erased"))
        assert detail["imports"] == {
            "imports": 1,
            "file_rows": 1,
            "rejected_rows": 0,
            "preview_rows": 1,
        }
        assert session.scalar(select(func.count()).select_from(ImportJob)) == 1


def test_the_api_erasure_says_what_it_removed_from_imports(app, runtime):
    with transaction(runtime.sessions) as session:
        _key, plaintext = create_api_key(session, "tests", now=T0)
    add_lead(runtime, "bob@acme.example")
    waiting = upload(runtime, b"email;name\r\nbob@acme.example;Bob\r\n")

    response = app.test_client().delete(
        "/api/v1/leads/bob@acme.example", headers={"Authorization": f"Bearer {plaintext}"}
    )

    assert response.status_code == 200
    assert response.json["removed_from_imports"] == {
        "imports": 1,
        "file_rows": 1,
        "rejected_rows": 0,
        "preview_rows": 1,
    }
    assert stored(runtime, waiting).read_bytes() == b"email;name\r\n;\r\n"
