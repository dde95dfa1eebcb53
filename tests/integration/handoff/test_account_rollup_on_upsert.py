"""The accounts' rolled-up scores that an upsert keeps (``refresh_account_scores`` for the
accounts a batch touches, written as one bulk UPDATE) are those a full recomputation of
every account gives, in the database and on the account objects the session holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from nurture.handoff.account_scores import account_score, refresh_all_account_scores
from nurture.leads.service import upsert_leads
from nurture.leads.validation import validate_lead_data
from nurture.models import Account, Event, Lead
from nurture.platform.db import transaction

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _fields(**data):
    fields, errors = validate_lead_data(data, default_timezone="UTC")
    assert not errors
    return fields


def _rollups(session) -> dict[str, tuple[float, float, datetime | None]]:
    return {
        account.domain: (
            round(account_score(account.score_value, account.score_as_of, NOW), 9),
            round(account.score_rank, 9),
            account.last_activity_at,
        )
        for account in session.scalars(select(Account).execution_options(populate_existing=True))
    }


def test_an_upsert_batch_leaves_each_account_as_a_full_recomputation_would(runtime):
    with transaction(runtime.sessions) as session:
        upsert_leads(
            session,
            [_fields(email=f"p{i}@acme.com", company="Acme") for i in range(3)]
            + [_fields(email="ann@beta.io", company="Beta")],
            now=NOW - timedelta(days=3),
            source="test",
        )
        people = {lead.email: lead for lead in session.scalars(select(Lead))}
        for email, score in (("p0@acme.com", 40.0), ("p1@acme.com", 12.0), ("ann@beta.io", 5)):
            people[email].score_value, people[email].score_as_of = score, NOW - timedelta(days=2)
        session.add(
            Event(
                lead_id=people["p1@acme.com"].id,
                type="email.clicked",
                occurred_at=NOW - timedelta(days=2),
            )
        )
    with transaction(runtime.sessions) as session:
        acme = session.scalars(select(Account).where(Account.domain == "acme.com")).one()
        # A batch that brings new people to both accounts and changes one existing person.
        upsert_leads(
            session,
            [_fields(email=f"new{i}@acme.com") for i in range(3)]
            + [_fields(email="bob@beta.io"), _fields(email="p2@acme.com", title="CFO")],
            now=NOW,
            source="test",
        )
        # The account object the session held carries what was written.
        stored = session.execute(
            select(Account.score_value, Account.score_as_of).where(Account.id == acme.id)
        ).one()
        assert (acme.score_value, acme.score_as_of) == tuple(stored)
        assert acme.score_as_of == NOW and acme.score_value > 0
    with transaction(runtime.sessions) as session:
        kept = _rollups(session)
    with transaction(runtime.sessions) as session:
        refresh_all_account_scores(session, NOW, runtime.settings.account_score)
    with transaction(runtime.sessions) as session:
        recomputed = _rollups(session)

    assert kept == recomputed
    assert kept["acme.com"][2] == NOW - timedelta(days=2)


def test_an_account_whose_zero_roll_up_stays_zero_is_not_rewritten(runtime):
    # New people have no score: the row of an account with nothing engaged keeps its
    # stamps, while one whose stored roll-up is stale (a score its people no longer give)
    # is still rewritten.
    with transaction(runtime.sessions) as session:
        upsert_leads(
            session,
            [_fields(email="a@quiet.com", company="Quiet"), _fields(email="b@stale.com")],
            now=NOW - timedelta(days=3),
            source="test",
        )
        stale = session.scalars(select(Account).where(Account.domain == "stale.com")).one()
        stale.score_value, stale.score_as_of, stale.score_rank = 9.0, NOW, 1.0
    with transaction(runtime.sessions) as session:
        before = {a.domain: (a.updated_at, a.score_as_of) for a in session.scalars(select(Account))}
    with transaction(runtime.sessions) as session:
        upsert_leads(
            session,
            [_fields(email="c@quiet.com"), _fields(email="d@stale.com")],
            now=NOW,
            source="test",
        )
    with transaction(runtime.sessions) as session:
        after = {a.domain: (a.updated_at, a.score_as_of) for a in session.scalars(select(Account))}
        kept = _rollups(session)
    assert after["quiet.com"] == before["quiet.com"]
    assert after["stale.com"] != before["stale.com"]
    with transaction(runtime.sessions) as session:
        refresh_all_account_scores(session, NOW, runtime.settings.account_score)
    with transaction(runtime.sessions) as session:
        assert _rollups(session) == kept
    assert kept["stale.com"] == (0.0, 0.0, None)
