"""Incremental scoring on a real database: a new event is added to the lead's stored score
state without loading its history, and every way a history can change under a stored
state (an older event, a click reclassified as a scanner's, anonymous history moved onto
the lead, a new model version) falls back to a full recomputation. Whatever the path,
the stored numbers are exactly those of ``nurture scoring rescore``."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, update

from nurture.models import Event, Lead, LeadScoreState
from nurture.platform.db import transaction, utcnow
from nurture.scoring import incremental, rescore_everyone, rescore_leads, sync_scoring
from nurture.scoring.rules import evaluate
from nurture.scoring.versions import active_model
from nurture.tracking.capture import record_hit
from nurture.tracking.hit_rows import hit_row
from nurture.tracking.processing import process_pending_hits
from tests.integration.engine_support import T0, add_lead
from tests.integration.tracking_support import CHROME, LINKS, send_message

MODEL = """\
name: Incremental
half_life: 7d
bands: { warm: 20, hot: 50 }
rules:
  - id: demo
    event: demo.requested
    points: 40
    hand_raiser: true
  - id: pricing
    event: page.viewed
    when: { url: /pricing* }
    points: 10
    cap: { per_day: 10, total: 25 }
  - id: careers
    event: page.viewed
    when: { url: /careers* }
    points: -5
  - id: click
    event: email.clicked
    points: 5
    cap: { total: 15 }
  - id: page
    event: page.viewed
    points: 1
    cap: { per_day: 3 }
"""
# Read before the ``loaded`` fixture counts the reads of the code under test.
LOAD = incremental.load_event_facts
URLS = ("/pricing", "/careers/dev", "/blog/a", "/docs")
TYPES = ("page.viewed", "email.clicked", "demo.requested", "email.opened")


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "scoring.yaml"
    path.write_text(MODEL)
    return path


@pytest.fixture
def scored(runtime, model_file):
    with transaction(runtime.sessions) as session:
        assert sync_scoring(session, model_file, now=T0).ok
    return runtime


@pytest.fixture
def loaded(monkeypatch) -> Iterator[list[int]]:
    """How many events each read of a lead's events loaded, in order."""
    sizes: list[int] = []
    real = incremental.load_event_facts

    def counting(*args: Any, **kwargs: Any):
        found = real(*args, **kwargs)
        sizes.append(sum(len(events) for events in found.values()))
        return found

    monkeypatch.setattr(incremental, "load_event_facts", counting)
    yield sizes


def add_events(rt, lead_id: int | None, events: list[tuple], *, anonymous: str | None = None):
    """Insert ``(type, at, url[, machine])`` events; returns their ids."""
    rows = [
        {
            "lead_id": lead_id,
            "anonymous_id": anonymous,
            "type": kind,
            "occurred_at": at,
            "recorded_at": at,
            "is_machine": bool(rest and rest[0]),
            "machine_reasons": ["scanner"] if rest and rest[0] else [],
            "properties": {"url": url},
        }
        for kind, at, url, *rest in events
    ]
    with transaction(rt.sessions) as session:
        return list(session.scalars(insert(Event).returning(Event.id), rows))


def rescore(rt, lead_id: int, now: datetime, *, full: bool = False):
    with transaction(rt.sessions) as session:
        (change,) = rescore_leads(session, [lead_id], now, full=full)
    return change


def stored(rt, lead_id: int) -> tuple:
    """Everything a rescore writes about the score, exactly as stored."""
    with rt.sessions() as session:
        lead = session.get(Lead, lead_id)
        state = session.get(LeadScoreState, lead_id)
        assert lead is not None and state is not None
        return (
            lead.score_value,
            lead.score_as_of,
            lead.temperature,
            lead.temperature_cools_at,
            lead.hand_raised_at,
            incremental.state_of(state),
        )


def expected(rt, lead_id: int, now: datetime) -> float:
    """The score at ``now`` recomputed in memory from every event in the database."""
    with rt.sessions() as session:
        active = active_model(session)
        assert active is not None
        events = LOAD(session, [lead_id], active.model.event_types)
        return evaluate(active.model, events.get(lead_id, ()), now).score


KINDS = ("email.clicked", "page.viewed", "page.viewed")


def history(lead_count: int, start: datetime) -> list[tuple]:
    """A busy lead's past: page views, clicks and scanner hits over ``lead_count`` hours."""
    urls = itertools.cycle(URLS)
    return [
        (kind, start + timedelta(hours=i), next(urls), i % 4 == 0)
        for i, kind in enumerate(itertools.islice(itertools.cycle(KINDS), lead_count))
    ]


def test_a_new_event_is_added_to_the_stored_score_without_loading_the_history(scored, loaded):
    lead = add_lead(scored, "busy@acme.example")
    add_events(scored, lead, history(300, T0 - timedelta(days=20)))
    rescore(scored, lead, T0)
    assert loaded == [225]  # the first score reads the human history once

    now = T0 + timedelta(hours=1)
    add_events(scored, lead, [("page.viewed", now, "/pricing")])
    change = rescore(scored, lead, now)
    assert loaded[1:] == [1]  # the new view only
    assert change.score == expected(scored, lead, now)
    incremental_result = stored(scored, lead)
    rescore(scored, lead, now, full=True)
    assert stored(scored, lead) == incremental_result


def test_caps_hold_across_events_scored_one_at_a_time(scored, loaded):
    lead = add_lead(scored, "caps@acme.example")
    views = [T0, T0 + timedelta(hours=1), T0 + timedelta(days=1), T0 + timedelta(days=2)]
    views.append(T0 + timedelta(days=3))
    points = []
    for at in views:
        add_events(scored, lead, [("page.viewed", at, "/pricing/team")])
        with transaction(scored.sessions) as session:
            before = session.get(LeadScoreState, lead)
            used = dict(before.total_used) if before else {}
        rescore(scored, lead, at)
        with transaction(scored.sessions) as session:
            after = session.get(LeadScoreState, lead)
            points.append(after.total_used["pricing"] - used.get("pricing", 0.0))
    # 10 a day, 25 in all: the second view of day one and the fifth view earn nothing.
    assert points == [10.0, 0.0, 10.0, 5.0, 0.0]
    assert loaded == [1, 1, 1, 1, 1]
    assert stored(scored, lead)[0] == expected(scored, lead, views[-1])


def test_an_event_older_than_the_newest_scored_is_scored_in_its_place(scored, loaded):
    lead = add_lead(scored, "late@acme.example")
    add_events(scored, lead, [("page.viewed", T0, "/pricing"), ("page.viewed", T0, "/pricing")])
    rescore(scored, lead, T0)
    # An events-API call reports a pricing view an hour before those two: it is the one
    # that earns the day's 10 points, now decayed by an hour, and both later views are
    # capped (a fold onto the state would have capped it instead and kept a full 10).
    add_events(scored, lead, [("page.viewed", T0 - timedelta(hours=1), "/pricing")])
    change = rescore(scored, lead, T0)
    assert loaded == [2, 1, 3]  # the new event, then the whole history
    assert change.score == expected(scored, lead, T0)
    assert 9.9 < change.score < 10
    assert stored(scored, lead)[5].total_used == {"pricing": 10.0}


def test_a_click_reclassified_as_a_scanners_loses_its_points(scored, loaded):
    lead = add_lead(scored, "scanned@acme.example")
    first, _ = add_events(scored, lead, [("email.clicked", T0, "/a"), ("email.clicked", T0, "/b")])
    assert rescore(scored, lead, T0).score == 10
    with transaction(scored.sessions) as session:
        session.execute(update(Event).where(Event.id == first).values(is_machine=True))
    change = rescore(scored, lead, T0)
    assert change.score == 5 == expected(scored, lead, T0)
    assert loaded[-1] == 1  # recomputed from the one human click left


def test_anonymous_history_moved_onto_the_lead_counts(scored):
    # The visitor browsed before it was identified: its events are older (lower ids)
    # than the lead's newest scored event, and join the lead's timeline later.
    add_events(scored, None, [("page.viewed", T0, "/pricing")], anonymous="v-1")
    lead = add_lead(scored, "visitor@acme.example")
    add_events(scored, lead, [("email.clicked", T0 + timedelta(minutes=5), "/a")])
    assert rescore(scored, lead, T0 + timedelta(minutes=5)).score == 5
    with transaction(scored.sessions) as session:
        session.execute(update(Event).where(Event.anonymous_id == "v-1").values(lead_id=lead))
    change = rescore(scored, lead, T0 + timedelta(minutes=5))
    assert change.score == pytest.approx(15, abs=0.01)
    assert change.score == expected(scored, lead, T0 + timedelta(minutes=5))


def test_a_new_model_version_applies_to_the_whole_history_at_the_next_event(
    scored, model_file, loaded
):
    lead = add_lead(scored, "v2@acme.example")
    add_events(scored, lead, [("page.viewed", T0, "/docs")])
    assert rescore(scored, lead, T0).score == 1
    docs = "  - { id: docs, event: page.viewed, when: { url: /docs* }, points: 4 }\n"
    model_file.write_text(MODEL.replace("  - id: page\n", docs + "  - id: page\n"))
    with transaction(scored.sessions) as session:
        assert sync_scoring(session, model_file, now=T0).action == "created"
    add_events(scored, lead, [("page.viewed", T0, "/docs")])
    change = rescore(scored, lead, T0)
    assert change.score == 8 == expected(scored, lead, T0)
    assert loaded == [1, 2]


def test_nurture_scoring_rescore_recomputes_and_rebuilds_the_state(scored, loaded):
    lead = add_lead(scored, "rebuilt@acme.example")
    add_events(scored, lead, history(40, T0 - timedelta(days=3)))
    rescore(scored, lead, T0)
    right = stored(scored, lead)
    # A state that says something else (the counters still match the events) is trusted
    # by the next event, but not by a full rescore, which rebuilds it from the events.
    with transaction(scored.sessions) as session:
        session.execute(
            update(LeadScoreState).where(LeadScoreState.lead_id == lead).values(value=999.0)
        )
    summary = rescore_everyone(scored.sessions, T0)
    assert summary.leads == 1
    assert stored(scored, lead) == right
    assert loaded == [30, 30]


def test_a_click_through_the_tracking_processor_reads_only_the_new_event(scored, loaded):
    # Real time: the click must come after the message was sent to count as a person's.
    now = utcnow()
    sent = send_message(scored, "clicker@acme.example")
    add_events(scored, sent.lead_id, history(200, now - timedelta(days=30)))
    rescore(scored, sent.lead_id, now - timedelta(minutes=1))
    settings_ = scored.settings
    record_hit(
        scored,
        hit_row(
            kind="click",
            now=now,
            method="GET",
            user_agent=CHROME,
            ip="198.51.100.23",
            prefetch=False,
            ip_privacy=settings_.ip_privacy,
            secret=settings_.secret_key,
            token=sent.token,
            url=LINKS[0],
            link_index=1,
            link_count=len(LINKS),
        ),
    )
    assert process_pending_hits(scored, now) == 1
    assert loaded == [150, 1]
    with scored.sessions() as session:
        lead = session.get(Lead, sent.lead_id)
        assert lead is not None and lead.score_as_of == now
        score = lead.score_value
    assert score == expected(scored, sent.lead_id, now)


# ---------------------------------------------------------------- random histories

STEP = st.one_of(
    st.tuples(
        st.just("events"),
        st.lists(
            st.tuples(
                st.sampled_from(TYPES),
                st.integers(-3 * 86400, 3 * 86400),  # around the step's moment: late too
                st.sampled_from(URLS),
                st.sampled_from([False, False, True]),  # a third are scanner hits
            ),
            min_size=1,
            max_size=6,
        ),
    ),
    st.tuples(st.just("reflag"), st.integers(0, 1000)),
    st.tuples(st.just("merge"), st.integers(-86400, 0)),
)
_LEADS = itertools.count()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEP, min_size=1, max_size=8))
def test_scores_kept_incrementally_equal_a_full_rescore_over_random_histories(scored, steps):
    lead = add_lead(scored, f"random-{next(_LEADS)}@acme.example")
    now = T0
    for kind, arg in steps:
        now += timedelta(hours=7)
        if kind == "events":
            add_events(
                scored,
                lead,
                [(t, now + timedelta(seconds=s), u, m) for t, s, u, m in arg],
            )
        elif kind == "reflag":
            with transaction(scored.sessions) as session:
                ids = list(
                    session.scalars(
                        select(Event.id).where(Event.lead_id == lead, Event.is_machine.is_(False))
                    )
                )
                if ids:
                    session.execute(
                        update(Event).where(Event.id == ids[arg % len(ids)]).values(is_machine=True)
                    )
        else:
            visitor = f"v-{lead}-{now.timestamp()}"
            at = now + timedelta(seconds=arg)
            add_events(scored, None, [("page.viewed", at, "/pricing")], anonymous=visitor)
            with transaction(scored.sessions) as session:
                session.execute(
                    update(Event).where(Event.anonymous_id == visitor).values(lead_id=lead)
                )
        change = rescore(scored, lead, now)
        assert change.score == expected(scored, lead, now)
    kept = stored(scored, lead)
    rescore(scored, lead, now, full=True)
    assert stored(scored, lead) == kept
