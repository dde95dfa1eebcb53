"""The backtest beside the scoring, ICP and readiness editors: the saved files and the
edited text replayed through the same history, side by side; nothing saved."""

from __future__ import annotations

import csv
import gzip
import io
import re
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest

from nurture.backtest.report import Window
from nurture.backtest.runs import STALE, RunRequest, begin, history_path, load_history
from nurture.leads.service import upsert_lead
from nurture.leads.validation import validate_lead_data
from nurture.models import StageChange
from nurture.platform.config import Settings
from nurture.platform.db import transaction
from nurture.web.ui import authoring_backtest
from nurture.web.ui.authoring_backtest import INLINE_CONFIG
from nurture.web.ui.background import join_threads
from tests.integration.web.authoring_support import editable_settings
from tests.integration.web.backtest_support import JAN, LEADS, WARM_RULE, lead, with_history
from tests.integration.web.ui_support import csrf_token, signed_in_client


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return editable_settings(settings, tmp_path / "files")


@pytest.fixture
def marketer(app):  # type: ignore[no-untyped-def]
    return signed_in_client(app, "marketer")


def run(client, kind: str, text: str, **fields: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, f"/authoring/files/{kind}")
    data = {"text": text, "base": "", "action": "backtest", "csrf_token": token, **fields}
    return client.post(f"/authoring/backtest/{kind}", data=data)


def row(html: str, label: str) -> list[str]:
    """The cells of the comparison table's row ``label``, as text."""
    match = re.search(rf"<th scope=\"row\">{re.escape(label)}</th>(.*?)</tr>", html, re.S)
    assert match, label
    return [
        unescape(re.sub(r"<[^>]+>", "", c)).strip()
        for c in re.findall(r"<td[^>]*>(.*?)</td>", match.group(1), re.S)
    ]


def test_an_edited_rule_that_hands_over_more_leads_shows_beside_the_saved_files(
    app, marketer, settings
):  # type: ignore[no-untyped-def]
    with_history(settings)
    saved = settings.readiness_file.read_text()

    editor = marketer.get("/authoring/files/readiness").get_data(as_text=True)
    assert "the imported history file, 6 leads" in unescape(editor)
    response = run(marketer, "readiness", saved + WARM_RULE)

    assert response.status_code == 303
    assert response.headers["Location"].endswith("/authoring/backtest")
    html = marketer.get("/authoring/backtest").get_data(as_text=True)
    # No lead fits the saved rules (grade D); the warm rule hands over the four demo
    # requests, two of which converted.
    assert row(html, "Handed over") == ["0", "4", "↑ +4"]
    assert row(html, "Handed over and converted") == ["0", "2", "↑ +2"]
    assert row(html, "Precision") == ["—", "50.0%", "—"]
    assert row(html, "Recall") == ["0.0%", "66.7%", "↑ +66.7 points"]
    assert row(html, "Lift over the base rate") == ["—", "1.00×", "—"]
    assert row(html, "Median days from handover to conversion") == ["—", "28.0", "—"]
    assert row(html, "Converters missed") == ["3", "1", "↓ −2"]
    assert "January 2026" in html
    assert "Missed with the edited text (1)" in html
    # Nothing saved: the file on disk is the one it was.
    assert settings.readiness_file.read_text() == saved


def test_the_period_filter_replays_only_the_leads_created_in_it(app, marketer, settings):  # type: ignore[no-untyped-def]
    with_history(settings)
    text = settings.readiness_file.read_text() + WARM_RULE

    # Leads b, c and d; only b's demo request comes before the period's end (the rule may
    # hand a lead over until then, as the command's --to does).
    run(marketer, "readiness", text, **{"from": "2026-01-06", "to": "2026-01-08"})

    html = unescape(marketer.get("/authoring/backtest").get_data(as_text=True))
    assert row(html, "Leads replayed") == ["3", "3", "±0"]
    assert row(html, "Handed over") == ["0", "1", "↑ +1"]
    assert "Period: leads created from Jan 6, 2026 to Jan 8, 2026." in html


def test_a_bad_period_is_refused_beside_its_fields(app, marketer, settings):  # type: ignore[no-untyped-def]
    with_history(settings)
    text = settings.readiness_file.read_text()

    reversed_days = run(marketer, "readiness", text, **{"from": "2026-02-01", "to": "2026-01-01"})
    not_a_day = run(marketer, "readiness", text, **{"from": "31/01/2026"})

    assert reversed_days.status_code == 422
    assert "The first day must not be after the last day." in reversed_days.get_data(as_text=True)
    assert not_a_day.status_code == 422
    assert "e.g. 2026-01-31" in not_a_day.get_data(as_text=True)
    assert "No backtest yet" in marketer.get("/authoring/backtest").get_data(as_text=True)


def test_invalid_edited_text_shows_its_problems_and_runs_no_backtest(app, marketer, settings):  # type: ignore[no-untyped-def]
    with_history(settings)
    broken = settings.readiness_file.read_text() + "  - id: bad\n    min_grade: Z\n"

    response = run(marketer, "readiness", broken)

    assert response.status_code == 422
    html = unescape(response.get_data(as_text=True))
    line = len(broken.splitlines())
    assert f"readiness.yaml, line {line}" in html
    assert "cannot be saved until it is fixed" in html
    # The edited text stays in the editor.
    assert "id: bad" in html
    assert "No backtest yet" in marketer.get("/authoring/backtest").get_data(as_text=True)


def test_the_scoring_editor_backtests_an_edited_scoring_file(app, marketer, settings):  # type: ignore[no-untyped-def]
    with_history(settings)
    # Demo requests worth more points: hot, but still without the fit the rules ask for.
    text = settings.scoring_file.read_text().replace("points: 40", "points: 90", 1)

    response = run(marketer, "scoring", text)

    assert response.status_code == 303
    html = marketer.get("/authoring/backtest").get_data(as_text=True)
    assert row(html, "Handed over") == ["0", "0", "±0"]
    assert "scoring.yaml as edited, against the saved files" in html


def test_with_no_history_the_editor_explains_how_to_import_one(app, marketer, settings):  # type: ignore[no-untyped-def]
    html = unescape(marketer.get("/authoring/files/icp").get_data(as_text=True))
    assert "There is no history to replay yet" in html
    assert "nurture history import" in html
    assert "Backtest this text" not in html

    response = run(marketer, "icp", settings.icp_file.read_text())

    assert response.status_code == 422
    assert "There is no history to replay yet." in response.get_data(as_text=True)


def test_without_a_history_file_the_instances_own_leads_are_replayed(app, marketer, settings):  # type: ignore[no-untyped-def]
    sessions = app.extensions["nurture"].sessions
    for number in range(3):
        address = {"email": f"p{number}@example.com"}
        data, errors = validate_lead_data(address, default_timezone="UTC")
        assert errors == {}
        with transaction(sessions) as session:
            found = upsert_lead(session, data, now=JAN, source="test").lead
            if number == 0:
                session.add(
                    StageChange(lead_id=found.id, from_stage="lead", to_stage="customer",
                                at=JAN + timedelta(days=9), reason="won", actor="test")
                )  # fmt: skip
                found.stage = "customer"
            elif number == 1:
                found.stage = "disqualified"

    editor = unescape(marketer.get("/authoring/files/readiness").get_data(as_text=True))
    assert "this instance's 2 leads whose outcome is known" in editor
    run(marketer, "readiness", settings.readiness_file.read_text())

    html = unescape(marketer.get("/authoring/backtest").get_data(as_text=True))
    assert "History: this instance's 2 leads whose outcome is known, 1 of them converted." in html
    assert row(html, "Leads replayed") == ["2", "2", "±0"]


def test_a_large_history_runs_in_the_background_with_its_progress(
    app, marketer, settings, monkeypatch
):  # type: ignore[no-untyped-def]
    with_history(settings)
    app.config[INLINE_CONFIG] = 5
    # The run waits until the test has seen its progress (a real history takes long).
    go_on = threading.Event()

    def slow_history(*args):  # type: ignore[no-untyped-def]
        go_on.wait(30)
        return load_history(*args)

    monkeypatch.setattr(authoring_backtest, "load_history", slow_history)

    editor = marketer.get("/authoring/files/readiness").get_data(as_text=True)
    assert "runs in the background" in editor
    response = run(marketer, "readiness", settings.readiness_file.read_text() + WARM_RULE)
    assert response.status_code == 303

    running = marketer.get("/authoring/backtest/status")
    assert running.headers["Cache-Control"] == "no-store"
    assert running.json is not None
    assert (running.json["status"], running.json["open"]) == ("running", True)
    progress = marketer.get("/authoring/backtest").get_data(as_text=True)
    assert "Reading the history…" in progress
    assert 'data-progress-status="/authoring/backtest/status"' in progress
    go_on.set()
    join_threads(app)

    status = marketer.get("/authoring/backtest/status").json
    assert status is not None
    assert (status["status"], status["open"], status["done"], status["total"]) == (
        "done",
        False,
        6,
        6,
    )
    html = marketer.get("/authoring/backtest").get_data(as_text=True)
    assert row(html, "Handed over") == ["0", "4", "↑ +4"]


def test_one_backtest_at_a_time_and_a_running_one_shows_its_progress(app, marketer, settings):  # type: ignore[no-untyped-def]
    with_history(settings)
    request = RunRequest("readiness", "readiness.yaml", "", "", Window(), True)
    assert begin(settings.instance_path, request, datetime.now(UTC)) is not None

    refused = run(marketer, "readiness", settings.readiness_file.read_text())

    assert refused.status_code == 409
    assert "A backtest is already running" in refused.get_data(as_text=True)
    page = marketer.get("/authoring/backtest").get_data(as_text=True)
    assert 'data-progress-status="/authoring/backtest/status"' in page
    assert '<meta http-equiv="refresh"' in page
    assert "Reading the history…" in page


def test_viewers_see_the_results_but_cannot_run_a_backtest(app, marketer, settings):  # type: ignore[no-untyped-def]
    with_history(settings)
    run(marketer, "readiness", settings.readiness_file.read_text() + WARM_RULE)
    viewer = signed_in_client(app, "viewer")

    assert viewer.get("/authoring/backtest").status_code == 200
    assert viewer.get("/authoring/backtest/missed.csv").status_code == 200
    editor = viewer.get("/authoring/files/readiness").get_data(as_text=True)
    assert "Backtest this text" not in editor
    token = csrf_token(viewer, "/authoring/files/readiness")
    forbidden = viewer.post(
        "/authoring/backtest/readiness", data={"text": "x", "csrf_token": token}
    )
    assert forbidden.status_code == 403


def test_a_backtest_without_the_csrf_token_is_refused(app, marketer, settings):  # type: ignore[no-untyped-def]
    with_history(settings)
    response = marketer.post(
        "/authoring/backtest/readiness", data={"text": settings.readiness_file.read_text()}
    )
    assert response.status_code == 400
    assert "No backtest yet" in marketer.get("/authoring/backtest").get_data(as_text=True)


def test_the_missed_converters_csv_is_safe_to_open_in_a_spreadsheet(app, marketer, settings):  # type: ignore[no-untyped-def]
    hostile = lead('=HYPERLINK("http://evil.test")', 5, demo=False, converted=True)
    with_history(settings, (*LEADS, hostile))
    run(marketer, "readiness", settings.readiness_file.read_text() + WARM_RULE)

    response = marketer.get("/authoring/backtest/missed.csv")

    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["side", "key", "converted_at", "deal_value", "why"]
    keys = sorted((r[0], r[1]) for r in rows[1:])
    assert keys == sorted(
        [
            ("saved", "a"),
            ("saved", "b"),
            ("saved", "e"),
            ("saved", '\'=HYPERLINK("http://evil.test")'),
            ("edited", "e"),
            ("edited", '\'=HYPERLINK("http://evil.test")'),
        ]
    )
    assert all(not r[1].startswith("=") for r in rows[1:])


def test_a_run_that_stopped_reporting_is_interrupted_and_frees_the_next_run(
    app, marketer, settings
):  # type: ignore[no-untyped-def]
    with_history(settings)
    request = RunRequest("readiness", "readiness.yaml", "", "", Window(), True)
    long_ago = datetime.now(UTC) - STALE - timedelta(minutes=1)
    assert begin(settings.instance_path, request, long_ago) is not None

    page = marketer.get("/authoring/backtest").get_data(as_text=True)
    assert "The backtest was interrupted" in page
    response = run(marketer, "readiness", settings.readiness_file.read_text() + WARM_RULE)
    assert response.status_code == 303
    html = marketer.get("/authoring/backtest").get_data(as_text=True)
    assert row(html, "Handed over") == ["0", "4", "↑ +4"]


def test_a_damaged_history_file_fails_the_run_with_its_file_and_line(app, marketer, settings):  # type: ignore[no-untyped-def]
    with_history(settings)
    path = history_path(settings.instance_path)
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        lines = stream.readlines()
    with gzip.open(path, "wt", encoding="utf-8") as stream:
        stream.writelines([*lines[:3], "{not json\n"])

    response = run(marketer, "readiness", settings.readiness_file.read_text())

    assert response.status_code == 303
    html = unescape(marketer.get("/authoring/backtest").get_data(as_text=True))
    assert "The backtest failed" in html
    assert f"{path}:4: damaged lead record" in html
    assert marketer.get("/authoring/backtest/status").json["status"] == "failed"  # type: ignore[index]


def test_a_history_file_with_a_foreign_first_line_still_opens_the_editor(app, marketer, settings):  # type: ignore[no-untyped-def]
    path = history_path(settings.instance_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as stream:
        stream.write('{"format": "something else"}\n')

    editor = marketer.get("/authoring/files/readiness")
    response = run(marketer, "readiness", settings.readiness_file.read_text())

    assert editor.status_code == 200
    assert response.status_code == 303
    html = unescape(marketer.get("/authoring/backtest").get_data(as_text=True))
    assert f"{path}:1: not a history file written by `nurture history import`" in html


def test_the_results_warn_of_a_leaked_column_and_a_protected_attribute(app, marketer, settings):  # type: ignore[no-untyped-def]
    # Six converters carry a "closed" tag recorded with the sale; every lead has a birth date.
    leads = tuple(
        replace(
            lead(f"k{number}", number, demo=number % 2 == 0, converted=number < 6),
            fields={
                "attributes.date_of_birth": "1980-01-01",
                **({"attributes.closed_tag": "closed-won"} if number < 6 else {}),
            },
        )
        for number in range(14)
    )
    with_history(settings, leads)

    run(marketer, "readiness", settings.readiness_file.read_text() + WARM_RULE)

    html = unescape(marketer.get("/authoring/backtest").get_data(as_text=True))
    assert "Warnings (2)" in html
    assert (
        "“attributes.closed_tag” is filled in for 100.0% of converters and 0.0% of the rest" in html
    )
    assert "“attributes.date_of_birth” looks like age or date of birth" in html


def test_results_without_warnings_show_no_warnings_section(app, marketer, settings):  # type: ignore[no-untyped-def]
    with_history(settings)

    run(marketer, "readiness", settings.readiness_file.read_text() + WARM_RULE)

    assert "Warnings (" not in marketer.get("/authoring/backtest").get_data(as_text=True)
