"""An account's page lists its revenue after the won deal, and a sales manager (or an
admin: ``revenue.edit``) books more through a form with a CSRF token."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from nurture.models import Account, RevenueEntry
from nurture.platform.db import transaction
from tests.integration.web.ui_support import csrf_token, signed_in_client


@pytest.fixture
def gamma(app) -> int:  # type: ignore[no-untyped-def]
    with transaction(app.extensions["nurture"].sessions) as session:
        account = Account(domain="gamma.org", name="Gamma", employees=5000)
        session.add(account)
        session.flush()
        return account.id


def entries(app) -> list[RevenueEntry]:  # type: ignore[no-untyped-def]
    with app.extensions["nurture"].sessions() as session:
        return list(session.scalars(select(RevenueEntry).order_by(RevenueEntry.id)))


GOOD = {
    "amount": "1200.50",
    "currency": "eur",
    "booked_on": "2026-03-01",
    "kind": "renewal",
    "note": "invoice 114",
}


def test_a_sales_manager_books_revenue_on_the_account_page(app, gamma):
    client = signed_in_client(app, "sales-manager")
    page = f"/accounts/{gamma}"
    html = client.get(page).get_data(as_text=True)
    assert "No revenue booked after the won deal yet." in html and "Book revenue" in html
    token = csrf_token(client, page)
    response = client.post(f"{page}/revenue", data={**GOOD, "csrf_token": token})
    assert response.status_code == 302
    [entry] = entries(app)
    assert (str(entry.amount), entry.currency, entry.kind, entry.note) == (
        "1200.50",
        "EUR",
        "renewal",
        "invoice 114",
    )
    assert entry.who.startswith("user:")
    html = client.get(page).get_data(as_text=True)
    assert "Booked 1,200.50 EUR." in html and "invoice 114" in html


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("amount", "-5", "The amount must be above zero."),
        ("amount", "ten", "Enter a number, e.g. 1200 or 1200.50."),
        ("amount", "1.005", "Use at most two decimals (cents)."),
        ("currency", "EURO", "Use the three-letter code, e.g. EUR or USD."),
        ("booked_on", "2999-01-01", "The day is in the future."),
    ],
)
def test_a_bad_field_is_shown_beside_it_and_nothing_is_booked(app, gamma, field, value, error):
    client = signed_in_client(app, "admin")
    page = f"/accounts/{gamma}"
    token = csrf_token(client, page)
    response = client.post(f"{page}/revenue", data={**GOOD, field: value, "csrf_token": token})
    assert response.status_code == 422
    assert error in response.get_data(as_text=True)
    assert entries(app) == []


def test_without_the_permission_or_the_token_nothing_is_booked(app, gamma):
    viewer = signed_in_client(app, "viewer", "v@example.com")
    page = f"/accounts/{gamma}"
    assert "Book revenue" not in viewer.get(page).get_data(as_text=True)
    token = csrf_token(viewer, page)
    assert viewer.post(f"{page}/revenue", data={**GOOD, "csrf_token": token}).status_code == 403
    marketer = signed_in_client(app, "marketer", "m@example.com")
    token = csrf_token(marketer, page)
    assert marketer.post(f"{page}/revenue", data={**GOOD, "csrf_token": token}).status_code == 403
    manager = signed_in_client(app, "sales-manager")
    assert manager.post(f"{page}/revenue", data=GOOD).status_code in (400, 422)
    assert manager.post("/accounts/99999/revenue", data=GOOD).status_code in (400, 404, 422)
    assert entries(app) == []
