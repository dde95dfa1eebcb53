"""A batch streamed to a PIPELINING server: one write and one round trip per message
(RFC 2920), with every refusal and drop still reported per message."""

from __future__ import annotations

import smtplib

import pytest

from nurture.sending.delivery import Outgoing
from nurture.sending.ratelimit import TokenBucket
from nurture.sending.smtp import SmtpTransport
from tests.integration.sending.test_smtp import batch, outgoing, url_of


@pytest.fixture
def writes(monkeypatch) -> list[bytes | str]:  # type: ignore[no-untyped-def]
    """Every write the client makes to the server, in order."""
    seen: list[bytes | str] = []
    real_send = smtplib.SMTP.send

    def recording_send(self, data):  # type: ignore[no-untyped-def]
        seen.append(data)
        return real_send(self, data)

    monkeypatch.setattr(smtplib.SMTP, "send", recording_send)
    return seen


def _message_writes(writes: list[bytes | str]) -> list[bytes]:
    as_bytes = [w if isinstance(w, bytes) else w.encode() for w in writes]
    start = next(i for i, w in enumerate(as_bytes) if w.startswith(b"MAIL"))
    return as_bytes[start:]


def test_each_message_goes_with_the_next_ones_commands_in_one_write(smtp_server, writes):
    server = smtp_server(pipelining=True)
    with SmtpTransport(url_of(server)) as transport:
        results = transport.send_many(batch(4))
    assert [r.status for r in results] == ["sent"] * 4
    assert [m.rcpt_tos[0] for m in server.received] == [
        f"lead{n}@customer.example" for n in (1, 2, 3, 4)
    ]
    sent = _message_writes(writes)[:-1]  # the last write is QUIT
    # MAIL/RCPT/DATA of the first; then content k + commands k+1 three times; then the
    # fourth's content alone: 5 writes for 4 messages instead of 8.
    assert len(sent) == 5
    assert sent[0].endswith(b"RCPT TO:<lead1@customer.example>\r\nDATA\r\n")
    for k in (1, 2, 3):
        content, _, commands = sent[k].partition(b"\r\n.\r\nMAIL FROM:")
        assert f"Subject: Message {k}".encode() in content
        assert commands.endswith(f"RCPT TO:<lead{k + 1}@customer.example>\r\nDATA\r\n".encode())
    assert sent[4].endswith(b"\r\n.\r\n") and b"Subject: Message 4" in sent[4]
    assert server.connections == 1


def test_a_refused_message_in_the_stream_does_not_cancel_the_next_one(smtp_server):
    server = smtp_server(pipelining=True)
    server.fail_data.append("554 5.7.1 Message rejected as spam")
    with SmtpTransport(url_of(server)) as transport:
        results = transport.send_many(batch(3))
    assert [(r.status, r.code) for r in results] == [
        ("permanent", 554),
        ("sent", 250),
        ("sent", 250),
    ]
    assert results[0].reply == "message refused: 5.7.1 Message rejected as spam"
    # No RSET: the second message's commands were already on the wire, and a refused end
    # of data ends the transaction anyway.
    assert server.rsets == 0
    assert [m.rcpt_tos[0] for m in server.received] == [
        "lead2@customer.example",
        "lead3@customer.example",
    ]


def test_a_refused_recipient_behind_a_message_in_flight(smtp_server):
    server = smtp_server(pipelining=True)
    accept = server.handle_RCPT

    async def refuse_lead2(smtp, session, envelope, address, options):  # type: ignore[no-untyped-def]
        if address == "lead2@customer.example":
            return "550 5.1.1 No such user"
        return await accept(smtp, session, envelope, address, options)

    server.handle_RCPT = refuse_lead2
    with SmtpTransport(url_of(server)) as transport:
        results = transport.send_many(batch(3))
    assert [(r.status, r.code) for r in results] == [
        ("sent", 250),
        ("permanent", 550),
        ("sent", 250),
    ]
    assert [m.rcpt_tos[0] for m in server.received] == [
        "lead1@customer.example",
        "lead3@customer.example",
    ]


def test_a_421_at_the_end_of_data_retries_it_and_the_one_behind_it(smtp_server):
    server = smtp_server(pipelining=True)
    server.fail_data += ["250 OK", "421 4.7.0 Too many messages on this connection"]
    with SmtpTransport(url_of(server)) as transport:
        results = transport.send_many(batch(4))
    assert [r.status for r in results] == ["sent"] * 4
    # The first "250 OK" stood in for the server queueing message 1, so three arrive.
    assert [m.rcpt_tos[0] for m in server.received] == [
        "lead2@customer.example",
        "lead3@customer.example",
        "lead4@customer.example",
    ]
    assert server.connections == 2


def test_a_message_that_cannot_be_sent_leaves_the_stream_going(smtp_server):
    server = smtp_server(pipelining=True)
    bad = outgoing(2)
    items = [
        outgoing(1),
        Outgoing(2, bad.envelope_from, "bad\r\nRCPT TO:<x@y>", bad.data),
        outgoing(3),
    ]
    with SmtpTransport(url_of(server)) as transport:
        results = transport.send_many(items)
    assert [r.status for r in results] == ["sent", "permanent", "sent"]
    assert "invalid address" in results[1].reply
    assert [m.rcpt_tos[0] for m in server.received] == [
        "lead1@customer.example",
        "lead3@customer.example",
    ]


def test_the_rate_limit_counts_each_streamed_message_once(smtp_server):
    server = smtp_server(pipelining=True)
    bucket = TokenBucket(1000)
    taken: list[int] = []
    real_acquire = bucket.acquire

    def counting_acquire() -> None:
        taken.append(1)
        real_acquire()

    bucket.acquire = counting_acquire  # type: ignore[method-assign]
    with SmtpTransport(url_of(server), rate_limiter=bucket) as transport:
        results = transport.send_many(batch(5))
    assert [r.status for r in results] == ["sent"] * 5
    assert len(taken) == 5
