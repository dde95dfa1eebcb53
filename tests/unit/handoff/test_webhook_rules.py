"""Webhook signatures and the retry decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nurture.handoff.webhooks.service import Response, decide
from nurture.handoff.webhooks.signing import signature, signature_header, verify

SECRET = "whsec-test"
BODY = b'{"id":"evt_1","type":"handoff.created"}'
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_a_signed_body_verifies_and_any_change_does_not():
    header = signature_header(SECRET, 1_780_000_000, BODY)
    assert header.startswith("t=1780000000,v1=")
    assert verify(SECRET, header, BODY, now=1_780_000_010)
    assert not verify(SECRET, header, BODY + b" ", now=1_780_000_010)
    assert not verify("other-secret", header, BODY, now=1_780_000_010)
    forged = header.replace("t=1780000000", "t=1780000500")
    assert not verify(SECRET, forged, BODY, now=1_780_000_500)


def test_an_old_signature_is_refused_as_a_replay():
    header = signature_header(SECRET, 1_780_000_000, BODY)
    assert not verify(SECRET, header, BODY, now=1_780_000_000 + 301)
    assert not verify(SECRET, None, BODY, now=1_780_000_000)
    assert not verify(SECRET, "garbage", BODY, now=1_780_000_000)


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), b"1780000000." + BODY, hashlib.sha256).hexdigest()
    assert signature(SECRET, 1_780_000_000, BODY) == expected


def answer(code: int | None, retry_after: timedelta | None = None) -> Response:
    return Response(code, "", 5, retry_after)


def test_a_2xx_is_delivered():
    assert decide(answer(204), 1, 8, NOW).status == "delivered"


@pytest.mark.parametrize("code", [None, 500, 502, 503, 429, 408])
def test_network_errors_5xx_and_429_are_retried_with_backoff(code):
    first = decide(answer(code), 1, 8, NOW)
    second = decide(answer(code), 2, 8, NOW)
    assert first.status == second.status == "pending"
    assert timedelta(seconds=40) <= first.next_attempt_at - NOW <= timedelta(seconds=80)
    assert second.next_attempt_at - NOW > first.next_attempt_at - NOW


@pytest.mark.parametrize("code", [400, 401, 403, 404, 410, 301])
def test_other_answers_are_a_permanent_failure(code):
    assert decide(answer(code), 1, 8, NOW) == decide(answer(code), 1, 8, NOW)
    assert decide(answer(code), 1, 8, NOW).status == "failed"


def test_the_last_attempt_fails_for_good():
    assert decide(answer(503), 8, 8, NOW).status == "failed"


def test_retry_after_postpones_the_next_attempt_within_limits():
    later = decide(answer(429, timedelta(minutes=30)), 1, 8, NOW)
    assert later.next_attempt_at == NOW + timedelta(minutes=30)
    capped = decide(answer(503, timedelta(days=3)), 1, 8, NOW)
    assert capped.next_attempt_at == NOW + timedelta(hours=6)
