"""``/reports/costs``: the file's entries read-only with their file and line, the app's
added, edited and deleted by those with ``costs.edit``, each change audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from nurture.analytics.costs import sync_costs_file
from nurture.models import AuditLog, Cost
from nurture.platform.db import utcnow
from tests.integration.engine_support import sync_fixture_campaigns
from tests.integration.web.ui_support import csrf_token, signed_in_client

FILE = "currency: EUR\ncosts:\n  - { month: 2026-01, source: webinar, amount: 600 }\n"


@pytest.fixture
def costs_file(runtime, tmp_path) -> Path:  # type: ignore[no-untyped-def]
    sync_fixture_campaigns(runtime)
    path = tmp_path / "costs.yaml"
    path.write_text(FILE, encoding="utf-8")
    assert sync_costs_file(runtime, now=utcnow(), path=path).ok
    return path.resolve()


def test_a_marketer_adds_edits_and_deletes_a_cost(app, runtime, costs_file):
    client = signed_in_client(app, "marketer")
    page = client.get("/reports/costs").get_data(as_text=True)
    assert f"{costs_file}:3" in page  # the file's entry, read-only, with its line
    token = csrf_token(client, "/reports/costs")
    form = {"month": "2026-02", "source": "", "campaign": "test-drip", "amount": "80.5"}
    answer = client.post("/reports/costs", data={**form, "csrf_token": token})
    assert answer.status_code == 302
    with runtime.sessions() as session:
        row = session.scalar(select(Cost).where(Cost.origin == "app"))
        assert row is not None
        assert (row.campaign, str(row.amount), row.currency) == ("test-drip", "80.50", "EUR")
        assert row.entered_by.startswith("user:")
        cost_id = row.id

    assert client.get(f"/reports/costs/{cost_id}/edit").status_code == 200
    answer = client.post(
        f"/reports/costs/{cost_id}", data={**form, "amount": "90", "csrf_token": token}
    )
    assert answer.status_code == 302
    answer = client.post(f"/reports/costs/{cost_id}/delete", data={"csrf_token": token})
    assert answer.status_code == 302
    with runtime.sessions() as session:
        assert session.scalar(select(Cost).where(Cost.origin == "app")) is None
        actions = session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert [a for a in actions if a.startswith("app.ui_costs")] == [
        "app.ui_costs.create",
        "app.ui_costs.update",
        "app.ui_costs.remove",
    ]


def test_bad_values_and_the_files_entries_are_refused_with_the_reason(app, runtime, costs_file):
    client = signed_in_client(app, "marketer")
    token = csrf_token(client, "/reports/costs")
    answer = client.post(
        "/reports/costs",
        data={"month": "2026-02", "source": "ads", "amount": "-3", "csrf_token": token},
    )
    assert answer.status_code == 422
    assert "the amount -3 is negative" in answer.get_data(as_text=True)
    answer = client.post(
        "/reports/costs",
        data={"month": "2026-01", "source": "webinar", "amount": "5", "csrf_token": token},
    )
    assert answer.status_code == 422
    assert f"{costs_file}:3" in answer.get_data(as_text=True)
    with runtime.sessions() as session:
        file_entry = session.scalar(select(Cost.id))
    assert client.get(f"/reports/costs/{file_entry}/edit").status_code == 404


def test_a_viewer_sees_the_costs_but_cannot_change_them(app, costs_file):
    client = signed_in_client(app, "viewer")
    page = client.get("/reports/costs")
    assert page.status_code == 200
    assert "Add a cost" not in page.get_data(as_text=True)
    token = csrf_token(client, "/reports/costs")
    answer = client.post(
        "/reports/costs",
        data={"month": "2026-02", "source": "ads", "amount": "3", "csrf_token": token},
    )
    assert answer.status_code == 403


def test_the_first_cost_without_a_file_asks_for_the_currency(app, runtime):
    client = signed_in_client(app, "admin")
    assert "Currency (ISO 4217)" in client.get("/reports/costs").get_data(as_text=True)
    token = csrf_token(client, "/reports/costs")
    form = {"month": "2026-02", "source": "ads", "amount": "3", "csrf_token": token}
    answer = client.post("/reports/costs", data=form)
    assert answer.status_code == 422
    assert "required for the first cost" in answer.get_data(as_text=True)
    assert client.post("/reports/costs", data={**form, "currency": "eur"}).status_code == 302
    with runtime.sessions() as session:
        assert session.scalar(select(Cost.currency)) == "EUR"
    assert "Currency (ISO 4217)" not in client.get("/reports/costs").get_data(as_text=True)


def test_the_list_shows_the_months_asked_for(app, runtime, costs_file):
    client = signed_in_client(app, "viewer")
    assert f"{costs_file}:3" in client.get("/reports/costs?from=2026-01&to=2026-02").text
    assert f"{costs_file}:3" not in client.get("/reports/costs?from=2026-02").text
    answer = client.get("/reports/costs?from=May")
    assert answer.status_code == 400
    assert "from: &#39;May&#39; is not a month" in answer.text
