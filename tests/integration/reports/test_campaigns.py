"""The campaign figures: exact numbers from a campaign the engine ran (sends, a person's
open and click, a machine's open, an unsubscribe and the exit it caused)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from nurture.campaigns.services import sync_campaign_files
from nurture.campaigns.sync import campaign_spec_for_version
from nurture.models import Campaign, Event, Message
from nurture.platform.db import transaction, utcnow
from nurture.reports import campaign_flow
from nurture.reports import campaigns as report
from nurture.sending.bounces.apply import ingest_file
from nurture.tracking import refresh_engagement
from tests.integration.bounce_support import arf, dsn
from tests.integration.campaign_figures_support import build_story
from tests.integration.engine_support import FIXTURES


def _campaign(session):
    return session.scalar(select(Campaign).where(Campaign.key == "test-drip"))


def test_the_list_counts_the_last_7_days_with_people_only(app):
    build_story(app)
    runtime = app.extensions["nurture"]
    with transaction(runtime.sessions) as session:
        (row,) = report.campaign_summaries(session, utcnow())
    assert (row.key, row.status, row.version, row.has_errors) == ("test-drip", "active", 1, False)
    # ada and cat are still in it; bob exited.
    assert row.active_enrolments == 2
    week = row.week
    # 4 sent (ada, bob, cat ×2); ada opened (twice: one email) and clicked; bob's open was a
    # machine's; bob unsubscribed.
    assert (week.sent, week.opened, week.clicked, week.unsubscribed, week.bounced) == (
        4,
        1,
        1,
        1,
        0,
    )
    assert week.open_rate == 0.25 and week.click_rate == 0.25 and week.click_to_open == 1.0


def test_a_bounce_leaves_delivered_emails_out_of_the_rates(app):
    story = build_story(app)
    runtime = app.extensions["nurture"]
    with transaction(runtime.sessions) as session:
        message = session.scalar(select(Message).where(Message.lead_id == story.cat))
        token, address = message.token, message.to_address
    # The bounce and a complaint arrive as mailbox providers send them.
    raw = dsn(address, "5.1.1", "550 5.1.1 no such user", token=token)
    assert ingest_file(runtime.sessions, raw, label="b.eml", soft_bounce_limit=3).state == (
        "applied"
    )
    with transaction(runtime.sessions) as session:
        ada = session.scalar(select(Message).where(Message.lead_id == story.ada))
        ada_token = ada.token
    complaint = ingest_file(
        runtime.sessions, arf(token=ada_token), label="c.eml", soft_bounce_limit=3
    )
    assert complaint.state == "applied"
    with transaction(runtime.sessions) as session:
        (row,) = report.campaign_summaries(session, utcnow())
    assert (row.week.sent, row.week.bounced, row.week.delivered, row.week.complained) == (
        4,
        1,
        3,
        1,
    )
    assert row.week.open_rate == 1 / 3


def test_old_emails_fall_out_of_the_week(app):
    build_story(app, now=utcnow() - timedelta(days=8))
    runtime = app.extensions["nurture"]
    with transaction(runtime.sessions) as session:
        (row,) = report.campaign_summaries(session, utcnow())
        assert row.week.sent == 0 and row.week.open_rate is None
        assert report.campaign_summaries(session, utcnow(), status="paused") == []


def test_step_figures_say_who_entered_was_sent_opened_clicked_and_left(app):
    build_story(app)
    runtime = app.extensions["nurture"]
    now = utcnow()
    with transaction(runtime.sessions) as session:
        campaign = _campaign(session)
        figures = report.step_figures(session, campaign.id, now - timedelta(days=30), now)
        totals = report.campaign_totals(session, campaign.id, now - timedelta(days=30), now)
        spec = campaign_spec_for_version(session, campaign.active_version_id)
    welcome = figures["cold/welcome"]
    assert (welcome.entered, welcome.email.sent, welcome.email.opened, welcome.email.clicked) == (
        2,
        2,
        1,
        1,
    )
    assert welcome.email.unsubscribed == 1 and welcome.now_here == 0
    pause = figures["cold/pause"]
    # ada waits there now; bob left there when the engine found him unsubscribed.
    assert (pause.entered, pause.now_here) == (2, 1)
    assert [(e.status, e.reason, e.count) for e in pause.exits] == [("exited", "unsubscribed", 1)]
    assert figures["warm/welcome"].email.sent == 1 and figures["warm/case"].email.sent == 1
    assert figures["warm/case"].email.opened == 0
    assert (totals.active, totals.entered, totals.completed, totals.exited) == (2, 3, 0, 1)
    assert totals.email.sent == 4

    flow = campaign_flow.flow(spec, figures)
    cold = flow.tracks[0]
    assert [s.kind for s in cold.steps] == ["send", "wait", "branch", "send", "exit", "send"]
    assert cold.steps[0].template == "welcome-guide" and cold.steps[1].duration == timedelta(days=3)
    assert cold.steps[2].condition == "opened welcome" and cold.steps[2].then == "report"
    assert cold.steps[1].figures.now_here == 1
    assert flow.elsewhere == ()


def test_enrolments_page_newest_first_with_filters_and_keyset(app):
    story = build_story(app)
    runtime = app.extensions["nurture"]
    with transaction(runtime.sessions) as session:
        campaign = _campaign(session)
        everything = report.enrolments_page(session, campaign.id, report.EnrolmentFilter())
        assert {r.email for r in everything.rows} == {
            "ada@acme.example",
            "bob@acme.example",
            "cat@acme.example",
        }
        assert everything.next_key is None
        first = report.enrolments_page(session, campaign.id, report.EnrolmentFilter(), limit=2)
        assert len(first.rows) == 2 and first.next_key == (
            first.rows[1].enrolled_at,
            first.rows[1].id,
        )
        rest = report.enrolments_page(
            session, campaign.id, report.EnrolmentFilter(), after=first.next_key, limit=2
        )
        assert [r.id for r in first.rows + rest.rows] == [r.id for r in everything.rows]
        assert rest.next_key is None
        exited = report.enrolments_page(
            session, campaign.id, report.EnrolmentFilter(status="exited")
        )
        (bob,) = exited.rows
        assert (bob.lead_id, bob.step, bob.exit_reason) == (story.bob, "pause", "unsubscribed")
        warm = report.enrolments_page(session, campaign.id, report.EnrolmentFilter(track="warm"))
        assert [r.lead_id for r in warm.rows] == [story.cat]
        ada = report.enrolments_page(
            session, campaign.id, report.EnrolmentFilter(lead_id=story.ada, step="pause")
        )
        assert [r.status for r in ada.rows] == ["active"] and ada.rows[0].next_due_at is not None


def test_versions_and_their_diff(app, tmp_path):
    build_story(app)
    runtime = app.extensions["nurture"]
    text = (FIXTURES / "drip.yaml").read_text()
    edited = text.replace(
        "      - id: pause\n        wait: 3d\n", "      - id: pause\n        wait: 4d\n"
    )
    edited = edited.replace("      - id: done-mistakes\n        exit: completed\n", "")
    (tmp_path / "drip.yaml").write_text(edited)
    assert sync_campaign_files(runtime, now=utcnow(), path=tmp_path / "drip.yaml").ok
    with transaction(runtime.sessions) as session:
        campaign = _campaign(session)
        rows = campaign_flow.versions(session, campaign)
        assert [(r.number, r.active, r.live_enrolments) for r in rows] == [
            (2, True, 0),
            (1, False, 2),
        ]
        diff = campaign_flow.version_diff(session, campaign, 1, 2)
        assert campaign_flow.version_diff(session, campaign, 1, 7) is None
    assert diff.removed.removed_steps == (("cold", "done-mistakes", "report"),)
    assert [(c.track, c.step) for c in diff.changed_steps] == [("cold", "pause")]
    assert diff.added_steps == () and diff.added_tracks == ()
    removed = [line.text for line in diff.lines if line.kind == "removed"]
    added = [line.text for line in diff.lines if line.kind == "added"]
    assert removed == ["        wait: 3d", "      - id: done-mistakes", "        exit: completed"]
    assert added == ["        wait: 4d"]


def test_the_campaign_pages_emails_read_once_give_the_same_steps_and_totals(app):
    story = build_story(app)
    runtime = app.extensions["nurture"]
    now = utcnow()
    start = now - timedelta(days=30)
    with transaction(runtime.sessions) as session:
        # An email of no step (sent by hand in the campaign's name) counts in the totals.
        message = session.scalar(select(Message).where(Message.lead_id == story.cat))
        message.step_key = None
        session.add(
            Event(
                lead_id=story.cat, type="email.opened", message_id=message.id,
                campaign_id=message.campaign_id,
            )
        )  # fmt: skip
        # As the hit processor does for every open it records.
        refresh_engagement(session, [message.id])
    with transaction(runtime.sessions) as session:
        campaign = _campaign(session)
        emails = report.campaign_email_figures(session, campaign.id, start, now)
        assert None in emails
        assert report.step_figures(
            session, campaign.id, start, now, emails=emails
        ) == report.step_figures(session, campaign.id, start, now)
        shared = report.campaign_totals(session, campaign.id, start, now, emails=emails)
        alone = report.campaign_totals(session, campaign.id, start, now)
    assert shared == alone
    assert (alone.email.sent, alone.email.opened) == (4, 2)
