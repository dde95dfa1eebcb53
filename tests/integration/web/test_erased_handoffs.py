"""What the sales pages, the API and the signed links show of an erased person's handoffs:
the verdicts stay (docs/privacy.md), nothing personal does, and nothing breaks."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from nurture.auth.apikeys import create_api_key
from nurture.handoff import verdicts
from nurture.handoff.links import HandoffLinks
from nurture.handoff.reps import find_rep
from nurture.models import Event, Handoff, HandoffAction, StageChange
from nurture.platform.db import transaction, utcnow
from nurture.privacy import erase_lead
from tests.integration.sales_support import ANN, hand_off_to, handoff, sync_sales_team
from tests.integration.web.ui_support import csrf_token, signed_in_client

# What the handoffs held about Ada and Bea: their names, addresses and the rep's words.
# (Their company's account is not erased: it is a business, shared by its people.)
PERSONAL = ("Ada", "ada@acme.example", "Budget frozen", "Bea", "bea@")
# What the reports count: kept as it was.
AGGREGATES = (
    "lead_id", "account_id", "rep_id", "status", "assignment_method", "assignment_rule",
    "needs_owner", "qualification_rule", "readiness_version", "hand_raiser", "fit_grade",
    "fit_score", "score", "temperature", "campaign", "source", "previous_id", "created_at",
    "decided_at", "decided_by", "reject_reason", "outcome", "outcome_at", "deal_value",
    "deal_currency",
)  # fmt: skip


def aggregates(rt, handoff_id: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    row = handoff(rt, handoff_id)
    return {name: getattr(row, name) for name in AGGREGATES}


@pytest.fixture
def rt(app, tmp_path):  # type: ignore[no-untyped-def]
    runtime = app.extensions["nurture"]
    sync_sales_team(runtime, tmp_path, utcnow() - timedelta(days=1))
    return runtime


def erase(rt, email: str) -> None:  # type: ignore[no-untyped-def]
    with transaction(rt.sessions) as session:
        erase_lead(
            session, email, now=utcnow(), actor="test", instance_path=rt.settings.instance_path
        )


def assert_nothing_personal(body: str) -> None:
    for word in PERSONAL:
        assert word not in body, word


@pytest.fixture
def erased(rt):  # type: ignore[no-untyped-def]
    """Ada's handoff rejected with a note, Bea's still offered; both people erased."""
    now = utcnow()
    rejected = hand_off_to(
        rt, ANN, "ada@acme.example", now - timedelta(hours=2), company="Acme Robotics"
    )
    with transaction(rt.sessions) as session:
        verdicts.reject(
            session, rejected, reason="no-budget", note="Budget frozen, Ada says call in Q3",
            rep=find_rep(session, ANN), now=now - timedelta(hours=1),
        )  # fmt: skip
    waiting = hand_off_to(
        rt, ANN, "bea@bright.example", now - timedelta(minutes=30), company="Bright Labs"
    )
    tokens = {rejected: handoff(rt, rejected).token, waiting: handoff(rt, waiting).token}
    before = {h: aggregates(rt, h) for h in (rejected, waiting)}
    erase(rt, "ada@acme.example")
    erase(rt, "bea@bright.example")
    return rejected, waiting, tokens, before


def test_the_handoff_rows_keep_the_verdict_and_lose_the_person(rt, erased):
    rejected, waiting, tokens, before = erased
    assert {h: aggregates(rt, h) for h in (rejected, waiting)} == before
    row = handoff(rt, rejected)
    assert (row.status, row.reject_reason) == ("rejected", "no-budget")
    assert (row.snapshot, row.reject_note, row.qualification_reasons) == ({}, None, [])
    assert row.assignment_reason == "erased"
    assert row.token != tokens[rejected] and handoff(rt, waiting).token != tokens[waiting]
    with rt.sessions() as session:
        details = session.scalars(
            select(HandoffAction.detail).where(HandoffAction.handoff_id.in_([rejected, waiting]))
        ).all()
        kept = session.scalars(select(Handoff.id).order_by(Handoff.id)).all()
    assert kept == [rejected, waiting]
    assert_nothing_personal(json.dumps(details))
    assert {"reason": "no-budget", "label": "No budget", "stage": "recycled"} in details


def test_the_sales_pages_show_the_handoffs_without_the_person(app, rt, erased):
    rejected, waiting, _, _ = erased
    rep = signed_in_client(app, "sales", ANN)
    for path in ("/sales", f"/sales/handoffs/{rejected}", f"/sales/handoffs/{waiting}"):
        response = rep.get(path)
        assert response.status_code == 200, path
        assert_nothing_personal(response.get_data(as_text=True))
        assert "Erased person" in response.get_data(as_text=True), path
        assert "mailto:erased" not in response.get_data(as_text=True), path
    manager = signed_in_client(app, "sales-manager")
    for path in ("/sales/team", "/sales/team/rejections", "/sales/team/open"):
        response = manager.get(path)
        assert response.status_code == 200, path
        assert_nothing_personal(response.get_data(as_text=True))


def test_the_api_shows_the_handoffs_without_the_person(client, rt, erased):
    rejected, waiting, _, _ = erased
    with transaction(rt.sessions) as session:
        _, key = create_api_key(session, "sales", now=utcnow())
    headers = {"Authorization": f"Bearer {key}"}
    for path in (
        f"/api/v1/handoffs/{rejected}",
        f"/api/v1/handoffs/{waiting}",
        "/api/v1/handoffs",
        "/api/v1/handoffs/reasons",
    ):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, path
        assert_nothing_personal(response.get_data(as_text=True))
    shown = client.get(f"/api/v1/handoffs/{rejected}", headers=headers).get_json()
    assert (shown["reject_reason"], shown["reject_note"], shown["snapshot"]) == (
        "no-budget",
        None,
        {},
    )
    assert shown["qualification"] == {
        "rule": "engaged-a-fit",
        "readiness_version": None,
        "reasons": [],
        "hand_raiser": False,
    }


def test_the_links_already_sent_stop_working(client, rt, erased):
    _, waiting, tokens, _ = erased
    settings = rt.settings
    row = handoff(rt, waiting)
    urls = HandoffLinks(settings.secret_key, settings.public_url).urls(
        tokens[waiting], row.rep_id, utcnow() + timedelta(days=30)
    )
    for name in ("view_url", "accept_url"):
        response = client.get(urls[name].removeprefix(settings.public_url))
        assert response.status_code == 404, name
        assert_nothing_personal(response.get_data(as_text=True))


def test_the_owner_can_still_close_an_erased_persons_open_handoff(app, rt, erased):
    # Nobody can reach the person any more; the rep gives the lead back so it leaves the
    # inbox, and the verdict is counted like any other.
    _, waiting, _, _ = erased
    rep = signed_in_client(app, "sales", ANN)
    path = f"/sales/handoffs/{waiting}"
    response = rep.post(
        f"{path}/reject",
        data={
            "csrf_token": csrf_token(rep, path),
            "reason": "wrong-contact",
            "note": "Bea left the company",
        },
    )
    assert response.status_code == 302
    row = handoff(rt, waiting)
    assert (row.status, row.reject_reason, row.reject_note) == ("rejected", "wrong-contact", None)
    assert "Erased person" not in rep.get("/sales").get_data(as_text=True)
    # Nothing more is written down about her: not on the handoff, its log or the timeline.
    with rt.sessions() as session:
        written = [
            *session.scalars(
                select(HandoffAction.detail).where(HandoffAction.handoff_id == waiting)
            ),
            *session.scalars(select(Event.properties).where(Event.lead_id == row.lead_id)),
            *session.scalars(select(StageChange.reason).where(StageChange.lead_id == row.lead_id)),
        ]
    assert_nothing_personal(json.dumps(written))
