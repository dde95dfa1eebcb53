"""The token bucket that paces outgoing mail, on a fake clock."""

from __future__ import annotations

import threading

import pytest

from nurture.sending.ratelimit import RateLimiter, TokenBucket


class FakeClock:
    """A clock that only moves when someone sleeps (or the test advances it)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 9))
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


def bucket(rate: float, burst: float = 1.0) -> tuple[TokenBucket, FakeClock]:
    clock = FakeClock()
    return TokenBucket(rate, burst, clock=clock, sleep=clock.sleep), clock


def test_a_full_bucket_lets_a_burst_through_without_waiting():
    limiter, clock = bucket(rate=10, burst=5)
    for _ in range(5):
        limiter.acquire()
    assert clock.sleeps == []


def test_after_the_burst_each_message_waits_one_interval():
    limiter, clock = bucket(rate=10, burst=2)
    for _ in range(5):
        limiter.acquire()
    assert clock.sleeps == [0.1, 0.1, 0.1]


def test_the_long_run_rate_is_the_configured_rate():
    limiter, clock = bucket(rate=14, burst=1)
    start = clock.now
    for _ in range(141):
        limiter.acquire()
    # 140 intervals after the first (free) message: exactly ten seconds at 14/s.
    assert clock.now - start == pytest.approx(10.0)


def test_idle_time_refills_the_bucket_but_never_beyond_the_burst():
    limiter, clock = bucket(rate=10, burst=3)
    for _ in range(3):
        limiter.acquire()
    clock.advance(60)  # a long pause earns 600 tokens, but the bucket holds 3
    for _ in range(4):
        limiter.acquire()
    assert clock.sleeps == [0.1]


def test_partial_refill_shortens_the_wait():
    limiter, clock = bucket(rate=4, burst=1)
    limiter.acquire()
    clock.advance(0.2)  # 0.8 of a token has accrued
    limiter.acquire()
    assert clock.sleeps == [pytest.approx(0.05)]


def test_acquiring_several_tokens_at_once_waits_for_all_of_them():
    limiter, clock = bucket(rate=10, burst=2)
    limiter.acquire(5)  # two in the bucket, three to wait for
    assert clock.sleeps == [pytest.approx(0.3)]


def test_concurrent_callers_queue_behind_each_others_reservations():
    # The clock stands still and sleeping is only recorded, so every caller's wait reflects
    # exactly the tokens reserved before it: 0, 1, 2 … intervals, each exactly once.
    clock = FakeClock()
    sleeps: list[float] = []
    lock = threading.Lock()

    def record(seconds: float) -> None:
        with lock:
            sleeps.append(round(seconds, 9))

    limiter = TokenBucket(rate=100, burst=1, clock=clock, sleep=record)
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        for _ in range(25):
            limiter.acquire()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(sleeps) == [round(n / 100, 9) for n in range(1, 200)]


def test_invalid_settings_are_refused():
    with pytest.raises(ValueError):
        TokenBucket(0)
    with pytest.raises(ValueError):
        TokenBucket(10, burst=0.5)
    with pytest.raises(ValueError):
        TokenBucket(10).acquire(0)


def test_the_bucket_satisfies_the_limiter_protocol_a_shared_limiter_would_implement():
    assert isinstance(TokenBucket(5), RateLimiter)
    assert repr(TokenBucket(5, 2)) == "TokenBucket(rate=5, burst=2)"
