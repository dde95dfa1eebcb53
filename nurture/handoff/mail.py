"""The handoff's emails: queued as ordinary ``Message`` rows, rendered by the engine.

Like the double opt-in confirmation, each is queued "deferred, due now", so the engine's
retry pass renders and sends it at its next tick (``NURTURE_TICK_SECONDS``, 5 s by
default) through the same transport, retries and outcome recording as campaign email:

- ``kind="handoff"``, template ``sales-handoff``: to the owner (or, when nobody could take
  the lead, the team manager). Internal: no click tracking, no open pixel, no unsubscribe
  header — a rep's click must never count as the lead's engagement or unsubscribe the lead.
- ``kind="auto_reply"``, template ``handoff-auto-reply``: to a hand-raiser, naming the rep.

``template_extras`` is what the engine adds to the template context for these kinds: the
handoff's stored snapshot and the recipient's signed accept/reject links.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from nurture.handoff.links import HandoffLinks
from nurture.handoff.notification import Words, present
from nurture.models import Handoff, Message
from nurture.platform.config import Settings
from nurture.platform.i18n import DEFAULT_LOCALE
from nurture.platform.runtime import settings_of
from nurture.sending import kinds

# The handoff's kinds; the SLA's reminder to the owner and escalation to the manager
# (nurture.handoff.sla) are queued here too.
KINDS = {
    kind.name: kind
    for kind in (kinds.HANDOFF, kinds.AUTO_REPLY, kinds.SLA_REMINDER, kinds.SLA_ESCALATION)
}


def queue(
    session: Session, handoff: Handoff, *, kind: str, to_address: str, now: datetime
) -> Message:
    """Queue one handoff email, due at once (sent at the engine's next tick)."""
    settings = settings_of(session)
    mail_from = settings.mail_from if settings else "nurture@localhost"
    message = kinds.queue_message(
        session,
        KINDS[kind],
        lead_id=handoff.lead_id,
        to_address=to_address,
        mail_from=mail_from,
        now=now,
    )
    session.flush()
    return message


def notification_locale(snapshot: dict[str, Any], default: str = DEFAULT_LOCALE) -> str:
    """The language the rep reads the notification in when their account names none: the
    snapshot's ``locale`` when the handoff recorded one, else the instance's default."""
    locale = snapshot.get("locale")
    return locale if isinstance(locale, str) and locale else default


def link_expiry(handoff: Handoff) -> datetime:
    """When the handoff's accept/reject links stop working."""
    days = (handoff.snapshot or {}).get("link_expiry_days") or 14
    return handoff.created_at + timedelta(days=days)


def template_extras(
    session: Session, messages: Sequence[Message], settings: Settings, now: datetime
) -> dict[int, dict[str, Any]]:
    """Extra template context of the notification and auto-reply among ``messages``, by
    message id (registered with ``nurture.sending.kinds`` for those kinds), as of ``now``:
    the notification's relative times and labels are made when it is rendered
    (``nurture.handoff.notification``)."""
    wanted = [m for m in messages if m.kind in (kinds.HANDOFF.name, kinds.AUTO_REPLY.name)]
    if not wanted:
        return {}
    ids = [m.id for m in wanted]
    handoffs = session.scalars(
        select(Handoff).where(
            or_(Handoff.notification_message_id.in_(ids), Handoff.auto_reply_message_id.in_(ids))
        )
    ).all()
    links = HandoffLinks(settings.secret_key, settings.public_url)
    # The rep reads the notification in their own language (the account page's), else in
    # the language the handoff recorded.
    addresses = {m.id: m.to_address for m in wanted}
    readers = kinds.recipient_locales(session, set(addresses.values()))
    extras: dict[int, dict[str, Any]] = {}
    for handoff in handoffs:
        snapshot = dict(handoff.snapshot or {})
        if handoff.notification_message_id in ids:
            urls = links.urls(handoff.token, handoff.rep_id, link_expiry(handoff))
            address = addresses[handoff.notification_message_id].lower()
            words = Words(
                readers.get(address) or notification_locale(snapshot, settings.default_locale)
            )
            shown = present(
                snapshot, now, words, details_url=f"{settings.public_url}/leads/{handoff.lead_id}"
            )
            extras[handoff.notification_message_id] = {
                "handoff": {
                    **shown,
                    "id": handoff.id,
                    "to_manager": handoff.rep_id is None,
                    "links": urls,
                    "expires": words.day(link_expiry(handoff)),
                },
                **words.template_functions(),
            }
        if handoff.auto_reply_message_id in ids:
            extras[handoff.auto_reply_message_id] = {"reply": snapshot.get("auto_reply") or {}}
    return extras
