"""``nurture report campaigns`` and ``GET /api/v1/reports/campaigns`` on the story of
``campaign_results_support``: the same figures in every format, clear errors for bad
arguments; and the engine recording the version that sent each email."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import select

from nurture.auth.apikeys import create_api_key
from nurture.cli import cli
from nurture.models import Campaign, Message
from nurture.platform.db import transaction, utcnow
from tests.integration.analytics.campaign_results_support import tell_story
from tests.integration.engine_support import (
    T0,
    add_lead,
    enrol,
    sync_fixture_campaigns,
    tick_hourly_until_sent,
)

PERIOD = ["--from", "2026-01-01", "--to", "2026-03-01"]


@pytest.fixture
def story(runtime, tmp_path):  # type: ignore[no-untyped-def]
    return tell_story(runtime, tmp_path)


@pytest.fixture
def invoke(app):  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()

    def run(*args: str):  # type: ignore[no-untyped-def]
        # A wide terminal, so rich does not shorten the table's cells.
        return runner.invoke(cli, ["report", "campaigns", *args], env={"COLUMNS": "200"})

    return run


@pytest.fixture
def api_key(runtime) -> str:  # type: ignore[no-untyped-def]
    with transaction(runtime.sessions) as session:
        _, key = create_api_key(session, "reports", now=utcnow())
    return key


def test_json_csv_and_a_table(invoke, story):
    result = invoke(*PERIOD, "--format", "json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["filter"]["by"] == "campaign" and body["compare"] is None
    alpha = body["rows"][0]
    # Hand-counted in test_campaign_results (ALPHA).
    assert (alpha["campaign"], alpha["sent"], alpha["delivered"], alpha["hard_bounced"]) == (
        "alpha",
        7,
        5,
        1,
    )
    assert (alpha["opened"], alpha["machine_opened"], alpha["clicks"]) == (4, 1, 3)
    assert alpha["rates"]["open_rate"] == 0.8 and alpha["rates"]["conversion_rate"] == 0.25

    result = invoke(*PERIOD, "--by", "version", "--format", "csv")
    assert result.exit_code == 0, result.output
    lines = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["campaign"], r["group"], r["sent"], r["open_rate"]) for r in lines] == [
        ("alpha", "v1", "4", "0.6666666666666666"),
        ("alpha", "v2", "3", "1.0"),
        ("beta", "v1", "1", "1.0"),
    ]

    result = invoke(*PERIOD)
    assert result.exit_code == 0, result.output
    assert "machine opens" in result.output and "80.0%" in result.output
    result = invoke("--from", "2025-01", "--to", "2025-02")
    assert result.exit_code == 0 and "no email was sent in the period" in result.output


def test_the_comparison_in_every_format(invoke, story):
    args = [*PERIOD, "--campaign", "alpha", "--versions", "1,2"]
    body = json.loads(invoke(*args, "--format", "json").output)
    assert body["compare"] == {"versions": [1, 2]}
    [row] = body["rows"]
    assert row["compare"]["sent"] == 4 and row["compare"]["change"]["sent"]["absolute"] == -1
    [line] = list(csv.DictReader(io.StringIO(invoke(*args, "--format", "csv").output)))
    assert (line["baseline_sent"], line["change_sent"], line["change_sent_relative"]) == (
        "4",
        "-1",
        "-0.25",
    )
    table = invoke(*args).output
    assert "version 2 compared with version 1" in table and "3 (4, -1)" in table
    result = invoke(
        "--from", "2026-02", "--to", "2026-03", "--compare-from", "2026-01", "--compare-to",
        "2026-02", "--format", "json",
    )  # fmt: skip
    assert json.loads(result.output)["compare"] == {"from": "2026-01-01", "to": "2026-02-01"}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--campaign", "gamma"], "--campaign: no campaign has the key 'gamma'"),
        (["--versions", "1,2"], "--versions: comparing versions needs --campaign"),
        (["--campaign", "alpha", "--versions", "1,9"], "--versions: the campaign 'alpha' has no"),
        (["--compare-from", "2025-12"], "--compare-to: give both ends"),
        (
            ["--compare-from", "2026-02", "--compare-to", "2026-01"],
            "--compare-to: the end (2026-01-01) must be after",
        ),
        (["--by", "colour"], "--by: unknown grouping 'colour'"),
    ],
)
def test_bad_arguments_are_usage_errors_without_a_traceback(invoke, story, args, words):
    result = invoke(*args)
    assert result.exit_code == 2
    assert words in result.output and "Traceback" not in result.output


def test_the_api_answers_the_same_json_with_a_key(client, invoke, story, api_key):
    assert client.get("/api/v1/reports/campaigns").status_code == 401
    headers = {"Authorization": f"Bearer {api_key}"}
    query = "from=2026-01-01&to=2026-03-01&campaign=alpha&versions=1,2&by=step"
    response = client.get(f"/api/v1/reports/campaigns?{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    cli_body = json.loads(
        invoke(
            *PERIOD, "--campaign", "alpha", "--versions", "1,2", "--by", "step", "--format", "json"
        ).output
    )
    assert response.get_json() == cli_body
    response = client.get(
        "/api/v1/reports/campaigns?from=2026-01&to=2026-03&all_mail=1&by=none", headers=headers
    )
    [row] = response.get_json()["rows"]
    assert row["sent"] == 9  # M1-M8 and the handoff notification M10


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("campaign=gamma", "campaign"),
        ("versions=1,2", "versions"),
        ("campaign=alpha&versions=1,9", "versions"),
        ("campaign=alpha&versions=one,two", "versions"),
        ("compare_from=2026-01-01", "compare_to"),
        ("compare_from=2026-02-01&compare_to=2026-01-01", "compare_to"),
        ("compare_from=yesterday&compare_to=2026-01-01", "compare_from"),
        ("all_mail=perhaps", "all_mail"),
        ("by=month&compare_from=2025-01&compare_to=2025-02", "by"),
        ("limit=5", "limit"),
    ],
)
def test_bad_parameters_are_a_json_400(client, story, api_key, query, field):
    response = client.get(
        f"/api/v1/reports/campaigns?{query}", headers={"Authorization": f"Bearer {api_key}"}
    )
    assert response.status_code == 400, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == "bad_request" and field in body["errors"]


def test_the_engine_records_the_version_that_sent_each_email(runtime):
    sync_fixture_campaigns(runtime)
    lead = add_lead(runtime, "versioned@example.com")
    enrol(runtime, lead, now=T0)
    assert tick_hourly_until_sent(runtime, lead, T0)
    with runtime.sessions() as session:
        active = session.scalar(
            select(Campaign.active_version_id).where(Campaign.key == "test-drip")
        )
        [sent] = session.scalars(select(Message).where(Message.lead_id == lead)).all()
    assert active is not None and sent.campaign_version_id == active
