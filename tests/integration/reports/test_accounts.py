"""The account list's query: search, filters, sort orders, keyset pages and per-page figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nurture.cli import accounts_cmd, cli  # noqa: F401  (registers the commands)
from nurture.handoff.account_scores import refresh_account_scores
from nurture.leads.service import upsert_leads
from nurture.leads.validation import validate_lead_data
from nurture.models import Account, Event, Handoff, Lead
from nurture.platform.db import transaction
from nurture.platform.decay import DEFAULT_HALF_LIFE, score_rank
from nurture.reports.accounts import AccountFilter, list_accounts, parse_cursor

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def lead(**data):
    fields, errors = validate_lead_data(data, default_timezone="UTC")
    assert not errors
    return fields


def build(runtime) -> dict[str, int]:
    """Three accounts: acme (two engaged people, one open handoff), beta (one cold person),
    gamma (no people)."""
    with transaction(runtime.sessions) as session:
        upsert_leads(
            session,
            [
                lead(
                    email="ceo@acme.com",
                    title="CEO",
                    company="Acme",
                    industry="Software",
                    country="PL",
                    employees="120",
                ),
                lead(email="dev@acme.com", title="Engineer"),
                lead(
                    email="ann@beta.io",
                    company="Beta",
                    industry="Retail",
                    country="DE",
                    employees="8",
                ),
            ],
            now=NOW,
            source="test",
        )
        session.add(Account(domain="gamma.org", name="Gamma", industry="Software", employees=5000))
        session.flush()
        leads = {p.email: p for p in session.query(Lead)}
        for email, score, temperature in (
            ("ceo@acme.com", 40.0, "hot"),
            ("dev@acme.com", 10.0, "warm"),
            ("ann@beta.io", 5.0, "cold"),
        ):
            leads[email].score_value, leads[email].score_as_of = score, NOW
            leads[email].temperature = temperature
        session.add(
            Event(
                lead_id=leads["dev@acme.com"].id,
                type="email.clicked",
                occurred_at=NOW - timedelta(hours=2),
            )
        )
        session.add(
            Event(
                lead_id=leads["ann@beta.io"].id,
                type="email.opened",
                occurred_at=NOW - timedelta(days=1),
            )
        )
        session.add(
            Event(
                lead_id=leads["ann@beta.io"].id,
                type="email.opened",
                is_machine=True,
                occurred_at=NOW - timedelta(minutes=1),
            )
        )
        acme = leads["ceo@acme.com"].account_id
        session.add(
            Handoff(
                lead_id=leads["ceo@acme.com"].id,
                open_lead_id=leads["ceo@acme.com"].id,
                account_id=acme,
                status="offered",
                assignment_method="rule",
                assignment_reason="test",
                qualification_rule="hot",
                token="t1",
            )
        )
        ids = {a.domain: a.id for a in session.query(Account)}
        refresh_account_scores(session, ids.values(), NOW, "top3")
    return ids


def names(page) -> list[str]:
    return [row.domain for row in page.rows]


def test_accounts_sort_by_score_name_and_activity_with_exact_figures(runtime):
    ids = build(runtime)
    with transaction(runtime.sessions) as session:
        page = list_accounts(session, now=NOW)
        assert names(page) == ["acme.com", "beta.io", "gamma.org"]
        acme = page.rows[0]
        assert (acme.score, acme.people, acme.engaged, acme.open_handoffs) == (50.0, 2, 2, 1)
        assert acme.last_activity_at == NOW - timedelta(hours=2)
        beta = page.rows[1]
        # The machine open a minute ago is not activity.
        assert (beta.score, beta.engaged, beta.last_activity_at) == (
            5.0,
            0,
            NOW - timedelta(days=1),
        )
        # A day later every score has decayed by the same factor: the order holds.
        later = list_accounts(session, now=NOW + timedelta(days=30))
        assert later.rows[0].score == pytest.approx(25.0)
        assert names(list_accounts(session, now=NOW, sort="name")) == [
            "acme.com",
            "beta.io",
            "gamma.org",
        ]
        assert names(list_accounts(session, now=NOW, sort="activity")) == [
            "acme.com",
            "beta.io",
            "gamma.org",
        ]
    assert ids["gamma.org"]


def test_filters_and_search(runtime):
    build(runtime)
    with transaction(runtime.sessions) as session:

        def find(**f):
            return names(list_accounts(session, now=NOW, filters=AccountFilter(**f)))

        assert find(industry="Software") == ["acme.com", "gamma.org"]
        assert find(country="de") == ["beta.io"]
        assert find(size="1-10") == ["beta.io"]
        assert find(size="5001+") == []
        assert find(size="1001-5000") == ["gamma.org"]
        assert find(open_handoff=True) == ["acme.com"]
        assert find(query="GAM") == ["gamma.org"]
        assert find(query="%") == []
        assert find(query="ta.i") == ["beta.io"]


@pytest.mark.parametrize("sort", ["score", "name", "activity"])
def test_keyset_pages_cover_every_account_once(runtime, sort):
    build(runtime)
    with transaction(runtime.sessions) as session:
        for i in range(5):
            session.add(Account(domain=f"x{i}.com", name=None if i % 2 else f"X{i}"))
        session.flush()
        seen, after = [], None
        while True:
            page = list_accounts(session, now=NOW, sort=sort, after=after, limit=2)
            seen += names(page)
            if page.next_after is None:
                break
            after = page.next_after
        assert sorted(seen) == sorted(a.domain for a in session.query(Account))
        assert len(seen) == len(set(seen)) == 8


def test_bad_cursors_are_ignored():
    assert parse_cursor("score", "abc,1") is None
    assert parse_cursor("score", "1.5,99999999999999999999") is None
    assert parse_cursor("name", "Acme, Inc.,12") == ("Acme, Inc.", 12)
    assert parse_cursor("activity", ",3") == (None, 3)


def test_the_rank_orders_scores_whenever_they_were_taken():
    # Accounts share the leads' sort key (nurture.platform.decay.score_rank).
    early = score_rank(10.0, NOW, DEFAULT_HALF_LIFE)
    later = score_rank(6.0, NOW + timedelta(days=30), DEFAULT_HALF_LIFE)  # 10 decays to 5
    assert later > early
    assert score_rank(0.0, NOW, DEFAULT_HALF_LIFE) < score_rank(0.001, NOW, DEFAULT_HALF_LIFE)


def test_the_refresh_command_computes_scores_of_accounts_from_before_the_upgrade(app):

    rt = app.extensions["nurture"]
    build(rt)
    with transaction(rt.sessions) as session:
        for account in session.query(Account):
            account.score_value, account.score_as_of, account.score_rank = 0.0, None, -1.0e9
            account.last_activity_at = None
    result = app.test_cli_runner().invoke(cli, ["accounts", "refresh-scores"])
    assert result.exit_code == 0, result.output
    assert "3 account(s) refreshed" in result.output
    with transaction(rt.sessions) as session:
        page = list_accounts(session, now=NOW)
        assert names(page) == ["acme.com", "beta.io", "gamma.org"]
        assert page.rows[0].last_activity_at == NOW - timedelta(hours=2)
