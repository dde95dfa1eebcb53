"""Incremental scoring on plain values: adding a lead's events to its stored score state
in any number of steps gives exactly the score, caps and state of scoring the whole
history at once, over random histories and random scoring files (Hypothesis)."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nurture.scoring.model import EventFacts, ScoringModel
from nurture.scoring.parser import load_scoring_text
from nurture.scoring.rules import advance, evaluate
from nurture.scoring.state import EMPTY, ScoreState, sort_key

T0 = datetime(2026, 11, 2, 23, 0, tzinfo=UTC)
TYPES = ("page.viewed", "email.clicked", "email.opened", "demo.requested", "form.submitted")
URLS = ("/pricing", "/pricing/team", "/careers", "/blog/x", "https://docs.example.com/a")
PATTERNS = ("/pricing*", "/careers*", "*://docs.example.com/*", "/blog/*")
POINTS = st.one_of(
    st.sampled_from([1, -1, 2.5, 10, -10, 40, 0.1, 7.3, -0.7]),
    st.floats(min_value=-50, max_value=50, allow_nan=False).filter(lambda p: abs(p) > 1e-3),
)


@st.composite
def scoring_files(draw: st.DrawFn) -> ScoringModel:
    """A valid scoring file: per event type, rules with a URL condition first, then at
    most one without (the parser refuses a catch-all before a specific rule)."""
    lines = [
        "name: Random",
        f"half_life: {draw(st.sampled_from(['1h', '36h', '7d', '30d']))}",
        "bands: { warm: 20, hot: 50 }",
        "rules:",
    ]
    number = 0
    for event in draw(st.lists(st.sampled_from(TYPES), min_size=1, max_size=4, unique=True)):
        specific = draw(st.lists(st.sampled_from(PATTERNS), max_size=2, unique=True))
        conditions = [f"{{ url: {json.dumps(p)} }}" for p in specific]
        if draw(st.booleans()) or not conditions:
            conditions.append("")
        for when in conditions:
            points = draw(POINTS)
            lines += [f"  - id: r{number}", f"    event: {event}", f"    points: {points!r}"]
            number += 1
            if when:
                lines.append(f"    when: {when}")
            per_day = draw(st.none() | st.sampled_from([1, 3, 10, 12.5]))
            total = draw(st.none() | st.sampled_from([15, 30, 41.5]))
            caps = {"per_day": per_day, "total": total}
            shown = ", ".join(f"{k}: {v}" for k, v in caps.items() if v is not None)
            if shown:
                lines.append(f"    cap: {{ {shown} }}")
    load = load_scoring_text("\n".join(lines) + "\n")
    assert load.model is not None, load.problems
    return load.model


@st.composite
def histories(draw: st.DrawFn) -> list[EventFacts]:
    """Events over three weeks, several on one day or one moment, in any order."""
    count = draw(st.integers(min_value=0, max_value=60))
    offsets = st.integers(min_value=0, max_value=21 * 86400)
    events = []
    for number in range(count):
        at = T0 + timedelta(seconds=draw(offsets | st.sampled_from([0, 3600, 86400])))
        props = {"url": draw(st.sampled_from(URLS))}
        events.append(EventFacts(number + 1, draw(st.sampled_from(TYPES)), at, props))
    return draw(st.permutations(events))


def reference_awards(model: ScoringModel, events: list[EventFacts]) -> list[tuple]:
    """Caps as scoring applied them before scores were kept as a state: every event of
    the history, oldest first, with counters per (rule, day) and per rule."""
    day_used: dict[tuple[str, date], float] = defaultdict(float)
    total_used: dict[str, float] = defaultdict(float)
    found = []
    for event in sorted(events, key=lambda e: (e.occurred_at, e.id)):
        rule = model.rule_for(event)
        if rule is None:
            continue
        allowed = abs(rule.points)
        key = (rule.id, event.occurred_at.date())
        if rule.cap.per_day is not None:
            allowed = min(allowed, max(0.0, rule.cap.per_day - day_used[key]))
        if rule.cap.total is not None:
            allowed = min(allowed, max(0.0, rule.cap.total - total_used[rule.id]))
        day_used[key] += allowed
        total_used[rule.id] += allowed
        found.append((event.id, math.copysign(allowed, rule.points) if allowed else 0.0))
    return found


def stored(state: ScoreState) -> ScoreState:
    """``state`` after a trip through JSON, as the database keeps its counters."""
    data = json.loads(json.dumps(asdict(state), default=str))
    return ScoreState(
        value=data["value"],
        value_at=state.value_at,
        last_at=state.last_at,
        last_id=data["last_id"],
        max_id=data["max_id"],
        events=data["events"],
        id_sum=data["id_sum"],
        day=date.fromisoformat(data["day"]) if data["day"] else None,
        day_used=data["day_used"],
        total_used=data["total_used"],
    )


@settings(max_examples=100, deadline=None)
@given(model=scoring_files(), events=histories(), data=st.data())
def test_adding_events_step_by_step_scores_exactly_like_the_whole_history(
    model: ScoringModel, events: list[EventFacts], data: st.DataObject
):
    ordered = sorted(events, key=sort_key)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(ordered)), max_size=6)))
    now = T0 + timedelta(days=data.draw(st.integers(21, 90)))
    whole = evaluate(model, events, now)

    state = EMPTY
    awards = []
    for start, end in zip([0, *cuts], [*cuts, len(ordered)], strict=True):
        # Each step is read at its own moment, as each click is scored when it comes.
        moment = ordered[end - 1].occurred_at if end > start else T0
        step = advance(model, state, ordered[start:end], moment)
        awards += [(award.event.id, award.points, award.capped) for award in step.awards]
        state = stored(step.state)
    last = advance(model, state, [], now)

    assert last.score == whole.score  # exactly: the same operations in the same order
    assert last.state == whole.state
    assert awards == [(a.event.id, a.points, a.capped) for a in whole.awards]
    assert [(a.event.id, a.points) for a in whole.awards] == reference_awards(model, events)
    # The explanation sums each award decayed on its own: the same number up to rounding.
    assert whole.score == pytest.approx(math.fsum(a.now for a in whole.awards), rel=1e-9, abs=1e-9)


def test_the_state_keeps_only_todays_and_the_total_counters_of_capped_rules():
    model = load_scoring_text(
        "name: Caps\nhalf_life: 7d\nbands: { warm: 20, hot: 50 }\nrules:\n"
        "  - { id: pricing, event: page.viewed, points: 10, when: { url: /pricing* },"
        " cap: { per_day: 10, total: 25 } }\n"
        "  - { id: page, event: page.viewed, points: 1 }\n"
    ).model
    assert model is not None
    views = [
        EventFacts(1, "page.viewed", T0, {"url": "/pricing"}),
        EventFacts(2, "page.viewed", T0 + timedelta(minutes=5), {"url": "/pricing"}),
        EventFacts(3, "page.viewed", T0 + timedelta(hours=2), {"url": "/blog"}),
    ]
    first = advance(model, EMPTY, views, T0 + timedelta(hours=2))
    # 23:00 and 23:05 on day one; the blog view at 01:00 is the next UTC day.
    assert first.state.day == (T0 + timedelta(hours=2)).date()
    assert dict(first.state.day_used) == {}
    assert dict(first.state.total_used) == {"pricing": 10.0}
    assert [a.points for a in first.awards] == [10.0, 0.0, 1.0]
    more = [
        EventFacts(4, "page.viewed", T0 + timedelta(hours=3), {"url": "/pricing"}),
        EventFacts(5, "page.viewed", T0 + timedelta(days=1, hours=3), {"url": "/pricing"}),
    ]
    second = advance(model, first.state, more, T0 + timedelta(days=2))
    # The total cap of 25 leaves 5 for the third day's view.
    assert [a.points for a in second.awards] == [10.0, 5.0]
    assert dict(second.state.total_used) == {"pricing": 25.0}


def test_an_event_older_than_the_state_is_refused():
    model = load_scoring_text(
        "name: M\nhalf_life: 7d\nbands: { warm: 20, hot: 50 }\nrules:\n"
        "  - { id: page, event: page.viewed, points: 1 }\n"
    ).model
    assert model is not None
    state = advance(model, EMPTY, [EventFacts(5, "page.viewed", T0)], T0).state
    with pytest.raises(ValueError, match="not newer"):
        advance(model, state, [EventFacts(6, "page.viewed", T0 - timedelta(seconds=1))], T0)
    # The same moment with a later id is newer: events are ordered by (time, id).
    later = advance(model, state, [EventFacts(6, "page.viewed", T0)], T0)
    assert later.score == 2
