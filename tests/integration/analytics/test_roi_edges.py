"""``nurture report roi`` and ``GET /api/v1/reports/roi`` on the story of ``roi_support``:
the same figures as the query in every format, and clear errors naming the bad argument."""

from __future__ import annotations

import csv
import io
import json

import pytest

from nurture.auth.apikeys import create_api_key
from nurture.cli import cli
from nurture.platform.db import transaction, utcnow
from tests.integration.analytics.roi_support import tell_roi_story

PERIOD = ["--from", "2026-01-01", "--to", "2026-04-01"]
QUERY = "from=2026-01-01&to=2026-04-01"


@pytest.fixture
def story(runtime, tmp_path):  # type: ignore[no-untyped-def]
    return tell_roi_story(runtime, tmp_path)


@pytest.fixture
def invoke(app):  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, list(args), env={"COLUMNS": "220"})

    return run


@pytest.fixture
def headers(runtime) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with transaction(runtime.sessions) as session:
        _, key = create_api_key(session, "reports", now=utcnow())
    return {"Authorization": f"Bearer {key}"}


def test_the_cli_groups_by_campaign_under_u_shaped_by_default(invoke, story):
    result = invoke("report", "roi", *PERIOD, "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    # The figures of test_roi_report's u-shaped table.
    assert [
        (r["group"], r["cost"], r["deals"], r["u-shaped_revenue"], r["u-shaped_roi"],
         r["u-shaped_roas"])
        for r in rows
    ] == [
        ("partner-news", "0.00", "1", "100.00", "", ""),
        ("test-drip", "250.00", "2", "400.00", "0.6", "1.6"),
        ("webinar-invite", "300.00", "2", "700.00", "1.3333", "2.3333"),
        ("(no touch)", "0.00", "1", "333.33", "", ""),
        ("", "0.00", "2", "600.00", "", ""),
        ("(no lead matched)", "200.00", "0", "0.00", "", ""),
        ("(outside the groups)", "150.00", "0", "0.00", "", ""),
        ("total", "900.00", "4", "2133.33", "1.3704", "2.3704"),
    ]  # fmt: skip


def test_the_cli_table_and_json(invoke, story):
    result = invoke("report", "roi", *PERIOD, "--by", "source", "--model", "all")
    assert result.exit_code == 0, result.output
    assert "in EUR: cost 900.00, 4 deals won; apart: 1 deals, 500.00 USD" in result.output
    # webinar under u-shaped: +100.0 %, 2.00x.
    assert "+100.0%" in result.output and "2.00x" in result.output
    result = invoke("report", "roi", *PERIOD, "--by", "source", "--format", "json")
    body = json.loads(result.output)
    assert body["models"] == ["u-shaped"] and body["currency"] == "EUR"
    assert body["filter"]["by"] == "source"
    assert body["total"] == {
        "group": None,
        "kind": "total",
        "cost": "900.00",
        "deals": 4,
        "revenue": {"u-shaped": "2133.33"},
        "roi": {"u-shaped": 1.3704},
        "roas": {"u-shaped": 2.3704},
    }
    webinar = next(r for r in body["rows"] if r["group"] == "webinar")
    assert webinar["roi"] == {"u-shaped": 1.0} and webinar["cost"] == "450.00"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--model", "w-shaped"], "--model: unknown model 'w-shaped'"),
        (["--by", "owner"], "--by: unknown grouping 'owner'"),
        (["--lookback", "0"], "--lookback: '0' is not a number of days"),
        (["--currency", "EURO"], "--currency: 'EURO' is not an ISO 4217"),
        (["--currency", "USD"], "--currency: the costs are in EUR but revenue would be in USD"),
        (["--campaign", "nope"], "--campaign: no campaign has the key 'nope'"),
    ],
)
def test_bad_arguments_are_usage_errors_naming_the_option(invoke, story, args, words):
    result = invoke("report", "roi", *PERIOD, *args)
    assert result.exit_code == 2, result.output
    assert words in result.output and "Traceback" not in result.output


def test_the_api_answers_the_clis_json(invoke, client, story, headers):
    assert client.get("/api/v1/reports/roi").status_code == 401
    cli_body = json.loads(
        invoke("report", "roi", *PERIOD, "--model", "all", "--format", "json").output
    )
    body = client.get(f"/api/v1/reports/roi?{QUERY}&model=all", headers=headers).json
    assert body == cli_body
    assert body["filter"]["by"] == "campaign"
    first = client.get(f"/api/v1/reports/roi?{QUERY}&model=first", headers=headers).json
    test_drip = next(r for r in first["rows"] if r["group"] == "test-drip")
    assert test_drip["roi"] == {"first": 1.4} and test_drip["roas"] == {"first": 2.4}
    one = client.get(f"/api/v1/reports/roi?{QUERY}&by=none", headers=headers).json
    assert [(r["cost"], r["revenue"]) for r in one["rows"]] == [("900.00", {"u-shaped": "2133.33"})]


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("model=v", "model"),
        ("lookback=99999", "lookback"),
        ("currency=1", "currency"),
        ("currency=USD", "currency"),
        ("by=grade", "by"),
        ("deal=1", "deal"),  # attribution's, not this report's
        ("from=2026-13-01", "from"),
    ],
)
def test_the_api_answers_a_bad_argument_with_a_400_naming_it(client, story, headers, query, name):
    response = client.get(f"/api/v1/reports/roi?{query}", headers=headers)
    assert response.status_code == 400, query
    assert name in response.json["errors"], query
