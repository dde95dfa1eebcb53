"""Riding out a database outage: said once, retried with back-off, said again when over."""

from __future__ import annotations

import itertools
import logging

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from nurture.platform.outage import FIRST_DELAY, MAX_DELAY, OutageGate, is_outage


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def gone() -> OperationalError:
    return OperationalError(
        "SELECT * FROM leads WHERE email = %(email)s",
        {"email": "ada@example.com"},
        Exception('connection to server at "127.0.0.1", port 5433 failed: Connection refused'),
    )


def test_an_outage_is_said_once_and_its_end_once(caplog):
    clock, calls = Clock(), []
    gate = OutageGate(clock)

    def failing():
        calls.append(clock.now)
        raise gone()

    with caplog.at_level(logging.WARNING, logger="nurture.outage"):
        for _ in range(50):  # fifty job runs over 50 s of outage
            assert gate.run(failing) is None
            clock.now += 1
        assert gate.down
        clock.now += MAX_DELAY
        assert gate.run(lambda: "sent") == "sent"
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2
    assert "cannot be reached (connection to server" in messages[0]
    # No SQL, no parameters (they can hold a person's address), no traceback.
    assert "ada@example.com" not in messages[0] and "SELECT" not in messages[0]
    assert not any(record.exc_info for record in caplog.records)
    assert messages[1] == "the database answers again after 55 s; carrying on"
    # Back-off: probes after 1, 2, 4, 5, 5 … seconds, not fifty attempts.
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert gaps[:5] == [FIRST_DELAY, 2.0, 4.0, MAX_DELAY, MAX_DELAY]
    assert len(calls) < 15
    assert not gate.down


def test_errors_that_are_not_an_outage_go_through_untouched():
    gate = OutageGate(Clock())

    def broken():
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    with pytest.raises(IntegrityError):
        gate.run(broken)
    assert not gate.down


def test_an_outage_is_recognised_through_the_errors_that_wrap_it():
    try:
        try:
            raise gone()
        except OperationalError as error:
            raise RuntimeError("the delivery lane failed") from error
    except RuntimeError as wrapped:
        assert is_outage(wrapped)
    assert not is_outage(ValueError("bad input"))
