"""The sales pages: a rep's inbox and handoff page, their verdicts through the handoff's
own use cases, and the sales manager's views."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from nurture.handoff import verdicts
from nurture.handoff.reps import find_rep
from nurture.models import AuditLog, HandoffSla
from nurture.platform.db import transaction, utcnow
from nurture.reports import sales as sales_report
from tests.integration.sales_support import (
    ANN,
    BEN,
    CARL,
    clock,
    hand_off_to,
    handoff,
    lead_of,
    log_actions,
    sync_sales_team,
)
from tests.integration.web.ui_support import csrf_token, signed_in_client


@pytest.fixture
def rt(app, tmp_path):  # type: ignore[no-untyped-def]
    runtime = app.extensions["nurture"]
    sync_sales_team(runtime, tmp_path, utcnow() - timedelta(days=1))
    return runtime


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def audited(rt, endpoint: str) -> list[dict]:  # type: ignore[no-untyped-def]
    with rt.sessions() as session:
        return [
            row.detail
            for row in session.scalars(
                select(AuditLog).where(AuditLog.action == f"app.ui_sales.{endpoint}")
            )
        ]


# ---------------------------------------------------------------- the inbox


def test_a_rep_sees_only_their_own_handoffs_with_the_sla_countdown(app, rt):
    now = utcnow()
    mine = hand_off_to(rt, ANN, "ada@acme.example", now - timedelta(minutes=20))
    hand_off_to(rt, BEN, "bert@berlin.example", now)
    client = signed_in_client(app, "sales", ANN)

    page = text(client.get("/sales"))

    assert "Ada Tester" in page and f"/sales/handoffs/{mine}" in page
    assert "Bert" not in page
    # One business hour from the handoff, in Ann's all-day hours: 40 minutes are left.
    assert re.search(r"due in (39|40) min", page)
    due = clock(rt, mine).due_at
    assert f'datetime="{due.isoformat()}"' in page
    assert 'aria-current="page">Waiting for you <span class="count">1</span>' in page


def test_an_overdue_handoff_says_by_how_much(app, rt):
    late = hand_off_to(rt, ANN, "ada@acme.example", utcnow() - timedelta(hours=3))
    client = signed_in_client(app, "sales", ANN)

    page = text(client.get("/sales"))

    assert re.search(r"overdue by 2 h (0|1|59) min", page), page
    assert "1 lead is past its response deadline." in page
    assert clock(rt, late).status == "pending"


def test_a_user_who_is_not_a_rep_is_told_how_to_join_the_team(app, rt):
    client = signed_in_client(app, "sales", "nobody@sales.example")

    page = text(client.get("/sales"))

    assert "You are not in the sales team file yet" in page
    assert "nobody@sales.example" in page and "nurture team sync" in page


def test_the_inbox_pages_with_a_keyset_and_ignores_a_bad_one(app, rt):
    now = utcnow()
    ids = [
        hand_off_to(rt, ANN, f"p{n}@co{n}.example", now - timedelta(minutes=60 - n))
        for n in range(3)
    ]
    client = signed_in_client(app, "sales", ANN)
    with app.test_request_context(), rt.sessions() as session:
        first = sales_report.inbox(
            session, rep_id=handoff(rt, ids[0]).rep_id, tab="waiting", limit=2
        )
    assert [row.id for row in first.rows] == ids[:2] and first.next_after

    page = text(client.get(f"/sales?after={first.next_after}"))
    assert f"/sales/handoffs/{ids[2]}" in page and f'/sales/handoffs/{ids[0]}"' not in page
    for hostile in ("%00", "x" * 5000, "2026,99999999999999999999", "<script>"):
        response = client.get("/sales", query_string={"after": hostile})
        assert response.status_code in (200, 400)
    assert client.get("/sales?tab=<script>").status_code == 400


# ---------------------------------------------------------------- verdicts


def test_accept_makes_the_lead_a_sal_stops_the_clock_and_is_audited(app, rt):
    handoff_id = hand_off_to(rt, ANN, "ada@acme.example", utcnow() - timedelta(minutes=5))
    client = signed_in_client(app, "sales", ANN)
    path = f"/sales/handoffs/{handoff_id}"

    response = client.post(f"{path}/accept", data={"csrf_token": csrf_token(client, path)})

    assert response.status_code == 302 and response.headers["Location"].endswith(path)
    assert handoff(rt, handoff_id).status == "accepted"
    assert lead_of(rt, handoff_id).stage == "sal"
    sla = clock(rt, handoff_id)
    assert sla.status == "met" and sla.response == "accepted"
    assert ("accepted", f"user:{ANN}") in log_actions(rt, handoff_id)
    assert audited(rt, "accept") == [{"method": "POST", "handoff_id": str(handoff_id)}]
    page = text(client.get(path))
    assert "Accepted: Ada Tester is yours." in page
    assert "Record the outcome" in page

    # A second accept (a double submit) changes nothing and says why.
    again = client.post(f"{path}/accept", data={"csrf_token": csrf_token(client, path)})
    assert again.status_code == 409
    assert "This lead was already accepted; nothing was changed." in text(again)
    assert [a for a, _ in log_actions(rt, handoff_id)].count("accepted") == 1


def test_reject_with_reason_and_note_recycles_the_lead_and_records_both(app, rt):
    handoff_id = hand_off_to(rt, ANN, "ada@acme.example", utcnow())
    client = signed_in_client(app, "sales", ANN)
    path = f"/sales/handoffs/{handoff_id}"

    response = client.post(
        f"{path}/reject",
        data={
            "csrf_token": csrf_token(client, path),
            "reason": "no-budget",
            "note": "Budget frozen until Q3 <script>alert(1)</script>",
        },
    )

    assert response.status_code == 302 and response.headers["Location"].endswith("/sales")
    row = handoff(rt, handoff_id)
    assert (row.status, row.reject_reason) == ("rejected", "no-budget")
    assert row.reject_note == "Budget frozen until Q3 <script>alert(1)</script>"
    assert lead_of(rt, handoff_id).stage == "recycled"
    assert clock(rt, handoff_id).response == "rejected"
    page = text(client.get(path))
    assert "&lt;script&gt;alert(1)" in page and "<script>alert(1)" not in page


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        ({"reason": ""}, "Choose why you give this lead back."),
        ({"reason": "made-up"}, "Choose one of the reasons offered."),
        ({"reason": "no-budget", "note": "x" * 2001}, "Field cannot be longer than 2000"),
    ],
)
def test_a_bad_rejection_shows_the_error_beside_the_field_and_saves_nothing(
    app, rt, data, field_error
):
    handoff_id = hand_off_to(rt, ANN, "ada@acme.example", utcnow())
    client = signed_in_client(app, "sales", ANN)
    path = f"/sales/handoffs/{handoff_id}"

    response = client.post(f"{path}/reject", data={"csrf_token": csrf_token(client, path), **data})

    assert response.status_code == 422
    page = text(response)
    assert re.search(r'id="(reason|note)-error">' + re.escape(field_error), page), page
    assert handoff(rt, handoff_id).status == "offered"
    assert lead_of(rt, handoff_id).stage == "mql"
    assert audited(rt, "reject") == []


def test_a_won_deal_records_its_value_and_a_lost_one_its_reason(app, rt):
    won = hand_off_to(rt, ANN, "ada@acme.example", utcnow())
    lost = hand_off_to(rt, ANN, "al@alpha.example", utcnow())
    client = signed_in_client(app, "sales", ANN)
    for handoff_id in (won, lost):
        path = f"/sales/handoffs/{handoff_id}"
        client.post(f"{path}/accept", data={"csrf_token": csrf_token(client, path)})

    path = f"/sales/handoffs/{won}"
    response = client.post(
        f"{path}/outcome",
        data={
            "csrf_token": csrf_token(client, path),
            "outcome": "won",
            "value": "24000.50",
            "currency": "eur",
        },
    )
    assert response.status_code == 302
    row = handoff(rt, won)
    assert (row.status, row.outcome, row.deal_value, row.deal_currency) == (
        "converted",
        "won",
        Decimal("24000.50"),
        "EUR",
    )
    assert lead_of(rt, won).stage == "customer"
    assert "€24,000.50" in text(client.get(path))

    path = f"/sales/handoffs/{lost}"
    client.post(
        f"{path}/outcome",
        data={"csrf_token": csrf_token(client, path), "outcome": "lost", "lost_reason": "Price"},
    )
    row = handoff(rt, lost)
    assert (row.outcome, row.lost_reason) == ("lost", "Price")
    assert lead_of(rt, lost).stage == "recycled"

    closed = text(client.get("/sales?tab=closed"))
    assert "Ada Tester" in closed and "Al Tester" in closed


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"outcome": "won", "value": ""}, "value", "Enter the deal's value"),
        ({"outcome": "won", "value": "-5"}, "value", "The value must be an amount above zero."),
        ({"outcome": "won", "value": "NaN"}, "value", "Enter a number"),
        ({"outcome": "won", "value": "1e400"}, "value", "The value is too large for a deal."),
        ({"outcome": "won", "value": "10", "currency": "€€€"}, "currency", "three-letter"),
        ({"outcome": "lost", "lost_reason": " "}, "lost_reason", "Say why the deal was lost."),
        ({"outcome": "won!", "value": "10"}, "outcome", "Not a valid choice"),
    ],
)
def test_a_bad_outcome_shows_the_error_beside_the_field_and_saves_nothing(
    app, rt, data, field, message
):
    handoff_id = hand_off_to(rt, ANN, "ada@acme.example", utcnow())
    client = signed_in_client(app, "sales", ANN)
    path = f"/sales/handoffs/{handoff_id}"
    client.post(f"{path}/accept", data={"csrf_token": csrf_token(client, path)})

    response = client.post(f"{path}/outcome", data={"csrf_token": csrf_token(client, path), **data})

    assert response.status_code == 422
    assert re.search(f'id="{field}-error">[^<]*' + re.escape(message), text(response)), field
    row = handoff(rt, handoff_id)
    assert (row.status, row.outcome, row.deal_value) == ("accepted", None, None)


def test_a_rep_cannot_act_on_someone_elses_handoff(app, rt):
    bens = hand_off_to(rt, BEN, "bert@berlin.example", utcnow())
    client = signed_in_client(app, "sales", ANN)
    path = f"/sales/handoffs/{bens}"

    page = text(client.get(path))
    assert "This lead is offered to Ben Becker. Only they or a sales manager can act on it." in page

    token = csrf_token(client, path)
    accepted = client.post(f"{path}/accept", data={"csrf_token": token})
    rejected = client.post(f"{path}/reject", data={"csrf_token": token, "reason": "no-budget"})

    assert handoff(rt, bens).status == "offered"
    for response in (accepted, rejected):
        assert response.status_code == 409
        assert "This lead is offered to another rep, not to you" in text(response)
    assert audited(rt, "accept") == [] and audited(rt, "reject") == []


def test_a_sales_user_without_a_rep_record_cannot_act(app, rt):
    handoff_id = hand_off_to(rt, ANN, "ada@acme.example", utcnow())
    client = signed_in_client(app, "sales", "nobody@sales.example")
    path = f"/sales/handoffs/{handoff_id}"

    response = client.post(f"{path}/accept", data={"csrf_token": csrf_token(client, path)})

    assert handoff(rt, handoff_id).status == "offered"
    assert "You are not in the sales team file" in text(response)


def test_the_handoff_page_carries_the_notifications_context(app, rt):
    handoff_id = hand_off_to(rt, ANN, "ada@acme.example", utcnow(), company="Acme Robotics")
    client = signed_in_client(app, "sales", ANN)

    page = text(client.get(f"/sales/handoffs/{handoff_id}"))

    for expected in (
        "Ada Tester · Acme Robotics",
        "Why now",
        "engaged-a-fit",
        "score 60 and fit grade A",
        "Suggested next step",
        "Recent activity",
        "The account: Acme Robotics",
        "Buying committee",
        "What happened",
        "Handed off",
        "mailto:ada@acme.example",
    ):
        assert expected in page, expected


def test_a_handoff_its_lead_and_its_account_link_to_each_other(app, rt):
    handoff_id = hand_off_to(rt, ANN, "ada@acme.example", utcnow(), company="Acme Robotics")
    lead = lead_of(rt, handoff_id)
    client = signed_in_client(app, "sales", ANN)

    page = text(client.get(f"/sales/handoffs/{handoff_id}"))
    assert f'href="/leads/{lead.id}"' in page
    assert f'href="/accounts/{lead.account_id}"' in page
    assert f'href="/sales/handoffs/{handoff_id}"' in text(
        client.get(f"/accounts/{lead.account_id}")
    )
    assert f'href="/sales/handoffs/{handoff_id}"' in text(client.get(f"/leads/{lead.id}"))


@pytest.mark.parametrize("role", ["marketer", "viewer"])
def test_a_lead_page_links_to_its_handoff_only_for_roles_that_may_open_it(app, rt, role):
    handoff_id = hand_off_to(rt, ANN, "ada@acme.example", utcnow(), company="Acme Robotics")
    lead = lead_of(rt, handoff_id)
    client = signed_in_client(app, role)

    page = text(client.get(f"/leads/{lead.id}"))

    assert "Handoffs to sales" in page
    assert f"/sales/handoffs/{handoff_id}" not in page
    assert client.get(f"/sales/handoffs/{handoff_id}").status_code == 403


@pytest.mark.parametrize("path", ["/sales/team", "/sales/team/rejections"])
@pytest.mark.parametrize("days", [" ", "\t", "7 ", "1e3", "-7"])
def test_a_blank_or_odd_period_shows_the_default_period_never_a_server_error(app, rt, path, days):
    client = signed_in_client(app, "sales-manager")

    response = client.get(path, query_string={"days": days})

    assert response.status_code in (200, 400)
    assert "30" in text(response)


# ---------------------------------------------------------------- access and bad ids


@pytest.mark.parametrize("path", ["/sales", "/sales/handoffs/1", "/sales/team"])
def test_a_marketer_may_not_open_the_sales_pages(app, rt, path):
    client = signed_in_client(app, "marketer")
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", ["/sales/team", "/sales/team/open", "/sales/team/rejections"])
def test_a_rep_may_not_open_the_managers_views(app, rt, path):
    client = signed_in_client(app, "sales", ANN)
    assert client.get(path).status_code == 403


def test_unknown_and_hostile_ids_are_not_found(app, rt):
    client = signed_in_client(app, "sales-manager")
    token = csrf_token(client, "/sales/team")
    for path in (
        "/sales/handoffs/424242",
        "/sales/handoffs/99999999999999999999",
        "/sales/handoffs/%00",
        "/sales/handoffs/<script>",
        "/sales/handoffs/-1",
    ):
        assert client.get(path).status_code == 404, path
    for action in ("accept", "reject", "outcome", "reassign"):
        response = client.post(
            f"/sales/handoffs/99999999999999999999/{action}", data={"csrf_token": token}
        )
        assert response.status_code == 404, action
        response = client.post(
            f"/sales/handoffs/424242/{action}",
            data={
                "csrf_token": token,
                "reason": "no-budget",
                "rep": "1",
                "outcome": "won",
                "value": "1",
            },
        )
        assert response.status_code == 404, action


# ---------------------------------------------------------------- the manager


def test_the_team_report_counts_sla_and_rejections_exactly(app, rt):
    now = utcnow()
    # Ann: one answered in 30 minutes (in time), one after 2 hours (breached); Ben: one
    # rejected in 10 minutes with a note, one still running.
    in_time = hand_off_to(rt, ANN, "a1@one.example", now - timedelta(hours=5))
    late = hand_off_to(rt, ANN, "a2@two.example", now - timedelta(hours=4))
    rejected = hand_off_to(rt, BEN, "b1@drei.example", now - timedelta(hours=3))
    hand_off_to(rt, BEN, "b2@vier.example", now - timedelta(minutes=10))
    with transaction(rt.sessions) as session:
        ann, ben = find_rep(session, ANN), find_rep(session, BEN)
        verdicts.accept(session, in_time, rep=ann, now=now - timedelta(hours=4, minutes=30))
        verdicts.accept(session, late, rep=ann, now=now - timedelta(hours=2))
        verdicts.reject(
            session,
            rejected,
            reason="bad-timing",
            note="Call again in spring",
            rep=ben,
            now=now - timedelta(hours=2, minutes=50),
        )
    with rt.sessions() as session:
        assert session.get(HandoffSla, late).status == "breached"
    client = signed_in_client(app, "sales-manager")

    page = text(client.get("/sales/team?days=7"))

    rows = dict(re.findall(r'<th scope="row">([^<]+)</th>\s*((?:<td[^>]*>.*?</td>\s*){6})', page))
    cells = lambda name: re.findall(r"<td[^>]*>(.*?)</td>", rows[name])  # noqa: E731
    assert [re.sub(r"<[^>]+>", "", c) for c in cells("Ann Archer")] == [
        "2",
        "1",
        "1",
        "0",
        "50.0%",
        "2 h 0 min",
    ]
    assert [re.sub(r"<[^>]+>", "", c) for c in cells("Ben Becker")] == [
        "2",
        "1",
        "0",
        "1",
        "100.0%",
        "10 min",
    ]
    assert [re.sub(r"<[^>]+>", "", c) for c in cells("Team")] == [
        "4",
        "2",
        "1",
        "1",
        "66.7%",
        "30 min",
    ]
    assert "Bad timing (not buying now)" in page and "Call again in spring" in page
    assert re.search(r'<span class="num">2</span> accepted', page)
    assert re.search(r'<span class="num">1</span> rejected', page)
    assert re.search(r'<span class="num">33.3%</span> rejection rate', page)

    listing = text(client.get("/sales/team/rejections?days=7&reason=bad-timing"))
    assert "B1 Tester" in listing and "Call again in spring" in listing
    assert "B1 Tester" not in text(client.get("/sales/team/rejections?days=7&reason=no-budget"))
    assert client.get("/sales/team/rejections?reason=<script>").status_code == 400
    assert client.get("/sales/team?days=99999999999999999999").status_code == 400


def test_a_manager_reassigns_an_open_handoff_but_never_to_an_inactive_rep(app, rt):
    handoff_id = hand_off_to(rt, ANN, "ada@acme.example", utcnow())
    client = signed_in_client(app, "sales-manager")
    open_page = text(client.get("/sales/team/open"))
    assert "Ada Tester" in open_page and "Ann Archer" in open_page
    # Carl is inactive: not offered, and refused when asked for anyway.
    offered = re.search(rf'<select id="r{handoff_id}-rep".*?</select>', open_page, re.S)
    assert offered and "Ben Becker" in offered.group(0) and "Carl Cole" not in offered.group(0)
    with rt.sessions() as session:
        carl, ben = find_rep(session, CARL).id, find_rep(session, BEN).id
    token = csrf_token(client, "/sales/team/open")

    refused = client.post(
        f"/sales/handoffs/{handoff_id}/reassign",
        data={"csrf_token": token, "rep": str(carl)},
    )
    assert refused.status_code == 422
    assert 'id="rep-error">That rep cannot take leads' in text(refused)
    assert handoff(rt, handoff_id).status == "offered"

    done = client.post(
        f"/sales/handoffs/{handoff_id}/reassign",
        data={
            f"r{handoff_id}-csrf_token": token,
            f"r{handoff_id}-rep": str(ben),
            f"r{handoff_id}-back": "team",
        },
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("/sales/team/open")
    assert handoff(rt, handoff_id).status == "reassigned"
    assert "Reassigned to Ben Becker" in text(client.get("/sales/team/open"))
    assert audited(rt, "reassign") == [{"method": "POST", "handoff_id": str(handoff_id)}]


def test_a_manager_may_act_for_the_owner_and_the_log_names_the_manager(app, rt):
    handoff_id = hand_off_to(rt, ANN, "ada@acme.example", utcnow())
    client = signed_in_client(app, "sales-manager", "dana@sales.example")
    path = f"/sales/handoffs/{handoff_id}"
    assert "You act for Ann Archer, the owner" in text(client.get(path))

    client.post(f"{path}/accept", data={"csrf_token": csrf_token(client, path)})

    assert f"Accepted for {ANN}, the owner." in text(client.get(path))
    row = handoff(rt, handoff_id)
    assert (row.status, row.decided_by) == ("accepted", ANN)
    assert ("accepted", "user:dana@sales.example") in log_actions(rt, handoff_id)


def test_a_rep_may_not_reassign(app, rt):
    handoff_id = hand_off_to(rt, ANN, "ada@acme.example", utcnow())
    client = signed_in_client(app, "sales", ANN)
    path = f"/sales/handoffs/{handoff_id}"
    response = client.post(
        f"{path}/reassign", data={"csrf_token": csrf_token(client, path), "rep": "2"}
    )
    assert response.status_code == 403
    assert handoff(rt, handoff_id).status == "offered"
