"""The account view through the API and the CLI: aggregated score, committee from titles,
the combined timeline with machine hits marked."""

from __future__ import annotations

import json
from datetime import timedelta

from nurture.auth.apikeys import create_api_key
from nurture.cli import accounts_cmd, cli  # noqa: F401  (registers the commands)
from nurture.models import Lead, Message
from nurture.platform.db import transaction, utcnow
from tests.integration.engine_support import add_lead
from tests.integration.handoff_support import add_account, add_event


def set_score(runtime, lead_id: int, value: float, temperature: str) -> None:
    with transaction(runtime.sessions) as session:
        lead = session.get(Lead, lead_id)
        lead.score_value, lead.score_as_of = value, utcnow()
        lead.score_half_life = 30 * 86400.0
        lead.temperature = temperature


def acme(runtime):
    account = add_account(
        runtime, "acme.example", name="Acme", country="US", employees=800, industry="Retail"
    )
    now = utcnow()
    people = {
        "vera@acme.example": ("VP Finance", 50.0, "warm"),
        "chen@acme.example": ("Lead Data Engineer", 30.0, "warm"),
        "sam@acme.example": ("Marketing Analyst", 10.0, "cold"),
        "zoe@acme.example": ("Intern", 5.0, "cold"),
    }
    ids = {}
    for email, (title, score, temperature) in people.items():
        ids[email] = add_lead(runtime, email, account_id=account, title=title)
        set_score(runtime, ids[email], score, temperature)
    add_event(
        runtime,
        ids["vera@acme.example"],
        "page.viewed",
        now - timedelta(hours=2),
        url="https://b.example/pricing",
    )
    add_event(
        runtime, ids["chen@acme.example"], "email.opened", now - timedelta(hours=1), is_machine=True
    )
    add_event(
        runtime, ids["chen@acme.example"], "demo.requested", now - timedelta(minutes=5), form="demo"
    )
    # The notification a rep got about Chen is not part of Chen's story.
    with transaction(runtime.sessions) as session:
        note = Message(
            lead_id=ids["chen@acme.example"], kind="handoff", template="sales-handoff",
            to_address="rep@sales.example", message_id="n1@test", token="t" * 22, status="sent",
        )  # fmt: skip
        session.add(note)
        session.flush()
        note_id = note.id
    add_event(runtime, ids["chen@acme.example"], "email.sent", now, message_id=note_id)
    return ids


def test_the_api_shows_the_accounts_score_committee_and_timeline(runtime, client):
    with transaction(runtime.sessions) as session:
        _, key = create_api_key(session, "crm", now=utcnow())
    acme(runtime)
    auth = {"Authorization": f"Bearer {key}"}
    response = client.get("/api/v1/accounts/ACME.example", headers=auth)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["account"]["name"] == "Acme"
    # top3 by default: 50 + 30 + 10 (the intern's 5 does not count); decay is negligible.
    assert body["engagement"]["method"] == "top3"
    assert abs(body["engagement"]["score"] - 90.0) < 0.1
    assert body["engagement"]["engaged_people"] == 2
    assert body["committee"]["roles"]["finance"] == ["Vera"]
    assert body["committee"]["roles"]["technical evaluator"] == ["Chen"]
    assert "decision maker" in body["committee"]["missing"]
    assert [p["email"] for p in body["people"]][:2] == ["vera@acme.example", "chen@acme.example"]
    types = [(e["type"], e["lead"], e["human"]) for e in body["timeline"]]
    assert types == [
        ("demo.requested", "chen@acme.example", True),
        ("email.opened", "chen@acme.example", False),
        ("page.viewed", "vera@acme.example", True),
    ]

    assert client.get("/api/v1/accounts/acme.example").status_code == 401
    missing = client.get("/api/v1/accounts/nowhere.example", headers=auth)
    assert missing.status_code == 404 and missing.json["error"] == "not_found"
    bad = client.get("/api/v1/accounts/acme.example?events=0", headers=auth)
    assert bad.status_code == 422


def test_the_cli_shows_the_account_and_the_sum_method_counts_everyone(runtime, app):
    acme(runtime)
    runner = app.test_cli_runner()
    shown = runner.invoke(cli, ["accounts", "show", "acme.example"], env={"COLUMNS": "160"})
    assert shown.exit_code == 0, shown.output
    assert "Acme (acme.example)" in shown.output
    assert "2 of 4 people engaged" in shown.output
    assert "finance: Vera" in shown.output and "missing" in shown.output
    assert "machine" in shown.output  # the proxy open is shown, marked
    missing = runner.invoke(cli, ["accounts", "show", "nowhere.example"])
    assert missing.exit_code == 1 and "no account" in missing.output

    app.extensions["nurture"].settings = runtime.settings.with_overrides(account_score="sum")
    as_json = runner.invoke(cli, ["accounts", "show", "acme.example", "--json"])
    engagement = json.loads(as_json.output)["engagement"]
    assert engagement["method"] == "sum" and abs(engagement["score"] - 95.0) < 0.1
