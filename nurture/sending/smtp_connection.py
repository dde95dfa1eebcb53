"""One SMTP client connection: opening it (greeting, STARTTLS, AUTH) and running pipelined
MAIL/RCPT/DATA transactions on it.

``nurture.sending.smtp.SmtpTransport`` builds on this: it adds the lock, the rate limit, idle
replacement and the reconnect-once policy.
"""

from __future__ import annotations

import contextlib
import logging
import re
import smtplib
import socket
import ssl
from dataclasses import dataclass

from nurture.platform.smtp_url import SmtpConfig
from nurture.sending.delivery import DeliveryResult, Outgoing

log = logging.getLogger(__name__)

# A line feed not preceded by a carriage return: SMTP requires CRLF, and since the
# "SMTP smuggling" fixes strict servers (Postfix 3.9 and later) refuse bare LFs.
_BARE_LF = re.compile(rb"(?<!\r)\n")


class ConnectFailed(Exception):
    """No usable connection could be made; carries the result to report."""

    def __init__(self, result: DeliveryResult) -> None:
        super().__init__(result.reply)
        self.result = result


@dataclass(frozen=True, slots=True)
class Prepared:
    """One message ready for the wire: its MAIL and RCPT commands (without CRLF), the
    encoding they need, and the dot-stuffed payload ending in ``CRLF . CRLF``."""

    mail: str
    rcpt: str
    encoding: str
    payload: bytes


class ServerClosing(Exception):
    """The server answered 421: it is closing the connection (idle timeout, overload)."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


# Failures that mean "this connection is gone", as opposed to "the server said no".
# smtplib's own exceptions derive from OSError, and so do socket and TLS errors.
CONNECTION_LOST = (OSError, ServerClosing)


_STAGES = ("MAIL FROM", "RCPT TO", "DATA")
_EXPECTED = {"MAIL FROM": (250,), "RCPT TO": (250, 251), "DATA": (354,)}
# The command a refusal at each stage answered ("message": the end of the data).
_COMMANDS = {"MAIL FROM": "MAIL", "RCPT TO": "RCPT", "DATA": "DATA", "message": "DATA"}


def _path(address: str) -> str:
    """An address as an SMTP path: ``<a@b.example>`` (``<>`` for the null sender)."""
    if "<" in address or " " in address:
        # "Name <a@b>" or something odder: let smtplib's parser find the address.
        return smtplib.quoteaddr(address)
    return f"<{address}>"


def _dot_stuffed(data: bytes) -> bytes:
    """The DATA payload: lines starting with "." get another one (RFC 5321 4.5.2), then
    the terminating ``CRLF . CRLF``. Same result as smtplib's, with bytes.replace instead
    of a regex: ~12 µs instead of ~50 µs for a 14 KB message."""
    stuffed = data.replace(b"\n.", b"\n..")
    if stuffed[:1] == b".":
        stuffed = b"." + stuffed
    if stuffed[-2:] != b"\r\n":
        stuffed += b"\r\n"
    # One send, not two: a small second write could wait on Nagle + delayed ACK (40 ms).
    return stuffed + b".\r\n"


def _text(reply: bytes | str) -> str:
    """A server reply as one readable line."""
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return " ".join(reply.split())


class SmtpConnection:
    """At most one open SMTP connection, and the transactions run on it.

    Not thread-safe on its own: the transport serialises every call.
    """

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        # How many connections have been opened (for logs and tests).
        self.connections_opened = 0
        self._conn: smtplib.SMTP | None = None
        # Built on first use and kept: loading the CA bundle costs milliseconds.
        self._tls: ssl.SSLContext | None = None
        self._helo_name: str | None = self.config.helo

    # ------------------------------------------------------------------ transactions

    def _prepare(self, conn: smtplib.SMTP, item: Outgoing) -> Prepared | DeliveryResult:
        """The commands and dot-stuffed payload of one message, or why it cannot be sent."""
        sender, recipient, data = item.envelope_from, item.to, item.data
        for address in (sender, recipient):
            if "\r" in address or "\n" in address:
                return DeliveryResult("permanent", None, f"invalid address {address!r}")
        # Outgoing.data must use CRLF (nurture.sending.mime guarantees it). Scanning every message
        # for stray LFs would cost ~15 µs of a ~100 µs send, so only the first line ending
        # is checked: it catches a producer that writes LF throughout, the common mistake.
        first_eol = data.find(b"\n")
        if first_eol == 0 or (first_eol > 0 and data[first_eol - 1] != 13):
            data = _BARE_LF.sub(b"\r\n", data)

        options = f" SIZE={len(data)}" if conn.has_extn("size") else ""
        encoding = "ascii"
        if not (sender.isascii() and recipient.isascii()):
            if not conn.has_extn("smtputf8"):
                return DeliveryResult(
                    "permanent",
                    None,
                    f"{self.config.address} does not support SMTPUTF8, "
                    "needed for a non-ASCII address",
                )
            options += " BODY=8BITMIME SMTPUTF8"
            encoding = "utf-8"
        # The commands are written directly rather than through smtplib's mail()/rcpt()/
        # data(): those re-parse each address (~6 µs apiece) and dot-stuff with a regex
        # (~50 µs for 14 KB), together more than half the client's CPU per message.
        return Prepared(
            f"MAIL FROM:{_path(sender)}{options}",
            f"RCPT TO:{_path(recipient)}",
            encoding,
            _dot_stuffed(data),
        )

    def _transaction(self, conn: smtplib.SMTP, item: Outgoing) -> DeliveryResult:
        """One MAIL/RCPT/DATA exchange; raises only when the connection is lost."""
        prepared = self._prepare(conn, item)
        if isinstance(prepared, DeliveryResult):
            return prepared
        if prepared.encoding != "ascii":
            conn.command_encoding = prepared.encoding  # what smtplib's mail() does for SMTPUTF8
        try:
            if conn.has_extn("pipelining"):
                # RFC 2920: one write for all three commands, then their three replies in
                # order. Saves two round trips per message (most of the time to a remote
                # relay). A server must refuse DATA when no recipient was accepted.
                conn.send(f"{prepared.mail}\r\n{prepared.rcpt}\r\nDATA\r\n")
                replies = self._command_replies(conn)
            else:
                replies = []
                for stage, command in zip(
                    _STAGES, (prepared.mail, prepared.rcpt, "DATA"), strict=True
                ):
                    conn.putcmd(command)
                    code, reply = conn.getreply()
                    replies.append((stage, code, reply))
                    if code not in _EXPECTED[stage]:
                        break
            refused = self._data_refused(conn, replies)
            if refused is not None:
                return refused
            conn.send(prepared.payload)
            code, reply = conn.getreply()
        except smtplib.SMTPResponseException as exc:  # a garbled reply; smtplib closed up
            return self._refused(conn, "message", exc.smtp_code, exc.smtp_error)
        return self._data_answered(conn, code, reply)

    @staticmethod
    def _command_replies(conn: smtplib.SMTP) -> list[tuple[str, int, bytes]]:
        """The replies to a pipelined MAIL, RCPT and DATA, in order."""
        return [(stage, *conn.getreply()) for stage in _STAGES]

    def _data_refused(
        self, conn: smtplib.SMTP, replies: list[tuple[str, int, bytes]]
    ) -> DeliveryResult | None:
        """None when DATA was accepted (354); otherwise the refusal, the session reset."""
        failed = next((r for r in replies if r[1] not in _EXPECTED[r[0]]), None)
        if failed is None:
            return None
        if replies[-1][1] == 354:
            # DATA accepted after a refusal (a lax pipelining server): end it empty.
            conn.send(b".\r\n")
            conn.getreply()
        return self._refused(conn, *failed)

    def _data_answered(
        self, conn: smtplib.SMTP, code: int, reply: bytes, *, reset: bool = True
    ) -> DeliveryResult:
        """The result of a message from the reply to its end of data.

        ``reset=False`` when the next message's commands are already on the wire: the
        transaction ended with the reply either way (RFC 5321 4.1.1.4), and a RSET would
        cancel the next one.
        """
        if not 200 <= code < 300:
            if not reset:
                text = f"message refused: {_text(reply)}"
                if code == 421:
                    raise ServerClosing(code, text)
                return DeliveryResult.from_reply(code, text, "DATA")
            return self._refused(conn, "message", code, reply)
        return DeliveryResult("sent", code, _text(reply))

    def _refused(
        self, conn: smtplib.SMTP, stage: str, code: int, reply: bytes | str
    ) -> DeliveryResult:
        """Classify an error reply and reset the session so the next message starts clean."""
        text = f"{stage} refused: {_text(reply)}"
        if code == 421:
            raise ServerClosing(code, text)
        try:
            conn.rset()
        except OSError:
            # The server is gone after all; the next message will reconnect.
            self._discard()
        return DeliveryResult.from_reply(code, text, _COMMANDS.get(stage, ""))

    # ------------------------------------------------------------------ connections

    def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            context = ssl.create_default_context(cafile=self.config.cafile)
            if not self.config.verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            self._tls = context
        return self._tls

    def _open(self) -> smtplib.SMTP:
        """Connect, greet, upgrade to TLS and log in; raise ConnectFailed on any failure."""
        cfg = self.config
        where = cfg.address
        if self._helo_name is None:
            # smtplib would call getfqdn() (a DNS lookup) for every connection; once is enough.
            self._helo_name = socket.getfqdn()
        stage = "connect"
        conn: smtplib.SMTP | None = None
        try:
            # The host goes to the constructor (not to connect()) because smtplib takes
            # the TLS server name from it; the constructor also checks the 220 greeting.
            if cfg.tls == "implicit":
                conn = smtplib.SMTP_SSL(
                    cfg.host,
                    cfg.port,
                    local_hostname=self._helo_name,
                    timeout=cfg.timeout,
                    context=self._tls_context(),
                )
            else:
                conn = smtplib.SMTP(
                    cfg.host, cfg.port, local_hostname=self._helo_name, timeout=cfg.timeout
                )
            stage = "EHLO"
            conn.ehlo_or_helo_if_needed()
            tls_note = "implicit TLS" if cfg.tls == "implicit" else "no TLS"
            if cfg.tls in ("auto", "required") and conn.has_extn("starttls"):
                stage = "STARTTLS"
                conn.starttls(context=self._tls_context())
                stage = "EHLO after STARTTLS"
                code, reply = conn.ehlo()
                if code != 250:
                    raise smtplib.SMTPHeloError(code, reply)
                tls_note = "STARTTLS"
            elif cfg.tls == "required":
                raise ConnectFailed(
                    DeliveryResult.temporary_failure(
                        f"{where} does not offer STARTTLS, and the URL says tls=required"
                    )
                )
            elif cfg.tls == "auto" and cfg.username is not None:
                raise ConnectFailed(
                    DeliveryResult.temporary_failure(
                        f"{where} does not offer STARTTLS; refusing to send the password "
                        "unencrypted (add ?tls=off to the URL to allow it)"
                    )
                )
            if cfg.username is not None:
                stage = "AUTH"
                conn.login(cfg.username, cfg.password or "")
        except ConnectFailed:
            _close_quietly(conn)
            raise
        # A refusal while connecting (bad password, EHLO or STARTTLS refused) is about our
        # own setup, not the recipient: keep the messages for a retry once the operator has
        # fixed it, instead of failing every recipient of the batch for good.
        except smtplib.SMTPAuthenticationError as exc:
            _close_quietly(conn)
            text = f"authentication as {cfg.username!r} at {where} failed: {_text(exc.smtp_error)}"
            raise ConnectFailed(DeliveryResult.temporary_failure(text, exc.smtp_code)) from None
        except smtplib.SMTPResponseException as exc:
            _close_quietly(conn)
            text = f"{stage} at {where} refused: {_text(exc.smtp_error)}"
            raise ConnectFailed(DeliveryResult.temporary_failure(text, exc.smtp_code)) from None
        except smtplib.SMTPNotSupportedError:
            _close_quietly(conn)
            raise ConnectFailed(
                DeliveryResult.temporary_failure(
                    f"{where} does not offer AUTH, but the URL has a user name"
                )
            ) from None
        except OSError as exc:
            _close_quietly(conn)
            raise ConnectFailed(
                DeliveryResult.temporary_failure(_describe_connect_error(exc, cfg, stage))
            ) from None
        except BaseException:
            _close_quietly(conn)
            raise
        self._conn = conn
        self.connections_opened += 1
        log.debug(
            "connected to %s (%s%s)",
            cfg.redacted_url,
            tls_note,
            f", authenticated as {cfg.username}" if cfg.username else "",
        )
        return conn


def _close_quietly(conn: smtplib.SMTP | None) -> None:
    if conn is not None:
        with contextlib.suppress(OSError):
            conn.close()


def _describe_connect_error(exc: OSError, cfg: SmtpConfig, stage: str) -> str:
    """A readable reason for a failed connection attempt (no password in it, ever)."""
    where = cfg.address
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate of {where} rejected: {exc.verify_message} (see ?verify, ?cafile)"
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake with {where} failed: {exc.reason or exc}"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"{where} closed the connection during {stage}: {exc}"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {where}"
    if isinstance(exc, TimeoutError):
        return f"timed out after {cfg.timeout:g}s during {stage} with {where}"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve host {cfg.host!r}: {exc.strerror}"
    return f"cannot connect to {where}: {exc.strerror or exc}"
