"""Where and how to reach the SMTP server: one URL (``NURTURE_SMTP_URL``), read when the
settings are, so a malformed one stops every command at once::

    smtp://[user:password@]host[:port][?options]     STARTTLS when offered (port 25)
    smtps://[user:password@]host[:port][?options]    TLS from the first byte (port 465)

Options: ``tls=auto|required|off`` (smtp:// only; ``auto`` upgrades with STARTTLS when the
server offers it, ``required`` fails when it does not), ``verify=off`` (accept self-signed
certificates), ``cafile=PATH`` (trust a private CA), ``timeout=SECONDS`` (socket timeout,
default 30) and ``helo=NAME`` (the name given in EHLO). User and password are URL-decoded,
so ``p%40ss`` is ``p@ss``. The password never appears in a repr, a log line or an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qsl, unquote, urlsplit

TlsMode = Literal["auto", "required", "off", "implicit"]

DEFAULT_TIMEOUT = 30.0
_DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
_OPTIONS = ("tls", "verify", "cafile", "timeout", "helo")
_TRUE = {"on", "true", "yes", "1"}
_FALSE = {"off", "false", "no", "0"}


class SmtpUrlError(ValueError):
    """An SMTP URL that cannot be used; ``reason`` says why without repeating the URL."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to connect; built by :func:`parse_smtp_url`."""

    host: str
    port: int
    tls: TlsMode = "auto"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    verify: bool = True
    cafile: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    helo: str | None = None

    @property
    def address(self) -> str:
        """``host:port`` for messages (IPv6 hosts in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def redacted_url(self) -> str:
        """The URL with the password replaced by ``***``: safe for logs and screens."""
        scheme = "smtps" if self.tls == "implicit" else "smtp"
        user = f"{self.username}:***@" if self.username is not None else ""
        options = []
        if self.tls in ("required", "off"):
            options.append(f"tls={self.tls}")
        if not self.verify:
            options.append("verify=off")
        query = f"?{'&'.join(options)}" if options else ""
        return f"{scheme}://{user}{self.address}{query}"

    def __repr__(self) -> str:
        return f"SmtpConfig({self.redacted_url!r})"


def redact_url(url: str) -> str:
    """Hide the password of any ``scheme://user:password@host`` string.

    Works on text that is not a valid URL too (it is used to report why a URL is bad), and
    errs on the side of hiding too much: everything between the user name and the last
    ``@`` goes.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    userinfo, at, hostpart = rest.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{hostpart}"


def parse_smtp_url(url: str) -> SmtpConfig:
    """Read an ``smtp://`` or ``smtps://`` URL (see the module docstring for the options).

    Raises ``SmtpUrlError`` naming the problem; the message shows the URL with its password
    hidden.
    """
    shown = redact_url(url)

    def bad(reason: str) -> SmtpUrlError:
        return SmtpUrlError(f"bad SMTP URL {shown!r}: {reason}", reason)

    try:
        parts = urlsplit(url.strip())
        port = parts.port
        host = parts.hostname
    except ValueError:
        # urllib's own message may quote parts of the URL; ours is safe to show.
        raise bad(
            "cannot read the host and port (expected smtp://user:password@host:port)"
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise bad("the scheme must be smtp:// (STARTTLS) or smtps:// (implicit TLS)")
    if not host:
        raise bad("no host name")
    if parts.path not in ("", "/"):
        raise bad("unexpected path after the host (options go after '?')")
    if port == 0:
        raise bad("port 0 is not a valid port")

    options: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name not in _OPTIONS:
            raise bad(f"unknown option {name!r} (known: {', '.join(_OPTIONS)})")
        options[name] = value

    tls: TlsMode = "implicit" if scheme == "smtps" else "auto"
    if "tls" in options:
        value = options["tls"].lower()
        if scheme == "smtps":
            if value != "required":
                raise bad("smtps:// always uses TLS; the tls option applies to smtp://")
        elif value in ("auto", "required", "off"):
            tls = value  # type: ignore[assignment]
        else:
            raise bad(f"tls must be auto, required or off, not {options['tls']!r}")

    verify = True
    if "verify" in options:
        value = options["verify"].lower()
        if value not in _TRUE | _FALSE:
            raise bad(f"verify must be on or off, not {options['verify']!r}")
        verify = value in _TRUE

    timeout = DEFAULT_TIMEOUT
    if "timeout" in options:
        try:
            timeout = float(options["timeout"])
        except ValueError:
            timeout = -1.0
        if not timeout > 0:
            raise bad(f"timeout must be a positive number of seconds, not {options['timeout']!r}")

    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if username is not None and password is None:
        raise bad("a user name without a password (use smtp://user:password@host)")
    if username is None and password:
        raise bad("a password without a user name")

    return SmtpConfig(
        host=host,
        port=port or _DEFAULT_PORTS[scheme],
        tls=tls,
        username=username,
        password=password if username is not None else None,
        verify=verify,
        cafile=options.get("cafile") or None,
        timeout=timeout,
        helo=options.get("helo") or None,
    )
