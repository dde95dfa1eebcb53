"""The DNS records a sending domain publishes so mailbox providers trust its email: the
DKIM public key (derived from the configured private key), and SPF and DMARC starting
points (docs/deliverability.md).

Nothing here queries DNS: these are the records to publish, shown on the settings page.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from nurture.platform.config import ConfigError, Settings

# A TXT record is a list of character-strings of at most 255 bytes each; a 2048-bit key's
# ``p=`` is longer, so it is split (resolvers join the strings back without spaces).
TXT_STRING_MAX = 255


@dataclass(frozen=True)
class TxtRecord:
    """One TXT record: its owner name and value, and the value split for DNS."""

    name: str
    value: str

    @property
    def strings(self) -> tuple[str, ...]:
        """The value as quoted-string pieces of at most 255 characters."""
        return split_txt(self.value)

    @property
    def zone_line(self) -> str:
        """The record as a line of a BIND zone file."""
        quoted = " ".join(f'"{piece}"' for piece in self.strings)
        return f"{self.name}. IN TXT ( {quoted} )"


@dataclass(frozen=True)
class DkimRecord(TxtRecord):
    """The DKIM key record of ``selector`` at ``domain``."""

    selector: str = ""
    domain: str = ""
    key_bits: int = 0


def split_txt(value: str, size: int = TXT_STRING_MAX) -> tuple[str, ...]:
    """``value`` in pieces of at most ``size`` characters (pure)."""
    return tuple(value[i : i + size] for i in range(0, len(value), size)) or ("",)


def sending_domain(settings: Settings) -> str:
    """The domain of the From address (what SPF, DKIM and DMARC are judged on)."""
    return parseaddr(settings.mail_from)[1].rpartition("@")[2].lower()


def dkim_record(settings: Settings) -> DkimRecord | None:
    """The record to publish for the configured DKIM key, or None when DKIM is off.

    ConfigError when the key file is set but cannot be read or is not an RSA key.
    """
    if settings.dkim_key_file is None:
        return None
    if not settings.dkim_selector:
        raise ConfigError("NURTURE_DKIM_KEY_FILE is set but NURTURE_DKIM_SELECTOR is not")
    domain = settings.dkim_domain or sending_domain(settings)
    if not domain:
        raise ConfigError("set NURTURE_DKIM_DOMAIN: NURTURE_MAIL_FROM has no domain")
    try:
        pem = settings.dkim_key_file.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"NURTURE_DKIM_KEY_FILE={settings.dkim_key_file}: cannot read it ({exc.strerror})"
        ) from exc
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"the DKIM key cannot be read: {exc}") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError("the DKIM key is not an RSA key (rsa-sha256 needs one)")
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    value = f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode('ascii')}"
    return DkimRecord(
        name=f"{settings.dkim_selector}._domainkey.{domain}",
        value=value,
        selector=settings.dkim_selector,
        domain=domain,
        key_bits=key.key_size,
    )


def spf_hint(settings: Settings) -> TxtRecord | None:
    """A starting SPF record for the sending domain: the SMTP relay's host where one is
    configured (replace it with the include: your provider documents)."""
    domain = sending_domain(settings)
    if not domain:
        return None
    host = urlsplit(settings.smtp_url).hostname if settings.smtp_url else None
    mechanism = f"a:{host} " if host and host not in ("localhost", "127.0.0.1") else ""
    return TxtRecord(name=domain, value=f"v=spf1 mx {mechanism}~all")


def dmarc_hint(settings: Settings) -> TxtRecord | None:
    """A starting DMARC record: monitor only (``p=none``), reports to the domain's
    ``dmarc-reports`` mailbox; tighten to quarantine once the reports look clean."""
    domain = sending_domain(settings)
    if not domain:
        return None
    return TxtRecord(
        name=f"_dmarc.{domain}",
        value=f"v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}; adkim=r; aspf=r",
    )
