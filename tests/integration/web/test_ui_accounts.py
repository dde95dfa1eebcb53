"""The account pages: list with search, filters and pages; an account's committee and people."""

from __future__ import annotations

import re

import pytest

from nurture.models import Account
from nurture.platform.db import transaction
from nurture.web.ui import accounts as accounts_page
from tests.integration.reports.test_accounts import build
from tests.integration.web.ui_support import signed_in_client


@pytest.fixture
def data(app):
    return build(app.extensions["nurture"])


def test_the_list_shows_accounts_most_engaged_first_with_their_figures(app, data):
    client = signed_in_client(app, "viewer")
    html = client.get("/accounts").get_data(as_text=True)
    order = re.findall(r'<a href="/accounts/(\d+)">', html)
    assert [int(i) for i in order] == [data["acme.com"], data["beta.io"], data["gamma.org"]]
    assert "2 of 2" in html and "0 of 1" in html
    html = client.get("/accounts?industry=Retail&sort=name").get_data(as_text=True)
    assert "Beta" in html and "Acme" not in html
    html = client.get("/accounts?open_handoff=y").get_data(as_text=True)
    assert "Acme" in html and "Beta" not in html


def test_an_accounts_page_shows_committee_missing_roles_people_and_open_handoffs(app, data):
    client = signed_in_client(app, "sales-manager")
    html = client.get(f"/accounts/{data['acme.com']}").get_data(as_text=True)
    assert "<h1>Acme</h1>" in html
    committee = html[html.index("Buying committee") : html.index('id="people-h"')]
    assert (
        re.search(r"Decision maker</th>\s*<td>ceo@acme.com", committee)
        or "Decision maker" in committee
    )
    assert "missing: find someone" in committee  # finance nobody engaged
    assert "Technical evaluator" in committee
    assert "ceo@acme.com" in html and "dev@acme.com" in html
    assert "The sum of its 3 most engaged people" in html
    handoffs = html[html.index('id="handoffs-h"') : html.index('id="activity-h"')]
    assert "ceo@acme.com" in handoffs and "offered" in handoffs
    assert "email.clicked" in html


def test_hostile_search_and_cursors_never_fail(app, data):
    client = signed_in_client(app, "viewer")
    for query in (
        "<script>alert(1)</script>",
        "x" * 10_000,
        "%00",
        "%",
        "'; drop table accounts;--",
    ):
        response = client.get("/accounts", query_string={"q": query})
        assert response.status_code in (200, 400)
        assert "<script>alert(1)</script>" not in response.get_data(as_text=True)
    assert client.get("/accounts?q=" + "x" * 10_000).status_code == 400
    for after in ("zz", "1e999,1", ",99999999999999999999", "%00"):
        assert client.get("/accounts", query_string={"after": after}).status_code == 200
    assert client.get("/accounts?sort=bogus&size=nope&industry=%00").status_code == 200


@pytest.mark.parametrize(
    "path", ["/accounts/99999999999999999999", "/accounts/0", "/accounts/424242", "/accounts/abc"]
)
def test_unknown_accounts_are_404(app, path):
    client = signed_in_client(app, "viewer")
    assert client.get(path).status_code == 404


def test_anonymous_people_are_sent_to_sign_in(client, app):
    with transaction(app.extensions["nurture"].sessions) as session:
        session.add(Account(domain="x.com"))
    assert client.get("/accounts").status_code == 302


def test_a_big_account_lists_its_most_engaged_people_and_links_to_everyone(app, data, monkeypatch):
    monkeypatch.setattr(accounts_page, "PEOPLE_SHOWN", 1)
    client = signed_in_client(app, "marketer")

    html = client.get(f"/accounts/{data['acme.com']}").get_data(as_text=True)

    people = html[html.index('id="people-h"') : html.index('id="handoffs-h"')]
    listed = re.findall(r"<tr[^>]*>\s*<th scope=\"row\">", people)
    assert len(listed) == 1
    assert "ceo@acme.com" in people and "dev@acme.com" not in people  # the engaged one first
    assert "1 more person works here" in people
    assert f'href="/leads?account={data["acme.com"]}"' in people
