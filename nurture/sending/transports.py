"""Choosing the transport: SMTP when a server is configured, else the local outbox, signed
with DKIM when a key is configured."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from nurture.platform.config import Settings
from nurture.sending.delivery import Transport
from nurture.sending.dkim import DkimSigner, SigningTransport
from nurture.sending.outbox import OutboxTransport
from nurture.sending.smtp import smtp_transport_from_settings


def make_transport(settings: Settings, session_factory: sessionmaker[Session]) -> Transport:
    """The transport the settings ask for: SMTP when ``smtp_url`` is set, else the outbox.

    SMTP settings are validated here, so a bad URL fails at start-up with a message that
    names the problem (never the password). With DKIM configured, every message is signed.
    """
    signer = DkimSigner.from_settings(settings)
    transport: Transport
    if settings.smtp_url:
        transport = smtp_transport_from_settings(settings)
    else:
        transport = OutboxTransport(session_factory)
    return SigningTransport(transport, signer) if signer else transport
