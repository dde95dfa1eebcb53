"""SMTP delivery against a real SMTP server (aiosmtpd in a thread, on 127.0.0.1)."""

from __future__ import annotations

import logging
import random
import smtplib
import socket
import threading
import time
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import quote

import pytest

from nurture.platform.smtp_url import SmtpConfig, parse_smtp_url, redact_url
from nurture.sending.delivery import (
    DeliveryResult,
    Outgoing,
    Transport,
    envelope_address,
    retry_delay,
)
from nurture.sending.outbox import OutboxTransport
from nurture.sending.ratelimit import TokenBucket
from nurture.sending.smtp import SmtpPool, SmtpTransport
from nurture.sending.transports import make_transport

SENDER = "hello@brightpath.example"
PASSWORD = "s3cr3t p@ss/word:%"  # needs URL-encoding: space, @, /, :, %


def make_message(to: str, subject: str = "Hello", body: str = "Hi there.") -> bytes:
    message = EmailMessage()
    message["From"] = f"Brightpath <{SENDER}>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message.as_bytes(policy=policy.SMTP)


def outgoing(n: int, to: str | None = None) -> Outgoing:
    to = to or f"lead{n}@customer.example"
    return Outgoing(n, SENDER, to, make_message(to, f"Message {n}"), f"Message {n}")


def batch(count: int) -> list[Outgoing]:
    return [outgoing(n) for n in range(1, count + 1)]


def url_of(server, **options: str) -> str:  # type: ignore[no-untyped-def]
    query = "&".join(f"{k}={v}" for k, v in options.items())
    return f"smtp://{server.host}:{server.port}" + (f"?{query}" if query else "")


def auth_url(server, user: str = "mailer", password: str = PASSWORD, **options: str) -> str:  # type: ignore[no-untyped-def]
    query = "&".join(f"{k}={v}" for k, v in options.items())
    return (
        f"smtp://{quote(user, safe='')}:{quote(password, safe='')}@{server.host}:{server.port}"
        + (f"?{query}" if query else "")
    )


# ---------------------------------------------------------------- URL parsing


def test_smtp_url_defaults_to_port_25_with_opportunistic_starttls():
    config = parse_smtp_url("smtp://mail.example.com")
    assert config == SmtpConfig(host="mail.example.com", port=25, tls="auto")


def test_smtps_url_defaults_to_port_465_with_implicit_tls():
    config = parse_smtp_url("smtps://mail.example.com")
    assert (config.port, config.tls) == (465, "implicit")


def test_smtp_url_options_and_url_encoded_credentials_are_read():
    config = parse_smtp_url(
        f"smtp://us%40er:{quote(PASSWORD, safe='')}@[::1]:2525"
        "?tls=required&verify=off&timeout=2.5&helo=out.example&cafile=/etc/ca.pem"
    )
    assert config == SmtpConfig(
        host="::1",
        port=2525,
        tls="required",
        username="us@er",
        password=PASSWORD,
        verify=False,
        cafile="/etc/ca.pem",
        timeout=2.5,
        helo="out.example",
    )
    assert config.address == "[::1]:2525"


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("http://mail.example.com", "scheme must be smtp://"),
        ("smtp://", "no host"),
        ("smtp://user:pw@mail.example.com:port", "cannot read the host and port"),
        ("smtp://mail.example.com:99999", "cannot read the host and port"),
        ("smtp://mail.example.com/inbox", "unexpected path"),
        ("smtp://mail.example.com?tls=sometimes", "tls must be auto, required or off"),
        ("smtps://mail.example.com?tls=off", "smtps:// always uses TLS"),
        ("smtp://mail.example.com?verify=maybe", "verify must be on or off"),
        ("smtp://mail.example.com?timeout=0", "timeout must be a positive number"),
        ("smtp://mail.example.com?timeout=soon", "timeout must be a positive number"),
        ("smtp://mail.example.com?retries=3", "unknown option 'retries'"),
        ("smtp://user@mail.example.com", "user name without a password"),
    ],
)
def test_bad_smtp_urls_are_refused_with_a_reason(url, complaint):
    with pytest.raises(ValueError, match="bad SMTP URL") as raised:
        parse_smtp_url(url)
    assert complaint in str(raised.value)


def test_the_password_never_appears_in_reprs_or_url_errors():
    url = f"smtp://mailer:{quote(PASSWORD, safe='')}@mail.example.com:587"
    config = parse_smtp_url(url)
    transport = SmtpTransport(config)
    for text in (repr(config), str(config), repr(transport), config.redacted_url, redact_url(url)):
        assert PASSWORD not in text
        assert quote(PASSWORD, safe="") not in text
    assert config.redacted_url == "smtp://mailer:***@mail.example.com:587"

    with pytest.raises(ValueError) as raised:
        parse_smtp_url("smtp://mailer:hunter2@mail.example.com:port")
    assert "hunter2" not in str(raised.value)
    assert "mailer:***@" in str(raised.value)


# ---------------------------------------------------------------- delivery


@pytest.fixture(params=[False, True], ids=["lockstep", "pipelined"])
def pipelining(request) -> bool:  # type: ignore[no-untyped-def]
    """Run a test against a server without and with PIPELINING (RFC 2920)."""
    return request.param


def test_a_batch_is_delivered_over_one_reused_connection(smtp_server, pipelining):
    server = smtp_server(pipelining=pipelining)
    items = batch(5)
    with SmtpTransport(url_of(server)) as transport:
        first = transport.send_many(items)
        second = transport.send_many(batch(2))

    assert [r.status for r in first + second] == ["sent"] * 7
    assert first[0].code == 250
    assert first[0].reply == "2.0.0 Ok: queued as Q1 for lead1@customer.example"
    assert len(server.received) == 7
    assert server.connections == 1
    assert transport.connections_opened == 1
    got = server.received[0]
    assert (got.mail_from, got.rcpt_tos) == (SENDER, ["lead1@customer.example"])
    assert got.data == items[0].data


def test_the_shared_sink_receives_the_message_as_sent(smtp_sink):
    item = outgoing(1, to="ada@customer.example")
    with SmtpTransport(smtp_sink.url) as transport:
        result = transport.send(item)
    assert result.ok and result.code == 250
    assert smtp_sink.envelopes == [(SENDER, ["ada@customer.example"])]
    assert smtp_sink.received[0]["Subject"] == "Message 1"


def test_a_4xx_reply_is_temporary_and_the_next_message_goes_through_on_the_same_connection(
    smtp_sink, smtp_server
):
    smtp_sink.fail_next.append("451 4.3.0 Try again later")
    with SmtpTransport(smtp_sink.url) as transport:
        results = transport.send_many(batch(2))
    assert results[0] == DeliveryResult(
        "temporary", 451, "message refused: 4.3.0 Try again later", "DATA"
    )
    assert results[1].ok
    assert len(smtp_sink.received) == 1

    # The same on the recording server, which also shows the reset and the one connection.
    server = smtp_server()
    server.fail_data.append("452 4.3.1 Insufficient system storage")
    with SmtpTransport(url_of(server)) as transport:
        results = transport.send_many(batch(2))
    assert [r.status for r in results] == ["temporary", "sent"]
    assert server.rsets == 1
    assert server.connections == 1


def test_a_5xx_reply_is_permanent(smtp_sink):
    smtp_sink.fail_next.append("554 5.7.1 Message rejected as spam")
    with SmtpTransport(smtp_sink.url) as transport:
        result = transport.send(outgoing(1))
    assert not result.ok and not result.retryable
    assert (result.status, result.code) == ("permanent", 554)
    assert "5.7.1 Message rejected as spam" in result.reply


@pytest.mark.parametrize(
    ("reply", "status"),
    [("550 5.1.1 No such user", "permanent"), ("450 4.2.1 Mailbox busy", "temporary")],
)
def test_a_refused_recipient_is_classified_and_the_session_reset(
    smtp_server, pipelining, reply, status
):
    server = smtp_server(pipelining=pipelining)
    server.fail_rcpt.append(reply)
    with SmtpTransport(url_of(server)) as transport:
        refused, accepted = transport.send_many(batch(2))
    assert refused.status == status
    assert refused.code == int(reply[:3])
    assert refused.reply == f"RCPT TO refused: {reply[4:]}"
    assert accepted.ok
    assert server.rsets == 1
    assert server.connections == 1
    assert server.received[0].rcpt_tos == ["lead2@customer.example"]


def test_a_refused_sender_is_permanent(smtp_server, pipelining):
    server = smtp_server(pipelining=pipelining)
    server.fail_mail.append("553 5.7.1 Sender address rejected")
    with SmtpTransport(url_of(server)) as transport:
        refused, accepted = transport.send_many(batch(2))
    assert (refused.status, refused.code) == ("permanent", 553)
    assert refused.reply.startswith("MAIL FROM refused")
    assert accepted.ok


def test_a_server_killed_mid_batch_gives_temporary_results_and_the_transport_recovers(
    smtp_server,
    pipelining,
):
    server = smtp_server(pipelining=pipelining)
    server.die_at = 3  # the third message's DATA kills the server before it answers
    items = batch(6)
    with SmtpTransport(url_of(server)) as transport:
        results = transport.send_many(items)
        assert [r.status for r in results] == ["sent"] * 2 + ["temporary"] * 4
        refused = f"connection refused by 127.0.0.1:{server.port}"
        assert all(r.reply == refused and r.code is None for r in results[2:])
        assert len(server.received) == 2

        server.restart()  # same port: the transport must find it again
        retried = transport.send_many(items[2:])

    assert [r.status for r in retried] == ["sent"] * 4
    assert [m.rcpt_tos[0] for m in server.received] == [i.to for i in items]
    assert transport.connections_opened == 2


def test_a_dropped_connection_is_reopened_and_the_message_retried_once(smtp_server, pipelining):
    server = smtp_server(pipelining=pipelining)
    server.drop_at = 2  # closes the connection instead of answering the second DATA
    with SmtpTransport(url_of(server)) as transport:
        results = transport.send_many(batch(3))
    assert [r.status for r in results] == ["sent"] * 3
    assert [m.rcpt_tos[0] for m in server.received] == [
        "lead1@customer.example",
        "lead2@customer.example",
        "lead3@customer.example",
    ]
    assert server.connections == 2


def test_a_connection_the_server_closed_while_idle_is_replaced(smtp_server):
    server = smtp_server(idle_timeout=0.2)
    with SmtpTransport(url_of(server)) as transport:
        assert transport.send(outgoing(1)).ok
        time.sleep(0.5)  # aiosmtpd says "421 timeout" and hangs up meanwhile
        assert transport.send(outgoing(2)).ok
    assert len(server.received) == 2
    assert server.connections == 2


def test_a_connection_idle_for_too_long_is_replaced_before_use(smtp_server, caplog):
    caplog.set_level(logging.INFO, logger="nurture.sending.smtp")
    server = smtp_server()
    with SmtpTransport(url_of(server)) as transport:
        transport.max_idle = 0.05
        assert transport.send(outgoing(1)).ok
        time.sleep(0.1)
        assert transport.send(outgoing(2)).ok
        assert transport.send(outgoing(3)).ok  # straight after: the connection is reused
    assert server.connections == 2
    assert "lost" not in caplog.text  # replaced quietly, not discovered broken


def test_a_421_reply_means_reconnect_and_retry(smtp_server, pipelining):
    server = smtp_server(pipelining=pipelining)
    server.fail_data.append("421 4.7.0 Too many messages on this connection")
    with SmtpTransport(url_of(server)) as transport:
        result = transport.send(outgoing(1))
    assert result.ok
    assert server.connections == 2


def test_a_second_421_is_reported_as_temporary(smtp_server, pipelining):
    server = smtp_server(pipelining=pipelining)
    server.fail_mail += ["421 4.3.2 Service shutting down"] * 2
    with SmtpTransport(url_of(server)) as transport:
        result = transport.send(outgoing(1))
    assert (result.status, result.code) == ("temporary", 421)
    assert "4.3.2 Service shutting down" in result.reply


def test_connection_refused_is_temporary_with_a_clear_reply_for_the_whole_batch():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections are refused
        transport = SmtpTransport(f"smtp://127.0.0.1:{port}")
        results = transport.send_many(batch(3))
    assert (
        results
        == [DeliveryResult("temporary", None, f"connection refused by 127.0.0.1:{port}")] * 3
    )


def test_a_server_that_never_answers_times_out_as_temporary():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()  # accepts into the backlog but never says hello
        port = sock.getsockname()[1]
        transport = SmtpTransport(f"smtp://127.0.0.1:{port}?timeout=0.3")
        started = time.monotonic()
        results = transport.send_many(batch(3))
        elapsed = time.monotonic() - started
    assert {r.status for r in results} == {"temporary"}
    assert "timed out after 0.3s" in results[0].reply or "closed the connection" in results[0].reply
    # One timeout for the batch, not one per message.
    assert elapsed < 2


def test_with_pipelining_the_three_commands_go_in_one_write(smtp_server, monkeypatch):
    writes: list[bytes | str] = []
    real_send = smtplib.SMTP.send

    def recording_send(self, data):  # type: ignore[no-untyped-def]
        writes.append(data)
        return real_send(self, data)

    monkeypatch.setattr(smtplib.SMTP, "send", recording_send)
    server = smtp_server(pipelining=True)
    with SmtpTransport(url_of(server)) as transport:
        transport.send(outgoing(1))
    start = next(i for i, w in enumerate(writes) if str(w).startswith("MAIL"))
    commands, message, quit_ = writes[start:]
    assert isinstance(commands, str)
    assert commands.startswith("MAIL FROM:<hello@brightpath.example> SIZE=")
    assert commands.endswith("\r\nRCPT TO:<lead1@customer.example>\r\nDATA\r\n")
    assert isinstance(message, bytes) and message.endswith(b"\r\n.\r\n")
    assert quit_.lower().startswith("quit")
    assert len(server.received) == 1


def test_a_lax_server_that_accepts_data_after_a_refused_recipient_gets_an_empty_message():
    """RFC 2920 servers must refuse DATA when no recipient was accepted; if one does not,
    the client ends the data at once instead of sending the message to nobody."""
    script = {
        b"EHLO": b"250-lax.test\r\n250 PIPELINING\r\n",
        b"MAIL": b"250 OK\r\n",
        b"RCPT": b"550 5.1.1 No such user\r\n",
        b"DATA": b"354 Go ahead anyway\r\n",
        b".": b"250 OK empty\r\n",
        b"RSET": b"250 OK\r\n",
        b"QUIT": b"221 Bye\r\n",
    }
    seen: list[bytes] = []
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        with conn, conn.makefile("rb") as lines:
            conn.sendall(b"220 lax.test ESMTP\r\n")
            for line in lines:
                verb = line.split()[0].upper() if line.strip() else b""
                seen.append(verb)
                conn.sendall(script.get(verb, b"500 what?\r\n"))
                if verb == b"QUIT":
                    break

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with SmtpTransport(f"smtp://127.0.0.1:{port}") as transport:
            result = transport.send(outgoing(1))
    finally:
        thread.join(5)
        listener.close()
    assert (result.status, result.code) == ("permanent", 550)
    assert seen == [b"EHLO", b"MAIL", b"RCPT", b"DATA", b".", b"RSET", b"QUIT"]


def test_lines_starting_with_a_dot_survive_the_trip(smtp_server, pipelining):
    server = smtp_server(pipelining=pipelining)
    data = b".starts with a dot\r\n\r\n.\r\n..two dots\r\nlast line without CRLF"
    with SmtpTransport(url_of(server)) as transport:
        assert transport.send(Outgoing(1, SENDER, "a@customer.example", data)).ok
        assert transport.send(outgoing(2)).ok  # and the session is in step afterwards
    assert server.received[0].data == data + b"\r\n"
    assert len(server.received) == 2


def test_non_ascii_addresses_use_smtputf8(smtp_server):
    server = smtp_server()
    to = "jörg@bücher.example"
    with SmtpTransport(url_of(server)) as transport:
        result = transport.send(Outgoing(1, SENDER, to, make_message("joerg@example.com")))
    assert result.ok
    assert server.received[0].rcpt_tos == [to]


def test_bare_line_feeds_are_sent_as_crlf(smtp_server):
    server = smtp_server()
    data = b"Subject: lf\n\nline one\nline two\n"
    with SmtpTransport(url_of(server)) as transport:
        assert transport.send(Outgoing(1, SENDER, "a@customer.example", data)).ok
    assert server.received[0].data == b"Subject: lf\r\n\r\nline one\r\nline two\r\n"


def test_an_address_with_a_line_break_is_refused_without_talking_to_the_server(smtp_server):
    server = smtp_server()
    with SmtpTransport(url_of(server)) as transport:
        bad = "a@customer.example\r\nRCPT TO:<x@evil.example>"
        result = transport.send(Outgoing(1, SENDER, bad, make_message("a@customer.example")))
    assert result.status == "permanent"
    assert server.received == []


# ---------------------------------------------------------------- TLS and AUTH


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_auth_over_starttls_succeeds(smtp_server, tls_files, mechanism):
    other = {"PLAIN": "LOGIN", "LOGIN": "PLAIN"}[mechanism]
    server = smtp_server(
        starttls=tls_files.server_context(),
        users={"mailer": PASSWORD},
        auth_exclude=(other,),
    )
    with SmtpTransport(auth_url(server, verify="off")) as transport:
        results = transport.send_many(batch(2))
    assert [r.status for r in results] == ["sent", "sent"]
    assert server.auth_mechanisms == [mechanism]
    assert all(m.tls and m.authenticated for m in server.received)
    assert server.connections == 1


def test_a_wrong_password_keeps_messages_for_retry_and_is_never_shown(
    smtp_server, tls_files, caplog
):
    caplog.set_level(logging.DEBUG)
    server = smtp_server(starttls=tls_files.server_context(), users={"mailer": "right"})
    transport = SmtpTransport(auth_url(server, password=PASSWORD, verify="off"))
    results = transport.send_many(batch(3))
    # Our own misconfiguration must not fail the recipients for good.
    assert [r.status for r in results] == ["temporary"] * 3
    assert results[0].code == 535
    assert "authentication as 'mailer'" in results[0].reply
    assert server.received == []
    # One login attempt for the batch, not one per message.
    assert server.auth_mechanisms in (["PLAIN"], ["PLAIN", "LOGIN"])
    for text in (*(str(r) for r in results), repr(transport), caplog.text):
        assert PASSWORD not in text
        assert quote(PASSWORD, safe="") not in text


def test_the_certificate_is_verified_unless_told_otherwise(smtp_server, tls_files):
    server = smtp_server(starttls=tls_files.server_context())
    result = SmtpTransport(url_of(server)).send(outgoing(1))
    assert result.status == "temporary"
    assert "TLS certificate of 127.0.0.1" in result.reply
    assert "verify" in result.reply.lower()

    with SmtpTransport(url_of(server, cafile=str(tls_files.cert))) as transport:
        assert transport.send(outgoing(2)).ok
    assert server.received[0].tls


def test_tls_required_fails_when_the_server_does_not_offer_starttls(smtp_server):
    server = smtp_server()
    result = SmtpTransport(url_of(server, tls="required")).send(outgoing(1))
    assert result.status == "temporary"
    assert "does not offer STARTTLS" in result.reply
    assert server.received == []


def test_a_password_is_not_sent_in_clear_unless_tls_is_explicitly_off(smtp_server):
    server = smtp_server(users={"mailer": PASSWORD}, auth_require_tls=False)
    result = SmtpTransport(auth_url(server)).send(outgoing(1))
    assert result.status == "temporary"
    assert "refusing to send the password unencrypted" in result.reply
    assert server.auth_mechanisms == []

    with SmtpTransport(auth_url(server, tls="off")) as transport:
        assert transport.send(outgoing(2)).ok
    assert server.received[0].authenticated and not server.received[0].tls


def test_tls_off_does_not_upgrade(smtp_server, tls_files):
    server = smtp_server(starttls=tls_files.server_context())
    with SmtpTransport(url_of(server, tls="off")) as transport:
        assert transport.send(outgoing(1)).ok
    assert not server.received[0].tls


def test_smtps_uses_tls_from_the_first_byte(smtp_server, tls_files):
    # aiosmtpd only counts STARTTLS as TLS when deciding whether to offer AUTH.
    server = smtp_server(
        implicit_tls=tls_files.server_context(),
        users={"mailer": PASSWORD},
        auth_require_tls=False,
    )
    url = auth_url(server, verify="off").replace("smtp://", "smtps://")
    with SmtpTransport(url) as transport:
        assert transport.send(outgoing(1)).ok
    assert server.received[0].authenticated


# ---------------------------------------------------------------- rate limit and pool


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


def test_the_rate_limiter_paces_every_message(smtp_server):
    server = smtp_server()
    clock = FakeClock()
    limiter = TokenBucket(rate=20, burst=1, clock=clock, sleep=clock.sleep)
    with SmtpTransport(url_of(server), rate_limiter=limiter) as transport:
        results = transport.send_many(batch(4))
    assert all(r.ok for r in results)
    # The first message uses the full bucket; each later one waits 1/20 s of fake time.
    assert clock.sleeps == [0.05, 0.05, 0.05]


def test_a_pool_spreads_a_batch_over_several_connections_and_keeps_the_order(smtp_server):
    server = smtp_server()
    items = batch(7)
    pool = SmtpPool(url_of(server), size=3)
    try:
        results = pool.send_many(items)
        single = pool.send(outgoing(8))
    finally:
        pool.close()
    assert all(r.ok for r in results) and single.ok
    # Each reply names its recipient, so the results line up with the items.
    for item, result in zip(items, results, strict=True):
        assert result.reply.endswith(f"for {item.to}")
    assert sorted(m.rcpt_tos[0] for m in server.received) == sorted(
        [i.to for i in items] + ["lead8@customer.example"]
    )
    assert server.connections == 3


def test_make_transport_picks_smtp_when_a_url_is_set(settings, runtime):
    smtp = make_transport(
        settings.with_overrides(smtp_url="smtp://mail.example.com:2525", smtp_rate_limit=14.0),
        runtime.sessions,
    )
    assert isinstance(smtp, SmtpTransport) and isinstance(smtp, Transport)
    assert smtp.config.port == 2525
    assert isinstance(smtp.rate_limiter, TokenBucket) and smtp.rate_limiter.rate == 14.0

    unlimited = make_transport(settings.with_overrides(smtp_url="smtp://m.example"), None)  # type: ignore[arg-type]
    assert isinstance(unlimited, SmtpTransport) and unlimited.rate_limiter is None

    pool = make_transport(
        settings.with_overrides(smtp_url="smtp://mail.example.com", smtp_pool_size=4),
        runtime.sessions,
    )
    assert isinstance(pool, SmtpPool) and pool.size == 4

    assert isinstance(make_transport(settings, runtime.sessions), OutboxTransport)
    with pytest.raises(ValueError, match="bad SMTP URL"):
        make_transport(settings.with_overrides(smtp_url="mail.example.com"), runtime.sessions)


# ---------------------------------------------------------------- retry policy


def test_retry_delays_grow_from_a_minute_to_four_hours_and_stay_there():
    delays = [retry_delay(n, jitter=False) for n in range(1, 8)]
    assert delays == [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=15),
        timedelta(hours=1),
        timedelta(hours=4),
        timedelta(hours=4),
        timedelta(hours=4),
    ]


def test_retry_delays_are_jittered_within_twenty_percent_and_reproducible_with_a_seed():
    rng = random.Random(7)
    delays = [retry_delay(2, rng=rng) for _ in range(200)]
    assert all(timedelta(minutes=4) <= d <= timedelta(minutes=6) for d in delays)
    assert len(set(delays)) > 100  # spread out, not a burst
    assert [retry_delay(3, rng=random.Random(1)) for _ in range(2)] == [
        retry_delay(3, rng=random.Random(1))
    ] * 2
    with pytest.raises(ValueError):
        retry_delay(0)


def test_the_envelope_sender_is_the_bare_address_of_mail_from():
    assert envelope_address("Brightpath Analytics <hello@brightpath.example>") == SENDER
    with pytest.raises(ValueError):
        envelope_address("Brightpath Analytics")


def test_received_bytes_parse_as_the_message_that_was_built(smtp_server):
    server = smtp_server()
    with SmtpTransport(url_of(server)) as transport:
        transport.send(outgoing(1))
    parsed = message_from_bytes(server.received[0].data, policy=policy.default)
    assert parsed["Subject"] == "Message 1"
    assert parsed.get_content().strip() == "Hi there."
