"""Handoff use cases on a real database: assignment through the rotation kept in the
database, capacity, out-of-office, nobody available, the account owner; every refused
action (API, pages, CLI) leaves the state unchanged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from nurture.auth.apikeys import create_api_key
from nurture.cli import (  # noqa: F401  (registers the commands)
    cli,
    handoffs_cmd,
    preview_cmd,
    team_cmd,
)
from nurture.handoff import HandoffError, accept, reassign
from nurture.handoff.links import HandoffLinks
from nurture.leads.lifecycle import stage_history
from nurture.models import Account, Handoff, HandoffAction, Message, SalesRep
from nurture.platform.db import transaction
from tests.integration.engine_support import T0, add_lead
from tests.integration.handoff_support import (
    add_account,
    handoff_messages,
    handoff_row,
    lead_row,
    owner_email,
    qualify,
    rep_id,
    rep_yaml,
    sync_team_file,
    write_team,
)

ANN, BEN = "ann@sales.example", "ben@sales.example"


@pytest.fixture
def two_reps(runtime, tmp_path):
    def setup(ann: dict | None = None, ben: dict | None = None, **team):
        path = write_team(
            tmp_path / "team.yaml",
            [rep_yaml("Ann Rep", ANN, **(ann or {})), rep_yaml("Ben Rep", BEN, **(ben or {}))],
            **team,
        )
        sync_team_file(runtime, path, T0)

    return setup


def us_lead(runtime, name: str, account: int | None = None) -> int:
    if account is None:
        account = add_account(runtime, f"{name}.example", country="US", employees=50)
    return add_lead(runtime, f"{name}@{name}.example", account_id=account)


# ---------------------------------------------------------------- assignment


def test_round_robin_alternates_fairly_and_records_why(runtime, two_reps):
    two_reps()
    owners = [
        owner_email(runtime, qualify(runtime, us_lead(runtime, f"l{i}"), T0)) for i in range(4)
    ]
    assert owners == [ANN, BEN, ANN, BEN]
    handoff = handoff_row(runtime, 1)
    assert handoff.assignment_method == "rule" and handoff.assignment_rule == "territory"
    assert "Ann Rep covers US" in handoff.assignment_reason
    assert "next in rotation before Ben Rep" in handoff.assignment_reason


def test_a_rep_at_capacity_is_skipped_and_the_reason_says_so(runtime, two_reps):
    two_reps(ann={"capacity": 1})
    first = qualify(runtime, us_lead(runtime, "a"), T0)
    second = qualify(runtime, us_lead(runtime, "b"), T0)
    third = qualify(runtime, us_lead(runtime, "c"), T0)
    assert [owner_email(runtime, h) for h in (first, second, third)] == [ANN, BEN, BEN]
    assert f"{ANN} at capacity (1 of 1 open)" in handoff_row(runtime, third).assignment_reason


def test_a_rep_out_of_office_gets_nothing_until_back(runtime, two_reps):
    two_reps(ann={"out_of_office": (T0 + timedelta(days=2)).date().isoformat()})
    assert owner_email(runtime, qualify(runtime, us_lead(runtime, "a"), T0)) == BEN
    assert owner_email(runtime, qualify(runtime, us_lead(runtime, "b"), T0)) == BEN
    back = T0 + timedelta(days=3)
    assert owner_email(runtime, qualify(runtime, us_lead(runtime, "c"), back)) == ANN


def test_territory_decides_before_the_rotation_and_unknown_countries_fall_back(runtime, two_reps):
    two_reps(ben={"territories": "[emea]"})
    german = add_account(runtime, "de.example", country="DE", employees=50)
    nowhere = add_account(runtime, "xx.example", country="BR", employees=50)
    assert owner_email(runtime, qualify(runtime, us_lead(runtime, "de", german), T0)) == BEN
    assert owner_email(runtime, qualify(runtime, us_lead(runtime, "us"), T0)) == ANN
    fallback = qualify(runtime, us_lead(runtime, "br", nowhere), T0)
    assert handoff_row(runtime, fallback).assignment_method == "round_robin"
    assert (
        "no assignment rule had an available rep for BR"
        in handoff_row(runtime, fallback).assignment_reason
    )


def test_nobody_available_creates_an_unowned_flagged_handoff_and_tells_the_manager(
    runtime, two_reps, caplog
):
    away = (T0 + timedelta(days=5)).date().isoformat()
    two_reps(ann={"out_of_office": away}, ben={"active": False})
    lead = us_lead(runtime, "lonely")
    with caplog.at_level("WARNING", logger="nurture.handoff.service"):
        handoff_id = qualify(runtime, lead, T0)
    handoff = handoff_row(runtime, handoff_id)
    assert (handoff.rep_id, handoff.needs_owner, handoff.assignment_method) == (
        None,
        True,
        "unassigned",
    )
    assert f"{ANN} out of office until {away}" in handoff.assignment_reason
    assert f"{BEN} inactive" in handoff.assignment_reason
    assert lead_row(runtime, lead).stage == "mql"
    (message,) = handoff_messages(runtime, lead)
    assert (message.kind, message.to_address) == ("handoff", "boss@sales.example")
    assert "has no owner" in caplog.text and "boss@sales.example was notified" in caplog.text


def test_the_account_owner_comes_first_and_accepting_makes_the_owner(runtime, two_reps):
    two_reps()
    account = add_account(runtime, "acme.example", country="US", employees=50)
    first = qualify(runtime, us_lead(runtime, "one", account), T0)
    assert owner_email(runtime, first) == ANN
    with transaction(runtime.sessions) as session:
        accept(session, first, now=T0)
    ann = rep_id(runtime, ANN)
    with runtime.sessions() as session:
        assert session.get(Account, account).owner_id == ann
    # The rotation would give Ben the next lead; the account's owner gets it instead.
    second = qualify(runtime, us_lead(runtime, "two", account), T0)
    assert owner_email(runtime, second) == ANN
    assert handoff_row(runtime, second).assignment_method == "account_owner"
    assert owner_email(runtime, qualify(runtime, us_lead(runtime, "three"), T0)) == BEN


def test_a_second_open_handoff_of_a_lead_is_refused_by_the_database(runtime, two_reps):
    two_reps()
    lead = us_lead(runtime, "dup")
    first = qualify(runtime, lead, T0)
    assert qualify(runtime, lead, T0 + timedelta(hours=1)) == first
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Handoff)) == 1
    assert len(handoff_messages(runtime, lead)) == 1


def test_without_a_team_the_lead_is_still_handed_off_unowned(runtime):
    lead = us_lead(runtime, "early")
    handoff = handoff_row(runtime, qualify(runtime, lead, T0))
    assert handoff.needs_owner and "no sales team is synced" in handoff.assignment_reason


# ---------------------------------------------------------------- verdicts and bad input


@pytest.fixture
def api(runtime, client):
    with transaction(runtime.sessions) as session:
        _, key = create_api_key(session, "crm", now=T0)
    return {"Authorization": f"Bearer {key}"}


def state(runtime, handoff_id: int, lead_id: int) -> tuple:
    handoff = handoff_row(runtime, handoff_id)
    with runtime.sessions() as session:
        actions = session.scalar(
            select(func.count())
            .select_from(HandoffAction)
            .where(HandoffAction.handoff_id == handoff_id)
        )
    return (
        handoff.status,
        handoff.rep_id,
        handoff.reject_reason,
        handoff.outcome,
        lead_row(runtime, lead_id).stage,
        actions,
    )


def test_api_refusals_change_nothing(runtime, client, api, two_reps):
    two_reps()
    lead = us_lead(runtime, "api")
    handoff_id = qualify(runtime, lead, T0)
    before = state(runtime, handoff_id, lead)
    for path, body, status, code in [
        ("reject", {"reason": "bored"}, 422, "unknown_reason"),
        ("reject", {}, 422, "unknown_reason"),
        ("accept", {"rep": "nobody@sales.example"}, 422, "unknown_rep"),
        ("accept", {"rep": BEN}, 409, "not_owner"),
        ("convert", {"outcome": "maybe"}, 422, "bad_outcome"),
        ("convert", {"outcome": "won", "value": "lots"}, 422, "bad_value"),
    ]:
        response = client.post(f"/api/v1/handoffs/{handoff_id}/{path}", json=body, headers=api)
        assert (response.status_code, response.json["error"]) == (status, code), (path, body)
        assert state(runtime, handoff_id, lead) == before
    assert client.post("/api/v1/handoffs/999/accept", json={}, headers=api).status_code == 404
    assert client.post(f"/api/v1/handoffs/{handoff_id}/accept", json={}).status_code == 401

    assert (
        client.post(f"/api/v1/handoffs/{handoff_id}/accept", json={}, headers=api).status_code
        == 200
    )
    accepted = state(runtime, handoff_id, lead)
    twice = client.post(f"/api/v1/handoffs/{handoff_id}/accept", json={}, headers=api)
    assert (twice.status_code, twice.json["error"]) == (409, "already_accepted")
    assert state(runtime, handoff_id, lead) == accepted


def test_convert_walks_the_funnel_and_outcomes_only_move_forward(runtime, client, api, two_reps):
    two_reps()
    lead = us_lead(runtime, "deal")
    handoff_id = qualify(runtime, lead, T0)
    client.post(f"/api/v1/handoffs/{handoff_id}/accept", json={}, headers=api)
    sql = client.post(
        f"/api/v1/handoffs/{handoff_id}/convert", json={"outcome": "sql"}, headers=api
    )
    assert sql.status_code == 200 and lead_row(runtime, lead).stage == "sql"
    won = client.post(
        f"/api/v1/handoffs/{handoff_id}/convert",
        json={"outcome": "won", "value": 24000, "currency": "eur"},
        headers=api,
    )
    assert won.json["outcome"] == "won" and (won.json["deal_value"], won.json["deal_currency"]) == (
        "24000.00",
        "EUR",
    )
    assert lead_row(runtime, lead).stage == "customer"

    with runtime.sessions() as session:
        assert [c.to_stage for c in stage_history(session, lead)] == [
            "mql",
            "sal",
            "sql",
            "opportunity",
            "customer",
        ]
    final = state(runtime, handoff_id, lead)
    for outcome in ("lost", "opportunity"):
        refused = client.post(
            f"/api/v1/handoffs/{handoff_id}/convert", json={"outcome": outcome}, headers=api
        )
        assert refused.status_code == 409 and "final" in refused.json["message"]
    rejected = client.post(
        f"/api/v1/handoffs/{handoff_id}/reject", json={"reason": "no-budget"}, headers=api
    )
    assert rejected.json["error"] == "already_converted"
    assert state(runtime, handoff_id, lead) == final
    shown = client.get(f"/api/v1/handoffs/{handoff_id}", headers=api).json
    assert [a["action"] for a in shown["actions"]] == [
        "created",
        "assigned",
        "notified",
        "accepted",
        "converted",
        "converted",
    ]
    assert shown["snapshot"]["lead"]["email"] == "deal@deal.example"


def test_links_expired_tampered_or_reassigned_are_refused_with_a_page(runtime, client, two_reps):
    two_reps()
    settings = runtime.settings
    links = HandoffLinks(settings.secret_key, settings.public_url)
    lead = us_lead(runtime, "link")
    old = T0 - timedelta(days=30)
    stale_id = qualify(runtime, us_lead(runtime, "stale"), old)
    stale = handoff_row(runtime, stale_id)
    expired = links.urls(stale.token, stale.rep_id, old + timedelta(days=14))["accept_url"]
    page = client.get(expired.removeprefix(settings.public_url))
    assert page.status_code == 410 and "expired" in page.text

    handoff_id = qualify(runtime, lead, T0)
    handoff = handoff_row(runtime, handoff_id)
    url = links.urls(handoff.token, handoff.rep_id, T0 + timedelta(days=3650))["accept_url"]
    path = url.removeprefix(settings.public_url)
    tampered = path.replace("/handoffs/", "/handoffs/x", 1)
    assert client.get(tampered).status_code == 404
    assert client.post(tampered, data={}).status_code == 404
    # The stale lead went to Ann, so this one is Ben's; a link signed for Ann is refused.
    assert owner_email(runtime, handoff_id) == BEN
    other = links.urls(handoff.token, rep_id(runtime, ANN), T0 + timedelta(days=3650))["accept_url"]
    assert client.get(other.removeprefix(settings.public_url)).status_code == 409

    with transaction(runtime.sessions) as session:
        ann = session.scalar(select(SalesRep).where(SalesRep.email == ANN))
        new = reassign(
            session,
            handoff_id,
            to=ann,
            reason="Ben is swamped",
            actor="user:boss@sales.example",
            now=T0,
        )
        new_id = new.id
    form = client.get(path)
    assert form.status_code == 409 and "reassigned to Ann Rep" in form.text
    assert client.post(path, data={"csrf_token": "x"}).status_code == 409
    assert handoff_row(runtime, handoff_id).status == "reassigned"
    assert handoff_row(runtime, new_id).status == "offered" and owner_email(runtime, new_id) == ANN
    assert lead_row(runtime, lead).stage == "mql"
    with transaction(runtime.sessions) as session, pytest.raises(HandoffError) as refused:
        accept(session, handoff_id, now=T0)
    assert refused.value.code == "reassigned"
    with runtime.sessions() as session:
        notified = session.scalars(
            select(Message.to_address).where(Message.lead_id == lead).order_by(Message.id)
        ).all()
    assert notified == [BEN, ANN]


def test_the_reject_page_offers_the_configured_reasons_and_validates_them(
    runtime, client, two_reps
):
    two_reps()
    settings = runtime.settings
    lead = us_lead(runtime, "page")
    handoff = handoff_row(runtime, qualify(runtime, lead, T0))
    url = HandoffLinks(settings.secret_key, settings.public_url).urls(
        handoff.token, handoff.rep_id, T0 + timedelta(days=3650)
    )["reject_url"]
    path = url.removeprefix(settings.public_url)
    page = client.get(path)
    assert (
        page.status_code == 200
        and 'value="no-budget"' in page.text
        and 'value="duplicate"' in page.text
    )
    import re

    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    bad = client.post(path, data={"csrf_token": csrf, "reason": "<script>"})
    assert bad.status_code == 422 and "<script>" not in bad.text
    assert "Choose one of the reasons offered." in bad.text
    assert lead_row(runtime, lead).stage == "mql"
    ok = client.post(
        path, data={"csrf_token": csrf, "reason": "duplicate", "note": "same as lead 4"}
    )
    assert ok.status_code == 200
    assert lead_row(runtime, lead).stage == "disqualified"
    assert handoff_row(runtime, handoff.id).reject_note == "same as lead 4"


def test_cli_lists_accepts_and_counts_reasons(runtime, app, two_reps):
    two_reps()
    lead_a, lead_b = us_lead(runtime, "clia"), us_lead(runtime, "clib")
    first, second = qualify(runtime, lead_a, T0), qualify(runtime, lead_b, T0)
    runner = app.test_cli_runner()

    def run(*args: str):
        return runner.invoke(cli, list(args))

    listed = run(*["handoffs", "list", "--status", "offered"])
    assert listed.exit_code == 0 and "Clia" in listed.output and "Clib" in listed.output
    wrong = run(*["handoffs", "accept", str(first), "--as", BEN])
    assert wrong.exit_code == 1 and "not_owner" in wrong.output
    ok = run(*["handoffs", "accept", str(first), "--as", ANN])
    assert ok.exit_code == 0 and lead_row(runtime, lead_a).stage == "sal"
    bad = run(*["handoffs", "reject", str(second), "--reason", "nope"])
    assert bad.exit_code == 1 and "unknown reject reason" in bad.output
    rejected = run(
        *["handoffs", "reject", str(second), "--reason", "no-budget", "--note", "next year"]
    )
    assert rejected.exit_code == 0, rejected.output
    reasons = run(*["handoffs", "reasons"])
    assert "no-budget 1" in reasons.output
    shown = run(*["handoffs", "show", str(second)])
    assert "rejected   no-budget: next year" in shown.output
    team = run(*["team", "list"])
    assert team.exit_code == 0 and "Ann Rep" in team.output and "available" in team.output


def test_team_validate_reports_file_and_line(runtime, app, tmp_path):
    broken = tmp_path / "team.yaml"
    broken.write_text(
        "name: T\nmanager_email: boss@x.example\ncontact: {name: S, email: s@x.example}\n"
        "reps:\n  - name: Ann\n    email: not-an-address\n    timezone: Mars/Base\n"
        "    working_hours: mon-fri 17:00-09:00\n    territories: [emae]\n"
    )
    result = app.test_cli_runner().invoke(cli, ["team", "validate", str(broken)])
    assert result.exit_code == 1
    assert f"{broken}:6: email 'not-an-address' is not an email address" in result.output
    assert f"{broken}:7: unknown timezone 'Mars/Base'" in result.output
    assert (
        f"{broken}:8: working hours 'mon-fri 17:00-09:00': the end must be after the start"
        in result.output
    )
    assert (
        f"{broken}:9: territories: 'emae' is neither a two-letter country code nor a region"
        in result.output
    )


@pytest.mark.postgres
def test_concurrent_handoffs_on_postgresql_still_rotate_fairly(runtime, two_reps):
    """Several workers hand off at once: the row locks on the reps make them take turns,
    so the rotation stays fair and every lead gets exactly one handoff."""
    import threading

    two_reps()
    leads = [us_lead(runtime, f"c{i}") for i in range(12)]
    errors: list[BaseException] = []

    def work(chunk: list[int]) -> None:
        try:
            for lead in chunk:
                qualify(runtime, lead, T0)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(leads[i::3],)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with runtime.sessions() as session:
        owners = session.execute(
            select(SalesRep.email, func.count())
            .join(Handoff, Handoff.rep_id == SalesRep.id)
            .group_by(SalesRep.email)
        ).all()
    assert dict(owners) == {ANN: 6, BEN: 6}


def test_the_handoff_templates_preview_with_a_sample_handoff(app, tmp_path) -> None:
    out = tmp_path / "note.txt"
    result = app.test_cli_runner().invoke(
        cli, ["preview", "sales-handoff", "--sample", "--text", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Subject: Hand-raiser: Dana Whitfield (Northwind Logistics) · fit A" in result.output
    assert "NEXT STEP\n  Call to book the demo" in out.read_text()
