"""One email a lead received, as it was sent, safe to look at.

The exact bytes are kept when the local outbox delivered the message (``outbox``); then the
page shows those. Otherwise the message row records the template and its version, and the
email is rendered again from the template for the lead as they are now: identical when the
template and the lead's data have not changed since, and the page says which it is.

Looking at an email must not count as reading it: the open pixel is removed, click-tracking
links are decoded to the destination they name and every link is disarmed (``#``, with the
destination in its title and in the list of links), and unsubscribe links point nowhere.
The page that serves it adds a Content-Security-Policy with no scripts and a sandbox.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.models import Campaign, Lead, Message, OutboxMessage
from nurture.platform.config import Settings
from nurture.rendering.library import TemplateError, TemplateLibrary, build_context
from nurture.tracking.links import CLICK_PATH, LinkSigner

Source = Literal["outbox", "rendered", "unavailable"]

_HREF = re.compile(r"""(\bhref\s*=\s*)(["'])(.*?)\2""", re.I | re.S)
_IMG = re.compile(r"<img\b[^>]*>", re.I | re.S)
_SCRIPT = re.compile(r"<script\b.*?</script\s*>|<script\b[^>]*>", re.I | re.S)
_META_REFRESH = re.compile(r"<meta\b[^>]*http-equiv\s*=\s*[\"']?refresh[^>]*>", re.I | re.S)
_PIXEL_PATH = "/t/o/"
_UNSUBSCRIBE_PATH = "/u/"


@dataclass(frozen=True)
class EmailLink:
    """A link of the email: its position and where it leads (tracking removed)."""

    position: int
    url: str
    hidden: bool = False  # the honeypot link scanners follow and people never see


@dataclass(frozen=True)
class EmailCopy:
    """What the message view shows."""

    source: Source
    subject: str | None
    html: str = ""
    text: str = ""
    links: list[EmailLink] = field(default_factory=list)
    # Re-rendered: the template version the message was sent with and the one used now.
    sent_version: str | None = None
    rendered_version: str | None = None
    problem: str | None = None

    @property
    def same_version(self) -> bool:
        return self.sent_version is not None and self.sent_version == self.rendered_version


def lead_message(session: Session, lead_id: int, message_id: int) -> Message | None:
    """The message ``message_id`` if it was sent to the lead ``lead_id``, else None."""
    return session.scalar(
        select(Message).where(Message.id == message_id, Message.lead_id == lead_id)
    )


def email_copy(
    session: Session,
    settings: Settings,
    library: TemplateLibrary,
    signer: LinkSigner,
    message: Message,
    lead: Lead,
) -> EmailCopy:
    """The email ``message`` as sent (outbox copy) or rendered again, disarmed."""
    if lead.erased_at is not None:
        return EmailCopy("unavailable", None, problem="erased")
    stored = session.scalar(
        select(OutboxMessage.raw)
        .where(OutboxMessage.message_id == message.id)
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    if stored is not None:
        parsed = message_from_bytes(stored, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        body_html, body_text = _parts(parsed)
        clean, links = disarm(body_html, settings.public_url, signer)
        subject = str(parsed.get("Subject", message.subject or ""))
        return EmailCopy("outbox", subject, clean, body_text, links)
    if message.kind != "campaign":
        # Notifications and confirmations are rendered from data of their moment (a
        # handoff, a link) that cannot be rebuilt faithfully.
        return EmailCopy("unavailable", message.subject, problem="not_kept")
    campaign = (
        session.get(Campaign, message.campaign_id) if message.campaign_id is not None else None
    )
    base = f"{settings.public_url}/u/preview"
    urls = {
        "unsubscribe_url": base,
        "preferences_url": f"{base}/preferences",
        "open_pixel_url": f"{settings.public_url}{_PIXEL_PATH}preview.gif",
    }
    try:
        context = build_context(lead, campaign=campaign, urls=urls, settings=settings)
        rendered = library.render(message.template, context, lead.locale or settings.default_locale)
    except TemplateError:
        return EmailCopy(
            "unavailable",
            message.subject,
            sent_version=message.template_version,
            problem="template_broken",
        )
    clean, links = disarm(rendered.html, settings.public_url, signer)
    return EmailCopy(
        "rendered",
        rendered.subject,
        clean,
        rendered.text,
        links,
        sent_version=message.template_version,
        rendered_version=rendered.version,
    )


def _parts(parsed: EmailMessage) -> tuple[str, str]:
    body_html = parsed.get_body(preferencelist=("html",))
    body_text = parsed.get_body(preferencelist=("plain",))
    html_text = str(body_html.get_content()) if isinstance(body_html, EmailMessage) else ""
    plain = str(body_text.get_content()) if isinstance(body_text, EmailMessage) else ""
    if not html_text and plain:
        html_text = f"<pre>{html.escape(plain)}</pre>"
    return html_text, plain


def disarm(document: str, public_url: str, signer: LinkSigner) -> tuple[str, list[EmailLink]]:
    """``document`` with nothing that reaches the tracking endpoints when shown: no open
    pixel, no script, every link pointing at ``#`` (its destination in ``title``); and the
    links' destinations, click tracking decoded (pure, apart from the signature check)."""
    links: list[EmailLink] = []

    def link(match: re.Match[str]) -> str:
        url = html.unescape(match.group(3)).strip()
        hidden = False
        if CLICK_PATH in url:
            payload = re.split(r"[?#]", url.split(CLICK_PATH, 1)[1], maxsplit=1)[0]
            target = signer.load_click(payload)
            if target is not None:
                url, hidden = target.url, target.is_honeypot
        elif url.startswith(public_url + _UNSUBSCRIBE_PATH):
            url = "(unsubscribe link)"
        if not url.startswith("#"):
            links.append(EmailLink(len(links) + 1, url, hidden))
        return f'{match.group(1)}"#" title="{html.escape(url)}"'

    def image(match: re.Match[str]) -> str:
        tag = match.group(0)
        return "" if _PIXEL_PATH in tag or CLICK_PATH in tag else tag

    clean = _SCRIPT.sub("", document)
    clean = _META_REFRESH.sub("", clean)
    clean = _IMG.sub(image, clean)
    clean = _HREF.sub(link, clean)
    # Anything left that names a tracking endpoint (a CSS background, a srcset) goes too.
    clean = re.sub(r"https?://[^\s\"'()<>]*(?:/t/o/|/t/c/)[^\s\"'()<>]*", "#", clean)
    return clean, links
