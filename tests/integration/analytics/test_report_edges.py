"""``nurture report funnel|cohorts`` and ``GET /api/v1/reports/...`` on the story of
``analytics_support``: the same figures as the queries, in every format, and clear errors
for bad arguments."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from sqlalchemy import text

from nurture.analytics.costs import cost_report
from nurture.analytics.filters import ReportFilter
from nurture.analytics.funnel import cohort_report
from nurture.auth.apikeys import create_api_key
from nurture.cli import cli
from nurture.platform.db import transaction, utcnow
from tests.integration.analytics.analytics_support import tell_story

PERIOD = ["--from", "2026-01-01", "--to", "2026-04-01"]


@pytest.fixture
def story(runtime, tmp_path):  # type: ignore[no-untyped-def]
    return tell_story(runtime, tmp_path)


@pytest.fixture
def invoke(app):  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()

    def run(*args: str):  # type: ignore[no-untyped-def]
        # A wide terminal, so rich does not shorten the table's cells.
        return runner.invoke(cli, ["report", *args], env={"COLUMNS": "200"})

    return run


@pytest.fixture
def api_key(runtime) -> str:  # type: ignore[no-untyped-def]
    with transaction(runtime.sessions) as session:
        _, key = create_api_key(session, "reports", now=utcnow())
    return key


def test_the_funnel_as_json_csv_and_a_table(invoke, story):
    result = invoke("funnel", *PERIOD, "--format", "json")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)["rows"]
    assert (row["leads"], row["mql"], row["sal"], row["won"], row["lost"]) == (4, 5, 3, 1, 1)
    assert row["rates"]["win_rate"] == 0.5

    result = invoke("funnel", *PERIOD, "--by", "source", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["group"], r["leads"], r["mql"], r["lead_to_mql"]) for r in rows] == [
        ("ads", "1", "1", "1.0"),
        ("partner", "0", "1", ""),
        ("webinar", "2", "2", "1.0"),
        ("", "1", "1", "1.0"),
    ]

    result = invoke("funnel", *PERIOD)
    assert result.exit_code == 0, result.output
    assert "funnel 2026-01-01 to 2026-04-01" in result.output
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines() if "│" in line}
    assert "3 (60.0%)" in lines["sal"] and "50.0%" in lines["win rate"]

    result = invoke("funnel", *PERIOD, "--by", "owner")
    assert result.exit_code == 0, result.output
    assert "ann@sales.example" in result.output and "ben@sales.example" in result.output


def test_the_cohorts_as_csv_and_a_table(invoke, story):
    result = invoke("cohorts", "--from", "2026-01", "--to", "2026-03", "--format", "csv")
    assert result.exit_code == 0, result.output
    january, february = csv.DictReader(io.StringIO(result.output))
    assert (january["month"], january["created"], january["sql"], january["sql_30d"]) == (
        "2026-01",
        "2",
        "1",
        "0",
    )
    assert (february["created"], february["mql"], february["won"]) == ("2", "2", "0")

    result = invoke("cohorts", "--from", "2026-01", "--to", "2026-02")
    assert result.exit_code == 0, result.output
    # SQL: one of January's two leads by now, none within 30 days, one within 60 and 90.
    assert "1 (0/1/1)" in result.output


def test_a_group_value_that_looks_like_a_formula_is_defused_in_csv(invoke, runtime, story):
    with transaction(runtime.sessions) as session:
        session.execute(text("UPDATE leads SET source = '=HYPERLINK(1)'"))
    result = invoke("funnel", *PERIOD, "--by", "source", "--format", "csv")
    assert result.exit_code == 0, result.output
    groups = [row["group"] for row in csv.DictReader(io.StringIO(result.output))]
    assert "'=HYPERLINK(1)" in groups and "=HYPERLINK(1)" not in groups


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["funnel", "--from", "2026-02-31"], "--from: '2026-02-31' is not a date of the calendar"),
        (["funnel", "--by", "colour"], "--by: unknown grouping 'colour'"),
        (["cohorts", "--campaign", "nope"], "--campaign: no campaign has the key 'nope'"),
        (["funnel", "--source", "tv", "--grade", "Q"], "--grade: unknown grade 'Q'"),
    ],
)
def test_bad_arguments_are_usage_errors_without_a_traceback(invoke, story, args, words):
    result = invoke(*args)
    assert result.exit_code == 2
    assert words in result.output and "Traceback" not in result.output


def test_the_api_answers_the_same_figures_with_a_key(client, story, api_key):
    headers = {"Authorization": f"Bearer {api_key}"}
    assert client.get("/api/v1/reports/funnel").status_code == 401
    response = client.get(
        "/api/v1/reports/funnel?from=2026-01-01&to=2026-04-01&by=month", headers=headers
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["filter"]["by"] == "month"
    assert [(r["group"], r["mql"]) for r in body["rows"]] == [
        ("2026-01", 2),
        ("2026-02", 3),
        ("2026-03", 1),
    ]
    response = client.get(
        "/api/v1/reports/cohorts?from=2026-01&to=2026-02&grade=A", headers=headers
    )
    assert response.status_code == 200
    [row] = response.get_json()["rows"]
    assert (row["created"], row["reached"]["won"]) == (
        1,
        {"by_now": 1, "within_30d": 0, "within_60d": 1, "within_90d": 1},
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=not-a-date", "from"),
        ("to=2026-01-01&from=2026-06-01", "to"),
        ("by=%00", "by"),
        ("by=owner;drop", "by"),
        ("owner=nobody@example.com", "owner"),
        ("segment=galactic", "segment"),
        ("source=" + "x" * 5000, "source"),
        ("limit=5", "limit"),
    ],
)
def test_hostile_parameters_are_a_json_400(client, story, api_key, query, field):
    for report in ("funnel", "cohorts", "velocity"):
        response = client.get(
            f"/api/v1/reports/{report}?{query}", headers={"Authorization": f"Bearer {api_key}"}
        )
        assert response.status_code == 400, response.get_data(as_text=True)
        body = response.get_json()
        assert body["error"] == "bad_request" and field in body["errors"]


def test_a_period_with_no_day_gives_empty_cohorts_and_costs_not_an_error(runtime, story):
    # The parser refuses an end before the start; a filter built in code can still ask
    # for a period with no day in it, which has no month and covers no lead.
    empty = ReportFilter(date(2026, 2, 1), date(2026, 2, 1))
    with runtime.sessions() as session:
        assert cohort_report(session, empty).rows == []
        assert cost_report(session, empty).total_cost == 0
