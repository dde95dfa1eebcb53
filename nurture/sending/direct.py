"""Mail sent at once, outside campaigns and the messages table: a user's own test send of a
template and account emails (set-password and reset links).

Goes through the same transport as everything else (SMTP or the local outbox, DKIM-signed
when configured) and answers with the :class:`DeliveryResult`, so the page that asked can
say at once whether the server took it. Nothing is retried: the person is waiting.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from sqlalchemy.orm import Session, sessionmaker

from nurture.platform.config import Settings
from nurture.platform.db import utcnow
from nurture.sending.delivery import DeliveryResult, Outgoing, envelope_address
from nurture.sending.transports import make_transport


def build_direct_message(
    settings: Settings, *, to: str, subject: str, text: str, html: str | None = None
) -> bytes:
    """The RFC 5322 bytes (CRLF) of a plain message from the instance's sender."""
    message = EmailMessage(policy=SMTP)
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=envelope_address(settings.mail_from).split("@")[-1])
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message.as_bytes()


def send_now(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    to: str,
    subject: str,
    data: bytes,
) -> DeliveryResult:
    """Hand one finished message to the configured transport and return what it answered."""
    transport = make_transport(settings, sessions)
    try:
        return transport.send(
            Outgoing(
                message_pk=None,
                envelope_from=envelope_address(settings.mail_from),
                to=to,
                data=data,
                subject=subject,
            )
        )
    finally:
        transport.close()
