"""After the demo's four weeks (ending now, as ``nurture demo`` runs them), the sales team is
at work: the demo's sales account has leads waiting in its inbox, some leads were accepted
and some rejected with a reason, a missed deadline was escalated, and the sales pages show
all of it to the demo's sales and sales-manager accounts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select

from nurture.demo import DemoLogin, create_demo_users, demo_settings, run_demo, sales_summary
from nurture.models import Handoff, HandoffSla, Lead, SalesRep
from nurture.platform.config import Settings
from nurture.platform.db import utcnow
from nurture.platform.runtime import Runtime
from nurture.web import create_app
from tests.integration.web.ui_support import sign_in


@dataclass(frozen=True)
class Shown:
    """A handoff as the pages should show it: its lead's name, owner, state, reason, note."""

    id: int
    name: str
    owner: str | None
    status: str
    outcome: str | None
    reason: str | None
    note: str | None
    sla: str | None
    due_at: datetime | None

    def late(self, now: datetime) -> bool:
        """Waiting past its deadline: escalated, or due since the demo's last hour."""
        return self.status == "offered" and (
            self.sla == "breached"
            or (self.sla == "pending" and self.due_at is not None and self.due_at <= now)
        )


@dataclass(frozen=True)
class Demo:
    settings: Settings
    logins: dict[str, DemoLogin]
    password: str
    handoffs: list[Shown]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """One demo run, as the command makes it: four weeks ending now, then the accounts."""
    base = Settings(
        instance_path=tmp_path_factory.mktemp("demo-sales"),
        database_url="sqlite://",
        secret_key="test-secret-key-not-for-production",
        public_url="http://nurture.test",
        default_timezone="UTC",
    )
    settings = demo_settings(base)
    run_demo(settings, weeks=4, today=utcnow())
    runtime = Runtime.from_settings(settings)
    try:
        logins, password = create_demo_users(runtime, now=utcnow())
        with runtime.sessions() as session:
            rows = session.execute(
                select(Handoff, Lead, SalesRep, HandoffSla)
                .join(Lead, Lead.id == Handoff.lead_id)
                .outerjoin(SalesRep, SalesRep.id == Handoff.rep_id)
                .outerjoin(HandoffSla, HandoffSla.handoff_id == Handoff.id)
                .order_by(Handoff.id)
            ).all()
            handoffs = [
                Shown(
                    handoff.id,
                    lead.full_name,
                    rep.email if rep else None,
                    handoff.status,
                    handoff.outcome,
                    handoff.reject_reason,
                    handoff.reject_note,
                    clock.status if clock else None,
                    clock.due_at if clock else None,
                )
                for handoff, lead, rep, clock in rows
            ]
    finally:
        runtime.close()
    yield Demo(settings, {login.role: login for login in logins}, password, handoffs)


def _client(demo: Demo, role: str) -> Iterator[FlaskClient]:
    app = create_app({"NURTURE_SETTINGS": demo.settings, "TESTING": True})
    try:
        client = app.test_client()
        response = sign_in(client, demo.logins[role].email, demo.password)
        assert response.status_code == 302, response.get_data(as_text=True)
        yield client
    finally:
        app.extensions["nurture"].close()


@pytest.fixture
def rep_client(demo: Demo) -> Iterator[FlaskClient]:
    yield from _client(demo, "sales")


@pytest.fixture
def manager_client(demo: Demo) -> Iterator[FlaskClient]:
    yield from _client(demo, "sales-manager")


def _page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def _row(page: str, handoff_id: int) -> str:
    """The table row of ``page`` that links to the handoff."""
    link = f'href="/sales/handoffs/{handoff_id}"'
    (row,) = (row for row in page.split("<tr>") if link in row)
    return row


def test_the_team_has_waiting_decided_and_late_handoffs(demo: Demo) -> None:
    rep = demo.logins["sales"].email
    waiting = [h for h in demo.handoffs if h.status == "offered"]
    # Waiting: some for the demo's sales account, some past their deadline (escalated to
    # the manager, still with their late owner), some still within it.
    assert [h for h in waiting if h.owner == rep]
    assert [h for h in waiting if h.sla == "breached"]
    assert [h for h in waiting if h.sla == "pending"]
    # Decided: accepted (some moved on to an outcome), rejected with a reason and a note,
    # and a missed one the manager gave to someone else.
    assert [h for h in demo.handoffs if h.status in ("accepted", "converted")]
    assert [h for h in demo.handoffs if h.outcome in ("sql", "opportunity", "won", "lost")]
    rejected = [h for h in demo.handoffs if h.status == "rejected"]
    assert rejected and all(h.reason and h.note for h in rejected)
    assert [h for h in demo.handoffs if h.status == "reassigned" and h.sla == "breached"]
    # Spread across the team, not one rep's story.
    assert len({h.owner for h in demo.handoffs}) >= 3


def test_the_sales_accounts_inbox_lists_its_handoffs_by_state(
    demo: Demo, rep_client: FlaskClient
) -> None:
    rep = demo.logins["sales"].email
    tabs = {tab: _page(rep_client, f"/sales?tab={tab}") for tab in ("waiting", "open", "closed")}
    mine = [h for h in demo.handoffs if h.owner == rep]
    for handoff in mine:
        if handoff.status == "offered":
            tab = "waiting"
        elif handoff.status == "accepted" or handoff.outcome in ("sql", "opportunity"):
            tab = "open"
        else:
            tab = "closed"
        link = f'href="/sales/handoffs/{handoff.id}"'
        assert link in tabs[tab], (handoff, tab)
        assert all(link not in page for other, page in tabs.items() if other != tab)
    waiting = [h for h in mine if h.status == "offered"]
    assert waiting
    now = utcnow()
    for handoff in waiting:
        # Each with the lead's name and where its deadline stands.
        row = _row(tabs["waiting"], handoff.id)
        assert str(escape(handoff.name)) in row
        if handoff.sla == "breached":
            assert "deadline missed" in row
        else:
            assert ("overdue by" if handoff.late(now) else "due in") in row


def test_the_managers_pages_show_the_deadlines_missed_and_the_rejections(
    demo: Demo, manager_client: FlaskClient
) -> None:
    team = _page(manager_client, "/sales/team")
    response_times, rest = team.split('id="answers-h"')
    given_back, attention = rest.split('id="attention-h"')
    assert 'class="badge bad"' in response_times  # a rep with breached deadlines
    for handoff in (h for h in demo.handoffs if h.status == "rejected"):
        assert str(escape(handoff.note or "")) in given_back
    late = [h for h in demo.handoffs if h.late(utcnow())]
    assert [h for h in late if h.sla == "breached"]
    for handoff in late:
        assert f'href="/sales/handoffs/{handoff.id}"' in attention

    listing = _page(manager_client, "/sales/team/open")
    for handoff in demo.handoffs:
        shown = f'href="/sales/handoffs/{handoff.id}"' in listing
        assert shown == (handoff.status in ("offered", "accepted")), handoff
    overdue = _page(manager_client, "/sales/team/open?sla=overdue")
    assert all(f'href="/sales/handoffs/{h.id}"' in overdue for h in late)


def test_the_summary_counts_where_the_handoffs_stand(demo: Demo) -> None:
    now = utcnow()
    summary = sales_summary(demo.settings, now)

    def count(*statuses: str, outcomes: tuple[str | None, ...] = (None,)) -> int:
        return sum(1 for h in demo.handoffs if h.status in statuses and h.outcome in outcomes)

    assert summary.handoffs == len(demo.handoffs)
    assert summary.waiting == count("offered")
    # Past the deadline: the missed ones; those made last are still within it.
    assert summary.late == sum(1 for h in demo.handoffs if h.late(now))
    assert 0 < summary.late < summary.waiting
    assert summary.open == count("accepted") + count("converted", outcomes=("sql", "opportunity"))
    assert (summary.won, summary.lost) == (
        count("converted", outcomes=("won",)),
        count("converted", outcomes=("lost",)),
    )
    assert summary.rejected == count("rejected") and summary.reassigned == count("reassigned")
    # A deal accepted in the first week is won by the end, with its value.
    assert summary.won and sum(summary.won_value.values()) > 0
