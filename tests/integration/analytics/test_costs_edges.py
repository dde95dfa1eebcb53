"""Costs at the edges: ``nurture report volume|costs``, ``nurture costs``, the API, and
the rule that the costs file and the app never both set one month, source and campaign
(figures from the story of ``costs_support``)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import select

from nurture.analytics.costs import sync_costs_file
from nurture.auth.apikeys import create_api_key
from nurture.cli import cli
from nurture.models import Cost, CostFileVersion
from nurture.platform.db import transaction, utcnow
from tests.integration.analytics.analytics_support import at
from tests.integration.analytics.costs_support import (
    COSTS_FILE,
    tell_story_with_costs,
    write_costs,
)

PERIOD = ["--from", "2026-01-01", "--to", "2026-04-01"]
QUERY = "from=2026-01-01&to=2026-04-01"


@pytest.fixture
def story(runtime, tmp_path):  # type: ignore[no-untyped-def]
    return tell_story_with_costs(runtime, tmp_path)


@pytest.fixture
def invoke(app):  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, list(args), env={"COLUMNS": "200"})

    return run


@pytest.fixture
def headers(runtime) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with transaction(runtime.sessions) as session:
        _, key = create_api_key(session, "costs", now=utcnow())
    return {"Authorization": f"Bearer {key}"}


def test_the_cost_report_as_json_csv_and_a_table(invoke, story):
    result = invoke("report", "costs", *PERIOD, "--format", "json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert (body["total_cost"], body["currency"]) == (1450.0, "EUR")
    assert body["rows"][0]["cost_per_lead"] == 362.5  # 1450 / 4 leads

    result = invoke("report", "costs", *PERIOD, "--by", "source", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["group"], r["cost"], r["leads"], r["cost_per_customer"]) for r in rows] == [
        ("ads", "390.0", "1", ""),  # no customer: empty, never 0 or infinity
        ("partner", "100.0", "0", ""),
        ("webinar", "960.0", "2", "960.0"),
        ("", "0.0", "1", ""),
    ]

    result = invoke("report", "costs", *PERIOD, "--by", "campaign")
    assert result.exit_code == 0, result.output
    assert "total 1,450.00" in result.output
    assert "(no lead matched)" in result.output
    assert "740.00" in result.output


def test_the_volume_report_as_json_csv_and_a_table(invoke, story):
    result = invoke("report", "volume", *PERIOD, "--interval", "week", "--format", "json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["interval"] == "week"
    assert sum(row["leads"] for row in body["rows"]) == 4

    result = invoke("report", "volume", *PERIOD, "--by", "source", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert {(r["period"], r["group"]): r["leads"] for r in rows}["2026-01", "webinar"] == "2"

    result = invoke("report", "volume", *PERIOD)
    assert result.exit_code == 0, result.output
    assert "new leads per month" in result.output


def test_bad_report_options_name_the_option(invoke, story):
    result = invoke("report", "volume", "--interval", "year")
    assert result.exit_code == 2
    assert "--interval" in result.output
    result = invoke("report", "costs", "--by", "colour")
    assert result.exit_code == 2
    assert "--by: unknown grouping 'colour'" in result.output
    result = invoke("report", "costs", "--source", "radio")
    assert result.exit_code == 2
    assert "--source: no lead has the source 'radio'" in result.output


def test_costs_list_shows_the_files_and_the_apps_entries(invoke, story, tmp_path):
    result = invoke("costs", "list", "--from", "2026-01", "--to", "2026-02", "--format", "json")
    assert result.exit_code == 0, result.output
    entries = json.loads(result.output)["costs"]
    # January: C1 (file line 3), C5 (file line 7), C6 (the app)
    assert [(e["source"], e["campaign"], e["amount"], e["origin"]) for e in entries] == [
        (None, "test-drip", "50.00", "app"),
        ("partner", None, "100.00", "file"),
        ("webinar", None, "600.00", "file"),
    ]
    assert entries[2]["file"] == f"{(tmp_path / 'costs.yaml').resolve()}:3"

    result = invoke("costs", "list", "--format", "csv")
    assert len(list(csv.DictReader(io.StringIO(result.output)))) == 6
    result = invoke("costs", "list")
    assert result.exit_code == 0 and "6 entries" in result.output

    result = invoke("costs", "list", "--from", "January")
    assert result.exit_code == 2
    assert "--from: 'January' is not a month" in result.output


def test_costs_validate_names_each_problem_at_its_line(invoke, tmp_path):
    good = write_costs(tmp_path)
    result = invoke("costs", "validate", str(good))
    assert result.exit_code == 0, result.output
    assert "5 entries in EUR" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("currency: EUR\ncosts:\n  - { month: 2026-01, source: a, amount: -5 }\n")
    result = invoke("costs", "validate", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:3: amount: the amount -5 is negative" in result.output


def test_the_reports_api_answers_the_cli_json_and_400_for_bad_arguments(client, headers, story):
    answer = client.get(f"/api/v1/reports/costs?{QUERY}&by=month", headers=headers)
    assert answer.status_code == 200
    assert [row["cost"] for row in answer.get_json()["rows"]] == [750.0, 390.0, 310.0]
    answer = client.get(f"/api/v1/reports/volume?{QUERY}&interval=day", headers=headers)
    assert answer.status_code == 200
    assert len(answer.get_json()["rows"]) == 90

    answer = client.get("/api/v1/reports/volume?interval=year&by=colour", headers=headers)
    assert answer.status_code == 400
    assert set(answer.get_json()["errors"]) == {"by"}  # the filter is checked first
    answer = client.get("/api/v1/reports/volume?interval=year", headers=headers)
    assert answer.status_code == 400
    assert "interval" in answer.get_json()["errors"]
    answer = client.get("/api/v1/reports/costs?interval=day", headers=headers)
    assert answer.status_code == 400
    assert answer.get_json()["errors"] == {"interval": "not a parameter of this report"}
    assert client.get("/api/v1/reports/costs").status_code == 401


def test_the_costs_api_puts_lists_and_deletes_the_apps_entries(client, headers, story):
    new = {"month": "2026-03", "source": "ads", "amount": 75.5, "note": "Retargeting"}
    answer = client.put("/api/v1/costs", json=new, headers=headers)
    assert answer.status_code == 201, answer.get_json()
    entry = answer.get_json()
    assert (entry["amount"], entry["currency"], entry["origin"]) == ("75.50", "EUR", "app")
    assert entry["entered_by"] == "api:costs"
    # The same month, source and campaign again: an update of that entry.
    answer = client.put("/api/v1/costs", json={**new, "amount": "80"}, headers=headers)
    assert answer.status_code == 200
    assert answer.get_json()["id"] == entry["id"]

    listed = client.get("/api/v1/costs?from=2026-03&to=2026-04", headers=headers).get_json()
    assert [(e["source"], e["amount"]) for e in listed["costs"]] == [
        ("ads", "80.00"),
        ("webinar", "310.00"),
    ]
    answer = client.delete(f"/api/v1/costs/{entry['id']}", headers=headers)
    assert answer.status_code == 200
    assert client.delete(f"/api/v1/costs/{entry['id']}", headers=headers).status_code == 404


def test_the_costs_api_names_each_bad_field(client, headers, story):
    bad = {"month": "2026-13", "amount": -1, "campaign": "nope", "currency": "euro"}
    answer = client.put("/api/v1/costs", json=bad, headers=headers)
    assert answer.status_code == 400
    # Every bad field at once: the month, the amount, the currency and the campaign.
    assert set(answer.get_json()["errors"]) == {"month", "amount", "currency", "campaign"}
    answer = client.put(
        "/api/v1/costs",
        json={"month": "2026-03", "campaign": "nope", "amount": 1, "currency": "USD"},
        headers=headers,
    )
    assert answer.status_code == 400
    assert set(answer.get_json()["errors"]) == {"campaign", "currency"}
    answer = client.put("/api/v1/costs", json={"month": "2026-03", "amount": 1}, headers=headers)
    assert answer.get_json()["errors"] == {"source": "name a source, a campaign or both"}
    answer = client.put("/api/v1/costs", json={"colour": 1}, headers=headers)
    assert answer.get_json()["errors"] == {"colour": "not a field of a cost"}
    answer = client.put("/api/v1/costs", data="[]", headers=headers)
    assert answer.status_code == 400
    answer = client.get("/api/v1/costs?from=2026-04&to=2026-01", headers=headers)
    assert answer.status_code == 400 and "to" in answer.get_json()["errors"]


def test_the_app_cannot_set_what_the_file_sets(client, headers, story, runtime, tmp_path):
    # C1 is the file's, at line 3: the app's entry would count January's webinars twice.
    answer = client.put(
        "/api/v1/costs",
        json={"month": "2026-01", "source": "webinar", "amount": 1},
        headers=headers,
    )
    assert answer.status_code == 409
    assert f"{(tmp_path / 'costs.yaml').resolve()}:3" in answer.get_json()["message"]
    with runtime.sessions() as session:
        file_entry = session.scalar(select(Cost.id).where(Cost.origin == "file"))
    answer = client.delete(f"/api/v1/costs/{file_entry}", headers=headers)
    assert answer.status_code == 409
    assert "change it there" in answer.get_json()["message"]


def test_the_file_cannot_set_what_the_app_sets(runtime, story, tmp_path):
    # The file now also sets C6 (the app's January test-drip entry), at line 8.
    path = write_costs(
        tmp_path, COSTS_FILE + "  - { month: 2026-01, campaign: test-drip, amount: 9 }\n"
    )
    report = sync_costs_file(runtime, now=at(3, 22), path=path)
    assert not report.ok
    [problem] = report.problems
    assert problem.line == 8
    assert "was entered in the app by user:1" in problem.message
    assert report.notes == ("version 1 stays active",)
    with runtime.sessions() as session:
        assert session.scalar(select(CostFileVersion.number).where(CostFileVersion.is_active)) == 1
        assert len(session.scalars(select(Cost)).all()) == 6


def test_a_new_file_replaces_the_files_entries_and_warns_of_unknown_campaigns(
    runtime, story, tmp_path
):
    text = "currency: EUR\ncosts:\n  - { month: 2026-02, campaign: spring-sale, amount: 10 }\n"
    report = sync_costs_file(runtime, now=at(3, 22), path=write_costs(tmp_path, text))
    assert report.ok and report.action == "created"
    assert any(":3: no campaign has the key 'spring-sale'" in note for note in report.notes)
    with runtime.sessions() as session:
        rows = session.execute(select(Cost.origin, Cost.campaign, Cost.amount)).all()
    assert sorted((origin, campaign, float(amount)) for origin, campaign, amount in rows) == [
        ("app", "test-drip", 50.0),
        ("file", "spring-sale", 10.0),
    ]
