"""``nurture revenue add|list``, ``nurture report clv|attribution`` and their API endpoints
on the story of ``revenue_support``: the same figures as the queries in every format, clear
errors naming the bad argument, and no identity for an erased lead."""

from __future__ import annotations

import csv
import io
import json

import pytest

from nurture.auth.apikeys import create_api_key
from nurture.cli import cli
from nurture.models import RevenueEntry
from nurture.platform.db import transaction, utcnow
from nurture.privacy import erase_lead
from tests.integration.analytics.revenue_support import at, book, tell_revenue_story

PERIOD = ["--from", "2026-01-01", "--to", "2026-04-01"]
QUERY = "from=2026-01-01&to=2026-04-01"


@pytest.fixture
def story(runtime, tmp_path):  # type: ignore[no-untyped-def]
    return tell_revenue_story(runtime, tmp_path)


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


def test_revenue_is_added_and_listed_from_the_cli(invoke, story):
    result = invoke(
        "revenue", "add", "alpha.example", "--amount", "250.5", "--currency", "eur",
        "--on", "2026-05-01", "--kind", "upsell", "--note", "seats", "--lead", "p1@alpha.example",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "250.50 EUR on 2026-05-01 (upsell) for alpha.example" in result.output
    result = invoke("revenue", "list", "--account", "alpha.example", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["booked_on"], r["amount"], r["kind"], r["lead"]) for r in rows] == [
        ("2026-05-01", "250.50", "upsell", "p1@alpha.example"),
        ("2026-04-10", "999.00", "renewal", ""),
        ("2026-03-20", "300.00", "upsell", ""),
        ("2026-03-01", "1200.00", "renewal", "p1@alpha.example"),
    ]
    result = invoke("revenue", "list")
    assert result.exit_code == 0 and "epsilon.example" in result.output


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["nowhere.example", "--amount", "1", "--currency", "EUR", "--on", "2026-01-01"],
         "ACCOUNT_DOMAIN: no account with domain or id 'nowhere.example'"),
        (["alpha.example", "--amount", "-3", "--currency", "EUR", "--on", "2026-01-01"],
         "--amount: must be above 0"),
        (["alpha.example", "--amount", "1", "--currency", "EURO", "--on", "2099-01-01"],
         "--currency: 'EURO' is not an ISO 4217 currency code"),
        (["alpha.example", "--amount", "1", "--currency", "EUR", "--on", "2099-01-01"],
         "--on: 2099-01-01 is in the future"),
        (["alpha.example", "--amount", "1", "--currency", "EUR", "--on", "2026-01-01",
          "--kind", "refund"], "--kind: unknown kind 'refund'"),
        (["alpha.example", "--amount", "1", "--currency", "EUR", "--on", "2026-01-01",
          "--lead", "who@nowhere.example"], "--lead: no lead 'who@nowhere.example'"),
    ],
)  # fmt: skip
def test_bad_revenue_is_a_usage_error_naming_the_option(invoke, runtime, story, args, words):
    with runtime.sessions() as session:
        before = session.query(RevenueEntry).count()
    result = invoke("revenue", "add", *args)
    assert result.exit_code == 2, result.output
    assert words in result.output and "Traceback" not in result.output
    with runtime.sessions() as session:
        assert session.query(RevenueEntry).count() == before


def test_the_api_books_and_lists_an_account_revenue(client, story, headers):
    alpha = story.accounts["alpha"]
    url = f"/api/v1/accounts/{alpha}/revenue"
    assert client.get(url).status_code == 401
    response = client.post(
        url,
        json={"amount": "75.25", "currency": "EUR", "booked_on": "2026-06-01", "kind": "other"},
        headers=headers,
    )
    assert response.status_code == 201, response.json
    assert response.json["amount"] == "75.25" and response.json["who"] == "api:reports"
    listed = client.get(url, headers=headers).json["entries"]
    assert [e["amount"] for e in listed] == ["75.25", "999.00", "300.00", "1200.00"]
    assert client.get("/api/v1/accounts/99999/revenue", headers=headers).status_code == 404
    # The account view's own route (a domain) still answers.
    assert client.get("/api/v1/accounts/alpha.example", headers=headers).status_code == 200


def test_the_api_names_every_bad_field_with_a_400(client, story, headers):
    url = f"/api/v1/accounts/{story.accounts['alpha']}/revenue"
    response = client.post(
        url,
        json={"amount": -1, "currency": "XX", "booked_on": "2999-01-01", "lead_id": 424242,
              "colour": "red"},
        headers=headers,
    )  # fmt: skip
    assert response.status_code == 400
    assert set(response.json["errors"]) == {"amount", "currency", "booked_on", "lead_id", "colour"}
    assert "above 0" in response.json["errors"]["amount"]
    assert "future" in response.json["errors"]["booked_on"]
    response = client.post(url, json={"amount": "1e15", "currency": "EUR",
                                      "booked_on": "2026-01-01"}, headers=headers)  # fmt: skip
    assert response.status_code == 400 and "below" in response.json["errors"]["amount"]
    response = client.post(url, data="not json", headers=headers)
    assert response.status_code == 400
    unknown = client.post(
        "/api/v1/accounts/99999/revenue",
        json={"amount": 1, "currency": "EUR", "booked_on": "2026-01-01"},
        headers=headers,
    )
    assert unknown.status_code == 404 and "no account with id 99999" in unknown.json["message"]


def test_clv_in_every_format(invoke, story):
    result = invoke("report", "clv", *PERIOD, "--by", "source", "--format", "json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["currency"] == "EUR"
    assert [(r["group"], r["customers"], r["revenue"], r["average_clv"]) for r in body["rows"]] == [
        ("ads", 1, "0.00", None),
        ("webinar", 1, "2500.00", "2500.00"),
        (None, 4, "1183.33", "194.44"),
    ]
    result = invoke("report", "clv", *PERIOD, "--by", "segment", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["group"], r["average_clv_eur"], r["other_currencies"]) for r in rows] == [
        ("enterprise", "200.00", "GBP 100.00"),
        ("smb", "2500.00", "USD 500.00"),
        ("", "191.67", ""),
    ]
    result = invoke("report", "clv", *PERIOD, "--customers")
    assert result.exit_code == 0, result.output
    assert "alpha.example" in result.output and "2500.00" in result.output
    result = invoke("report", "clv", *PERIOD)
    assert "770.83" in result.output and "in EUR" in result.output


def test_attribution_in_every_format_and_one_deal_explained(invoke, story):
    result = invoke("report", "attribution", *PERIOD, "--by", "campaign", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["group"], r["deals"], r["u-shaped_eur"]) for r in rows] == [
        ("test-drip", "2", "400.00"),
        ("webinar-invite", "2", "700.00"),
        ("(no touch)", "1", "333.33"),
        ("", "2", "700.00"),
    ]
    result = invoke(
        "report", "attribution", *PERIOD, "--by", "campaign", "--model", "last", "--format", "json"
    )
    body = json.loads(result.output)
    assert body["models"] == ["last"] and body["revenue"] == "2133.33"
    assert body["rows"][1] == {
        "group": "webinar-invite",
        "deals": 2,
        "revenue": {"last": "1600.00"},
    }
    assert body["other_currencies"] == {"USD": {"deals": 1, "revenue": "500.00"}}
    result = invoke("report", "attribution", *PERIOD, "--by", "channel")
    assert result.exit_code == 0, result.output
    assert "4 deals, 2133.33 EUR; apart: 1 deals, 500.00 USD" in result.output
    result = invoke("report", "attribution", "--deal", str(story.deals["P1"]))
    assert result.exit_code == 0, result.output
    assert "deal" in result.output and "webinar-invite" in result.output
    assert "40.0%" in result.output and "400.00" in result.output


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["attribution", "--model", "w-shaped"], "--model: unknown model 'w-shaped'"),
        (["attribution", "--by", "owner"], "--by: unknown grouping 'owner'"),
        (["attribution", "--lookback", "0"], "--lookback: '0' is not a number of days"),
        (["attribution", "--deal", "x1"], "--deal: 'x1' is not a handoff id"),
        (["attribution", "--deal", "99999"], "--deal: handoff 99999 is not a won deal"),
        (["clv", "--currency", "EURO"], "--currency: 'EURO' is not an ISO 4217"),
        (["clv", "--segment", "galactic"], "--segment: unknown segment 'galactic'"),
    ],
)
def test_bad_report_arguments_are_usage_errors(invoke, story, args, words):
    result = invoke("report", *args)
    assert result.exit_code == 2, result.output
    assert words in result.output and "Traceback" not in result.output


def test_the_api_answers_the_same_reports(client, story, headers):
    assert client.get("/api/v1/reports/clv").status_code == 401
    body = client.get(f"/api/v1/reports/clv?{QUERY}", headers=headers).json
    assert body["rows"][0]["average_clv"] == "770.83"
    body = client.get(
        f"/api/v1/reports/attribution?{QUERY}&by=channel&model=u-shaped", headers=headers
    ).json
    assert [(r["group"], r["revenue"]["u-shaped"]) for r in body["rows"]] == [
        ("email", "1100.00"),
        ("page", "300.00"),
        ("source", "400.00"),
        ("(no touch)", "333.33"),
    ]
    body = client.get(
        f"/api/v1/reports/attribution?deal={story.deals['P2']}&model=linear", headers=headers
    ).json
    assert [t["amount"]["linear"] for t in body["touches"]] == ["300.00", "300.00"]
    for query, name in [
        ("model=v", "model"),
        ("lookback=99999", "lookback"),
        ("deal=abc", "deal"),
        ("currency=1", "currency"),
        ("by=grade", "by"),
        ("colour=red", "colour"),
    ]:
        response = client.get(f"/api/v1/reports/attribution?{query}", headers=headers)
        assert response.status_code == 400, query
        assert name in response.json["errors"], query
    response = client.get("/api/v1/reports/clv?currency=EURO", headers=headers)
    assert response.status_code == 400 and "currency" in response.json["errors"]


def test_a_real_erasure_keeps_the_revenue_and_shows_no_identity(invoke, runtime, story, client,
                                                                headers):  # fmt: skip
    with transaction(runtime.sessions) as session:
        erase_lead(session, "p1@alpha.example", now=at(4, 1), actor="test",
                   instance_path=runtime.settings.instance_path)  # fmt: skip
    outputs = [
        invoke("report", "clv", *PERIOD, "--customers", "--format", "json").output,
        invoke("report", "clv", *PERIOD, "--by", "source").output,
        invoke("report", "attribution", *PERIOD, "--by", "source", "--format", "json").output,
        invoke("revenue", "list", "--format", "json").output,
        client.get(f"/api/v1/reports/attribution?{QUERY}&by=campaign", headers=headers).get_data(
            as_text=True
        ),
    ]
    for output in outputs:
        assert "p1@alpha.example" not in output and "Traceback" not in output
    entries = json.loads(outputs[3])["entries"]
    # The renewal sold to P1 is still alpha's revenue, now with an erased person and its
    # note gone; the amounts count in the CLV.
    renewal = next(e for e in entries if e["amount"] == "1200.00")
    assert renewal["lead"] == "(erased)" and renewal["note"] is None
    customers = {c["customer"]: c for c in json.loads(outputs[0])["customers"]}
    assert customers["alpha.example"]["entries"] == 2


def test_a_note_about_an_erased_person_goes(runtime, story):
    book(runtime, story.accounts["beta"], "10", "EUR", "2026-03-06",
         note="called Pat on her mobile", lead_ref=story.leads["P2"])  # fmt: skip
    with transaction(runtime.sessions) as session:
        erase_lead(session, "p2@beta.example", now=at(4, 1), actor="test",
                   instance_path=runtime.settings.instance_path)  # fmt: skip
    with runtime.sessions() as session:
        notes = [e.note for e in session.query(RevenueEntry).filter_by(lead_id=story.leads["P2"])]
    assert notes == [None]
