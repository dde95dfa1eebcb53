"""Fixtures for delivery tests: a controllable real SMTP server (aiosmtpd) with optional
STARTTLS, implicit TLS and AUTH, and a self-signed certificate made with the openssl CLI.

``tests/conftest.py``'s ``smtp_sink`` covers plain delivery; this server also records which
connection each message came over, counts RSETs, refuses MAIL/RCPT on request, drops a
connection without replying, and can die mid-batch and be restarted on the same port.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A self-signed certificate for localhost and 127.0.0.1.

    Made with the openssl CLI because the ``cryptography`` package is not installed.
    """
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return TlsFiles(cert=cert, key=key)


@dataclass
class Received:
    """One message as the server saw it."""

    peer: tuple[str, int]
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    tls: bool
    authenticated: bool


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """A real aiosmtpd server in a thread, with knobs for failure scenarios.

    ``fail_mail`` / ``fail_rcpt`` / ``fail_data``: replies for the next MAIL, RCPT or DATA.
    ``pipelining``: advertise PIPELINING (RFC 2920). ``drop_at``: on the Nth DATA (counting
    every DATA seen) close the connection instead of answering; the server keeps listening.
    ``die_at``: on the Nth DATA stop listening and close the connection, as a crashed server
    would.
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        starttls: ssl.SSLContext | None = None,
        implicit_tls: ssl.SSLContext | None = None,
        users: dict[str, str] | None = None,
        auth_exclude: tuple[str, ...] = (),
        auth_require_tls: bool = True,
        idle_timeout: float = 300,
        pipelining: bool = False,
    ) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.users = users
        self.pipelining = pipelining
        self.received: list[Received] = []
        self.ehlo_peers: list[tuple[str, int]] = []
        self.auth_mechanisms: list[str] = []
        self.rsets = 0
        self.data_seen = 0
        self.fail_mail: list[str] = []
        self.fail_rcpt: list[str] = []
        self.fail_data: list[str] = []
        self.drop_at: int | None = None
        self.die_at: int | None = None
        self._lock = threading.Lock()
        self._kwargs: dict[str, Any] = {
            "hostname": self.host,
            "server_hostname": "mx.test",
            "tls_context": starttls,
            "ssl_context": implicit_tls,
            "auth_require_tls": auth_require_tls,
            "auth_exclude_mechanism": list(auth_exclude),
            "timeout": idle_timeout,
        }
        if users is not None:
            self._kwargs["authenticator"] = self._authenticate
        self._controller: Any = None

    @property
    def connections(self) -> int:
        """How many client connections said EHLO (STARTTLS's second EHLO is not counted)."""
        return len(set(self.ehlo_peers))

    def start(self) -> SmtpServer:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, port=self.port, **self._kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def restart(self) -> None:
        """Stop what is left of the server and start a new one on the same port."""
        self.stop()
        self.start()

    # ------------------------------------------------------------ aiosmtpd hooks

    def _authenticate(self, server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        from aiosmtpd.smtp import AuthResult, LoginPassword

        self.auth_mechanisms.append(mechanism)
        assert self.users is not None
        # handled=False: aiosmtpd then answers "535 5.7.8" itself.
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = auth_data.login.decode(), auth_data.password.decode()
        ok = self.users.get(user) == password
        return AuthResult(success=ok, handled=False, auth_data=user)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # type: ignore[no-untyped-def]
        session.host_name = hostname
        with self._lock:
            self.ehlo_peers.append(session.peer)
        if self.pipelining:
            # aiosmtpd reads one command at a time from its stream, so it copes with
            # pipelined input; it just does not advertise the extension.
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # type: ignore[no-untyped-def]
        with self._lock:
            if self.fail_mail:
                return self.fail_mail.pop(0)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        with self._lock:
            if self.fail_rcpt:
                return self.fail_rcpt.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_RSET(self, server, session, envelope):  # type: ignore[no-untyped-def]
        with self._lock:
            self.rsets += 1
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        with self._lock:
            self.data_seen += 1
            if self.die_at == self.data_seen:
                self._controller.server.close()  # stop listening: reconnects are refused
                server.transport.close()
                return "421 4.3.2 shutting down"  # never reaches the client
            if self.drop_at == self.data_seen:
                server.transport.close()
                return "421 4.3.2 dropped"  # never reaches the client
            if self.fail_data:
                return self.fail_data.pop(0)
            self.received.append(
                Received(
                    peer=session.peer,
                    mail_from=envelope.mail_from,
                    rcpt_tos=list(envelope.rcpt_tos),
                    data=envelope.original_content,
                    tls=session.ssl is not None,
                    authenticated=bool(session.authenticated),
                )
            )
            number = len(self.received)
        return f"250 2.0.0 Ok: queued as Q{number} for {','.join(envelope.rcpt_tos)}"


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., SmtpServer]]:
    """Start SmtpServer instances on demand: ``server = smtp_server(users={...})``."""
    servers: list[SmtpServer] = []

    def start(**options: Any) -> SmtpServer:
        server = SmtpServer(**options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
