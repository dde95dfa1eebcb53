"""The sales pages' queries (``nurture.reports.sales``) on handoffs made by the engine's own
use cases, with exact figures."""

from __future__ import annotations

from datetime import timedelta

import pytest

from nurture.handoff import accept, convert, reassign, reject
from nurture.handoff.reps import find_rep
from nurture.handoff.sla import run_due
from nurture.platform.db import transaction
from nurture.reports import sales, sales_team
from tests.integration.engine_support import T0
from tests.integration.sales_support import ANN, BEN, clock, hand_off_to, sync_sales_team

NOW = T0 + timedelta(hours=10)


@pytest.fixture
def team(runtime, tmp_path):  # type: ignore[no-untyped-def]
    sync_sales_team(runtime, tmp_path, T0 - timedelta(days=1))


def test_keys_round_trip_and_bad_ones_start_at_the_first_page():
    key = sales.encode_after(T0, 42)
    assert sales.decode_after(key) == (T0, 42)
    for bad in (None, "", "x", "2026,1", f"{key[:-2]},-1", "20261201T150000000000,", "9" * 80):
        assert sales.decode_after(bad) is None, bad


def test_the_inbox_splits_a_reps_handoffs_into_waiting_open_and_closed(runtime, team):
    ids = [
        hand_off_to(runtime, ANN, f"p{n}@co{n}.example", T0 + timedelta(minutes=n))
        for n in range(6)
    ]
    bens = hand_off_to(runtime, BEN, "bert@berlin.example", T0)
    with transaction(runtime.sessions) as session:
        ann, ben = find_rep(session, ANN), find_rep(session, BEN)
        assert ann is not None and ben is not None
        for handoff_id in ids[2:5]:
            accept(session, handoff_id, rep=ann, now=T0 + timedelta(minutes=30))
        convert(session, ids[3], outcome="opportunity", rep=ann, now=T0 + timedelta(hours=1))
        convert(session, ids[4], outcome="won", value="10", rep=ann, now=T0 + timedelta(hours=1))
        reject(session, ids[5], reason="no-budget", rep=ann, now=T0 + timedelta(minutes=20))
        reassign(session, ids[1], to=ben, reason="", actor="t", now=T0 + timedelta(minutes=10))
        ann_id = ann.id

    with runtime.sessions() as session:
        waiting = sales.inbox(session, ann_id, "waiting")
        opened = sales.inbox(session, ann_id, "open")
        closed = sales.inbox(session, ann_id, "closed")
        counts = sales.inbox_counts(session, ann_id, T0 + timedelta(minutes=30))
        late = sales.inbox_counts(session, ann_id, T0 + timedelta(hours=2))

    # Waiting: oldest first; open: accepted or still progressing, newest first.
    assert [row.id for row in waiting.rows] == [ids[0]]
    assert [row.id for row in opened.rows] == [ids[3], ids[2]]
    assert [row.id for row in closed.rows] == [ids[5], ids[4], ids[1]]
    assert bens not in {row.id for row in waiting.rows + opened.rows + closed.rows}
    assert (counts.waiting, counts.open, counts.closed, counts.overdue) == (1, 2, 3, 0)
    # One business hour in Ann's all-day hours: two hours later the waiting one is overdue.
    assert late.overdue == 1
    row = waiting.rows[0]
    assert (row.lead_name, row.company, row.owner.email if row.owner else None) == (
        "P0 Tester",
        "co0.example",
        ANN,
    )
    assert row.sla is not None and row.sla.due_at == T0 + timedelta(hours=1)
    assert closed.rows[0].reject_reason == "no-budget" and closed.rows[1].deal_value == 10


def test_lists_page_by_keyset_without_gaps_or_repeats(runtime, team):
    ids = [
        hand_off_to(runtime, ANN, f"p{n}@co{n}.example", T0 + timedelta(minutes=n % 3))
        for n in range(7)
    ]
    with runtime.sessions() as session:
        rep_id = find_rep(session, ANN).id  # type: ignore[union-attr]
        seen: list[int] = []
        after = None
        pages = 0
        while True:
            listing = sales.inbox(session, rep_id, "waiting", after=after, limit=3)
            seen += [row.id for row in listing.rows]
            pages += 1
            if listing.next_after is None:
                break
            after = sales.decode_after(listing.next_after)
        opened: list[int] = []
        after = None
        while True:
            page = sales_team.open_handoffs(session, now=NOW, after=after, limit=2)
            opened += [row.id for row in page.rows]
            if page.next_after is None:
                break
            after = sales.decode_after(page.next_after)
    expected = sorted(ids, key=lambda i: ((ids.index(i)) % 3, i))
    assert seen == expected and pages == 3
    assert opened == expected


def test_open_handoffs_filter_by_owner_and_sla_state(runtime, team):
    overdue = hand_off_to(runtime, ANN, "a@one.example", NOW - timedelta(hours=2))
    running = hand_off_to(runtime, BEN, "b@zwei.example", NOW - timedelta(minutes=10))
    met = hand_off_to(runtime, ANN, "c@three.example", NOW - timedelta(hours=3))
    with transaction(runtime.sessions) as session:
        accept(session, met, rep=find_rep(session, ANN), now=NOW - timedelta(hours=2, minutes=50))
        ben_id = find_rep(session, BEN).id  # type: ignore[union-attr]

    with runtime.sessions() as session:

        def ids(**filters):  # type: ignore[no-untyped-def]
            return [row.id for row in sales_team.open_handoffs(session, now=NOW, **filters).rows]

        assert ids() == [met, overdue, running]
        assert ids(sla="overdue") == [overdue]
        assert ids(sla="running") == [running]
        assert ids(sla="met") == [met]
        assert ids(sla="breached") == []
        assert ids(rep_id=ben_id) == [running]
        assert ids(unowned=True) == []


def test_a_handoff_left_waiting_after_its_breach_is_still_past_its_deadline(runtime, team):
    # Escalated to the manager only (the default policy), a breached handoff stays with its
    # owner, unanswered; one answered late is not waiting any more.
    waiting = hand_off_to(runtime, ANN, "a@one.example", NOW - timedelta(hours=3))
    late = hand_off_to(runtime, ANN, "b@two.example", NOW - timedelta(hours=3))
    report = run_due(runtime, NOW - timedelta(hours=1))
    with transaction(runtime.sessions) as session:
        ann = find_rep(session, ANN)
        assert ann is not None
        accept(session, late, rep=ann, now=NOW - timedelta(minutes=30))
        ann_id = ann.id

    with runtime.sessions() as session:
        counts = sales.inbox_counts(session, ann_id, NOW)
        (row,) = sales.inbox(session, ann_id, "waiting").rows

        def ids(sla: str) -> list[int]:
            return [r.id for r in sales_team.open_handoffs(session, now=NOW, sla=sla).rows]

        overdue, breached = ids("overdue"), ids("breached")

    assert report.breached == 2 and report.reassigned == 0
    clocks = [clock(runtime, handoff_id) for handoff_id in (waiting, late)]
    assert [c.status if c else None for c in clocks] == ["breached", "breached"]
    assert (counts.waiting, counts.overdue) == (1, 1)
    assert row.id == waiting and row.sla is not None and row.sla.overdue(NOW)
    assert overdue == [waiting]
    assert breached == [waiting, late]


def test_rejections_and_the_sla_report_count_exactly(runtime, team):
    since = T0
    a1 = hand_off_to(runtime, ANN, "a1@one.example", T0 + timedelta(hours=1))
    a2 = hand_off_to(runtime, ANN, "a2@two.example", T0 + timedelta(hours=2))
    a3 = hand_off_to(runtime, ANN, "a3@three.example", T0 + timedelta(hours=3))
    b1 = hand_off_to(runtime, BEN, "b1@eins.example", T0 + timedelta(hours=1))
    b2 = hand_off_to(runtime, BEN, "b2@zwei.example", T0 + timedelta(hours=2))
    old = hand_off_to(runtime, BEN, "old@alt.example", T0 - timedelta(days=3))
    with transaction(runtime.sessions) as session:
        ann, ben = find_rep(session, ANN), find_rep(session, BEN)
        # Ann: 20 min (met), 90 min (breached), 40 min (met) → median 40 min.
        accept(session, a1, rep=ann, now=T0 + timedelta(hours=1, minutes=20))
        reject(
            session,
            a2,
            reason="no-budget",
            note="Frozen",
            rep=ann,
            now=T0 + timedelta(hours=3, minutes=30),
        )
        reject(session, a3, reason="no-budget", rep=ann, now=T0 + timedelta(hours=3, minutes=40))
        # Ben: one rejection in 5 min, one still running; an old one outside the period.
        reject(session, b1, reason="bad-timing", rep=ben, now=T0 + timedelta(hours=1, minutes=5))
        reject(session, old, reason="not-a-fit", rep=ben, now=T0 - timedelta(days=2))
        ben_id = ben.id  # type: ignore[union-attr]

    with runtime.sessions() as session:
        summary = sales_team.rejection_summary(session, since=since)
        report = sales_team.sla_report(session, since=since)
        listing = sales_team.rejections(session, since=since)
        only_ben = sales_team.rejections(session, since=since, rep_id=ben_id)
        no_budget = sales_team.rejections(session, since=since, reason="no-budget")

    assert (summary.accepted, summary.rejected) == (1, 3)
    assert summary.rejection_rate == 0.75
    assert [(r.reason, r.label, r.count, r.with_note) for r in summary.reasons] == [
        ("no-budget", "No budget", 2, 1),
        ("bad-timing", "Bad timing (not buying now)", 1, 0),
    ]
    assert [row.id for row in listing.rows] == [a3, a2, b1]
    assert [row.id for row in only_ben.rows] == [b1]
    assert [(row.id, row.reject_note) for row in no_budget.rows] == [(a3, None), (a2, "Frozen")]

    by_rep = {
        f.email: (f.handoffs, f.met, f.breached, f.pending, f.median_business_minutes)
        for f in report.reps
    }
    assert by_rep == {ANN: (3, 2, 1, 0, 40.0), BEN: (2, 1, 0, 1, 5.0)}
    assert [f.rep.name for f in report.reps if f.rep] == ["Ann Archer", "Ben Becker"]
    total = report.total
    assert (total.handoffs, total.met, total.breached, total.pending) == (5, 3, 1, 1)
    # Every response: 5, 20, 40, 90 minutes → the upper middle, as per rep.
    assert total.median_business_minutes == 40.0
    assert total.rate == 0.75
    assert b2  # still running: counted as pending above


def test_a_user_is_matched_to_a_rep_by_email(runtime, team):
    with runtime.sessions() as session:
        rep = sales.rep_for_user(session, "  ANN@sales.example ")
        assert rep is not None and rep.name == "Ann Archer" and rep.available
        assert sales.rep_for_user(session, "nobody@sales.example") is None
        assert sales.rep_for_user(session, "12") is None  # an id is not an address
        assert [r.email for r in sales.team_reps(session)] == [
            ANN,
            BEN,
            "carl@sales.example",
        ]
