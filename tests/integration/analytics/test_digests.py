"""The weekly digest, sent through a real SMTP server to the people who asked for it, on
the analytics story (analytics_support.py), whose weeks are counted by hand here:

- week of Feb 9 (the week before): L4 created (Feb 15); L2 lost (Feb 10, entering SAL on
  the way). New 1, MQL 0, SAL 1, SQL 0, won 0, lost 1.
- week of Feb 16 (reported): L4 MQL (Feb 16); L1 won (Feb 20, entering SQL and opportunity
  on the way); and this test's L6, created Feb 17 with a source that is markup. New 1,
  MQL 1, SAL 0, SQL 1, won 1, lost 0.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from nurture.analytics.digests import send_due_digests
from nurture.auth.users import (
    UserError,
    create_user,
    disable_user,
    set_locale,
    set_weekly_digest,
)
from nurture.cli import cli
from nurture.models import ReportDigest, User
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime
from tests.integration.analytics.analytics_support import at, tell_story
from tests.integration.engine_support import add_lead
from tests.integration.web.ui_support import csrf_token, signed_in_client

MONDAY_AFTER = datetime(2026, 2, 23, 8, tzinfo=UTC)
WEEK = date(2026, 2, 16)


@pytest.fixture
def mailing(settings, smtp_sink, tmp_path):  # type: ignore[no-untyped-def]
    runtime = Runtime.from_settings(replace(settings, smtp_url=smtp_sink.url))
    tell_story(runtime, tmp_path)
    add_lead(runtime, "l6@new.example", created_at=at(2, 17), source="<b>ads</b>")
    with transaction(runtime.sessions) as session:
        for email, role in (
            ("mia@example.com", "marketer"),
            ("sam@example.com", "sales-manager"),
            ("rob@example.com", "sales"),
            ("old@example.com", "viewer"),
        ):
            create_user(
                session, email=email, name=email, role=role, password=None, actor="test",
                now=at(1, 1),
            )  # fmt: skip
        for email in ("mia@example.com", "sam@example.com", "old@example.com"):
            set_weekly_digest(session, email, True, actor="test", now=at(1, 1))
        disable_user(session, "old@example.com", actor="test", now=at(1, 2))
    yield runtime
    runtime.close()


def test_each_reader_gets_the_weeks_figures_against_the_week_before(mailing, smtp_sink):
    result = send_due_digests(mailing, MONDAY_AFTER)
    assert (result.week_start, result.sent, result.failed) == (WEEK, 2, 0)
    # The disabled viewer asked for it but cannot sign in any more; the rep never could.
    assert sorted(to for _, [to] in smtp_sink.envelopes) == ["mia@example.com", "sam@example.com"]
    message = smtp_sink.received[0]
    assert message["Subject"].strip() == (
        "Brightpath Analytics: your week in the funnel, 2026-02-16 to 2026-02-22"
    )
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "New leads: 1 (week before: 1; +0 (+0 %))" in text
    assert "MQL: 1 (week before: 0; +1)" in text
    assert "Lost: 0 (week before: 1; -1 (-100 %))" in text
    assert "Lead → MQL: 100.0 % (week before: 0.0 %; +100.0 points)" in text
    assert "MQL → SAL: 0.0 % (week before: —; —)" in text
    # Pointed out: the two rates that moved by 5 points or more; no count moved by 3.
    changed = text[text.index("What changed:") :]
    assert "- Lead → MQL +100.0 points\n- Win rate +100.0 points\n" in changed
    assert "- (no source): 1, 0\n- <b>ads</b>: 0, 1\n" in text
    assert "http://nurture.test/reports?from=2026-02-16&to=2026-02-23" in text
    html = message.get_body(("html",)).get_content()
    assert "&lt;b&gt;ads&lt;/b&gt;" in html and "<b>ads</b>" not in html


def test_a_week_goes_to_each_reader_once(mailing, smtp_sink):
    send_due_digests(mailing, MONDAY_AFTER)
    again = send_due_digests(mailing, datetime(2026, 2, 27, 12, tzinfo=UTC))
    assert (again.sent, again.failed) == (0, 0)
    assert len(smtp_sink.received) == 2


def test_a_refused_digest_is_tried_again_and_a_dead_address_is_not(mailing, smtp_sink):
    smtp_sink.fail_next = ["451 4.3.0 try later"]
    smtp_sink.refuse_rcpt["sam@example.com"] = "550 5.1.1 no such user"
    first = send_due_digests(mailing, MONDAY_AFTER)
    assert (first.sent, first.failed) == (0, 2)
    second = send_due_digests(mailing, datetime(2026, 2, 23, 8, 15, tzinfo=UTC))
    assert (second.sent, second.failed) == (1, 0)
    assert [to for _, [to] in smtp_sink.envelopes] == ["mia@example.com"]
    with mailing.sessions() as session:
        rows = {
            row.status: (row.attempts, row.error)
            for row in session.scalars(select(ReportDigest).where(ReportDigest.week_start == WEEK))
        }
    assert rows["sent"][0] == 2
    assert rows["failed"][0] == 5 and "5.1.1" in (rows["failed"][1] or "")


def test_only_roles_that_read_reports_can_ask_for_it(mailing):
    with transaction(mailing.sessions) as session, pytest.raises(UserError, match="sales"):
        set_weekly_digest(session, "rob@example.com", True, actor="test", now=at(1, 1))


def test_the_cli_shows_any_past_weeks_digest_and_refuses_a_week_not_over(app, tmp_path):
    tell_story(app.extensions["nurture"], tmp_path)
    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["report", "digest", "--week", "2026-02-19"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        "Subject: Brightpath Analytics: your week in the funnel, 2026-02-16 to 2026-02-22"
    )
    assert "Win rate: 100.0 % (week before: 0.0 %; +100.0 points)" in result.output
    html = runner.invoke(cli, ["report", "digest", "--week", "2026-02-16", "--format", "html"])
    assert "<h1" in html.output and "Your week in the funnel" in html.output
    for week, why in (("2026-02-30", "is not a date"), ("2999-01-04", "is not over yet")):
        refused = runner.invoke(cli, ["report", "digest", "--week", week])
        assert refused.exit_code == 2 and why in refused.output


def test_the_account_page_turns_the_digest_on_and_off(app):
    client = signed_in_client(app, "marketer")
    html = client.get("/account").get_data(as_text=True)
    assert "Email me the weekly digest of the reports (Mondays)" in html
    token = csrf_token(client, "/account")
    response = client.post("/account/digest", data={"weekly_digest": "y", "csrf_token": token})
    assert response.status_code == 302
    with app.extensions["nurture"].sessions() as session:
        assert session.scalar(select(User.weekly_digest).where(User.role == "marketer"))
    client.post("/account/digest", data={"csrf_token": token})
    with app.extensions["nurture"].sessions() as session:
        assert not session.scalar(select(User.weekly_digest).where(User.role == "marketer"))
    rep = signed_in_client(app, "sales")
    assert "weekly digest" not in rep.get("/account").get_data(as_text=True)


def test_a_reader_who_reads_polish_gets_the_digest_in_polish(mailing, smtp_sink):
    with transaction(mailing.sessions) as session:
        set_locale(session, "sam@example.com", "pl", actor="test", now=at(1, 1))

    send_due_digests(mailing, MONDAY_AFTER)

    by_reader = {message["To"]: message for message in smtp_sink.received}
    polish, english = by_reader["sam@example.com"], by_reader["mia@example.com"]
    assert polish["Subject"].strip().startswith("Brightpath Analytics: Twój tydzień w lejku")
    text = polish.get_body(("plain",)).get_content()
    assert "Tydzień od 16 lut 2026 do 22 lut 2026 (UTC)" in text
    assert '<html lang="pl">' in polish.get_body(("html",)).get_content()
    assert (
        "The week from Feb 16, 2026 to Feb 22, 2026 (UTC)"
        in english.get_body(("plain",)).get_content()
    )
