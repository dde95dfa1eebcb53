"""The settings pages' queries, with exact numbers from data the tests create: the
overview, the webhook delivery log and the suppression list (keyset pages of 50), the
warm-up, and the audit log viewer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from nurture.auth.apikeys import create_api_key, revoke_api_key
from nurture.auth.users import create_user, disable_user
from nurture.consent import audit
from nurture.consent.suppression import suppress
from nurture.models import Lead, Message, WebhookDelivery
from nurture.platform.db import transaction
from nurture.reports.audit import audit_page
from nurture.reports.keyset import parse_moment_cursor
from nurture.reports.settings import overview, suppressions, warmup, webhook_deliveries
from tests.integration.engine_support import add_lead

NOW = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)


def _users_and_keys(runtime) -> None:
    with transaction(runtime.sessions) as session:
        for email, role, password in [
            ("ada@x.example", "admin", "correct horse battery"),
            ("bo@x.example", "admin", None),
            ("cy@x.example", "viewer", None),
            ("di@x.example", "sales", "correct horse battery"),
        ]:
            create_user(
                session, email=email, name="", role=role, password=password, actor="test", now=NOW
            )
        disable_user(session, "cy@x.example", actor="test", now=NOW)
        create_api_key(session, "one", now=NOW)
        key, _ = create_api_key(session, "two", now=NOW)
        revoke_api_key(session, key.prefix, now=NOW)
        create_api_key(session, "three", now=NOW)


def _delivery(status: str, n: int, url: str = "https://hooks.example/a") -> WebhookDelivery:
    return WebhookDelivery(
        event_id=f"ev{n}",
        event="handoff.created",
        url=url,
        body="{}",
        status=status,
        attempts=1,
        created_at=NOW,
        next_attempt_at=NOW,
    )


def test_the_overview_counts_each_section(runtime):
    _users_and_keys(runtime)
    with transaction(runtime.sessions) as session:
        session.add_all(
            [
                _delivery("pending", 1),
                _delivery("failed", 2),
                _delivery("failed", 3),
                _delivery("delivered", 4),
            ]
        )
    settings = runtime.settings.with_overrides(webhook_urls=("https://hooks.example/a",))
    with runtime.sessions() as session:
        state = overview(session, settings, NOW)
    assert (state.users_active, state.users_disabled, state.admins_active) == (3, 1, 2)
    assert state.invitations_open == 1  # bo: active, no password yet (cy is disabled)
    assert (state.api_keys_active, state.api_keys_revoked) == (2, 1)
    assert (state.webhook_endpoints, state.webhooks_pending, state.webhooks_failed) == (1, 1, 2)
    assert (state.smtp_configured, state.dkim_configured, state.warmup.state) == (
        False,
        False,
        "off",
    )


def test_the_delivery_log_pages_newest_first_and_filters_by_status(runtime):
    with transaction(runtime.sessions) as session:
        session.add_all(
            [_delivery("failed" if n % 3 == 0 else "delivered", n) for n in range(1, 121)]
        )
    with runtime.sessions() as session:
        first = webhook_deliveries(session)
        assert [r.id for r in first.rows] == list(range(120, 70, -1))
        second = webhook_deliveries(session, after=int(first.next_after))
        assert [r.id for r in second.rows] == list(range(70, 20, -1))
        last = webhook_deliveries(session, after=int(second.next_after))
        assert [r.id for r in last.rows] == list(range(20, 0, -1)) and last.next_after is None
        failed = webhook_deliveries(session, status="failed")
        assert [r.id for r in failed.rows] == list(range(120, 0, -3)) and failed.next_after is None
        assert all(r.retryable for r in failed.rows)


def test_the_suppression_list_pages_by_address_and_searches_by_prefix_or_exact(runtime):
    for n in range(53):
        add_lead(runtime, f"p{n:02d}@acme.example")
    add_lead(runtime, "q_1%@acme.example")
    add_lead(runtime, "fine@acme.example")
    with transaction(runtime.sessions) as session:
        for lead in session.query(Lead).filter(Lead.email != "fine@acme.example"):
            suppress(session, lead, reason="hard_bounce", source="bounce", now=NOW)
        suppress(session, "nolead@else.example", reason="erased", source="rights", now=NOW)
    with runtime.sessions() as session:
        first = suppressions(session)
        assert len(first.rows) == 50 and first.rows[0].email == "p00@acme.example"
        assert first.next_after == "p49@acme.example"
        rest = suppressions(session, after=first.next_after)
        assert [r.email for r in rest.rows] == [
            "p50@acme.example",
            "p51@acme.example",
            "p52@acme.example",
            "q_1%@acme.example",
        ]
        assert rest.next_after is None
        assert [r.email for r in suppressions(session, query="P5").rows] == [
            "p50@acme.example",
            "p51@acme.example",
            "p52@acme.example",
        ]
        # LIKE's wildcards are plain characters in a search.
        assert [r.email for r in suppressions(session, query="q_1%").rows] == ["q_1%@acme.example"]
        assert suppressions(session, query="q%").rows == []
        [row] = suppressions(session, query="P07@ACME.example", exact=True).rows
        assert (row.reason, row.source, row.suppressed_at, row.lift_refusal) == (
            "hard_bounce",
            "bounce",
            NOW,
            None,
        )
        [erased] = suppressions(session, query="nolead@else.example", exact=True).rows
        assert erased.lead_id is None and erased.lift_refusal is not None
        assert suppressions(session, query="fine@acme.example", exact=True).rows == []


def test_the_warm_up_counts_todays_campaign_emails_as_the_engine_does(runtime):
    settings = runtime.settings.with_overrides(
        warmup_start=date(2026, 12, 4), warmup_schedule=(50, 100, 200)
    )
    lead = add_lead(runtime, "ann@acme.example")
    with transaction(runtime.sessions) as session:
        for n, (kind, at) in enumerate(
            [
                ("campaign", NOW - timedelta(hours=1)),
                ("campaign", NOW - timedelta(hours=14)),
                ("campaign", NOW - timedelta(days=1)),
                ("handoff", NOW),
            ]
        ):
            session.add(
                Message(
                    lead_id=lead,
                    kind=kind,
                    to_address="ann@acme.example",
                    status="sent",
                    queued_at=at,
                    token=f"t{n}",
                    template="welcome",
                    message_id=f"<m{n}@x>",
                )
            )
    with runtime.sessions() as session:
        today = warmup(session, settings, NOW)
        assert (today.state, today.day_number, today.cap_today) == ("active", 3, 200)
        assert (today.sent_today, today.remaining_today) == (2, 198)
        assert [d.cap for d in today.schedule] == [50, 100, 200]
        assert warmup(session, settings, NOW + timedelta(days=1)).state == "finished"
        assert warmup(session, settings, NOW - timedelta(days=3)).state == "not_started"


def test_the_audit_log_pages_newest_first_filters_and_names_users(runtime):
    with transaction(runtime.sessions) as session:
        user = create_user(
            session,
            email="ada@x.example",
            name="Ada Admin",
            role="admin",
            password=None,
            actor="cli",
            now=NOW,
        )
        for n in range(60):
            audit.record(
                session,
                action="brand.changed" if n % 2 else "user.role_changed",
                lead_id=None,
                email_hash=None,
                detail={"n": n},
                actor=f"user:{user.id}" if n < 30 else "system",
                now=NOW + timedelta(minutes=n),
            )
    with runtime.sessions() as session:
        first = audit_page(session)
        assert [r.detail.get("n") for r in first.rows] == list(range(59, 9, -1))
        rest = audit_page(session, after=parse_moment_cursor(first.next_after))
        assert [r.detail.get("n") for r in rest.rows] == [*range(9, -1, -1), None]
        assert rest.rows[-1].action == "user.created" and rest.next_after is None
        mine = audit_page(session, actor=f"user:{user.id}", action="brand.")
        assert [r.detail["n"] for r in mine.rows] == list(range(29, 0, -2))
        assert {r.actor_name for r in mine.rows} == {"Ada Admin"}
        window = audit_page(
            session, since=NOW + timedelta(minutes=10), until=NOW + timedelta(minutes=13)
        )
        assert [r.detail["n"] for r in window.rows] == [12, 11, 10]
        assert audit_page(session, action="user.role_changed").rows[0].detail["n"] == 58
    assert (
        parse_moment_cursor("garbage") is None
        and parse_moment_cursor("2026-12-06T15:00:00,x") is None
    )
    assert parse_moment_cursor("2026-12-06T15:00:00,5") is None  # no time zone: not one of ours
