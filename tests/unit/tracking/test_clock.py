"""The simulated clock runs on from the time a tick set it, at the wall clock's pace."""

from datetime import UTC, datetime, timedelta

from nurture.tracking.clock import simulated_now
from nurture.tracking.event_intake import MAX_CLOCK_SKEW, validate_event

SET_AT = datetime(2026, 12, 6, 23, 0, tzinfo=UTC)  # the wall clock when the tick ran
TICK = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)  # the tick's --now


def test_the_simulated_now_is_the_tick_time_plus_the_wall_time_since():
    assert simulated_now(TICK, SET_AT, SET_AT) == TICK
    assert simulated_now(TICK, SET_AT, SET_AT + timedelta(minutes=7)) == TICK + timedelta(minutes=7)


def test_two_hits_keep_their_order_and_their_distance():
    first = simulated_now(TICK, SET_AT, SET_AT + timedelta(seconds=3))
    second = simulated_now(TICK, SET_AT, SET_AT + timedelta(seconds=45))
    assert second - first == timedelta(seconds=42)


def test_a_wall_clock_stepped_back_does_not_take_the_simulated_one_before_the_tick():
    assert simulated_now(TICK, SET_AT, SET_AT - timedelta(minutes=2)) == TICK


def test_a_clock_set_in_the_past_runs_on_from_there():
    past = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert simulated_now(past, SET_AT, SET_AT + timedelta(hours=1)) == past + timedelta(hours=1)


def _event(occurred_at: datetime) -> dict[str, str]:
    return {
        "type": "demo.requested",
        "email": "ada@acme.example",
        "occurred_at": occurred_at.isoformat(),
    }


def test_an_event_up_to_the_simulated_now_is_taken_and_a_later_one_refused_with_the_clock():
    event, errors = validate_event(_event(TICK), TICK, simulated=True)
    assert errors == {} and event is not None and event.occurred_at == TICK

    event, errors = validate_event(
        _event(TICK + MAX_CLOCK_SKEW + timedelta(seconds=1)), TICK, simulated=True
    )
    assert event is None
    assert errors["occurred_at"] == (
        "is in the future: the instance's simulated time is 2027-03-01T15:00:00Z "
        "(nurture tick --now moves it)"
    )


def test_off_a_future_event_is_refused_as_before():
    event, errors = validate_event(_event(TICK + timedelta(hours=1)), TICK)
    assert event is None and errors == {"occurred_at": "is in the future"}
