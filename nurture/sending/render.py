"""Rendering a decided batch: each message's template, click tracking and MIME bytes.

Runs after phase one has committed (the design requires it), on the engine's thread, while
the delivery lane sends the batch before.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from nurture.consent.brand import Brand, branded_settings, current_brand
from nurture.platform.config import Settings
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime
from nurture.rendering.library import TemplateError, TemplateLibrary, build_context
from nurture.sending.delivery import Outgoing
from nurture.sending.kinds import INTERNAL_KINDS
from nurture.sending.mime import MessageBuilder
from nurture.sending.specs import SpecCache
from nurture.sending.tick import Outcome, Prepared
from nurture.tracking.links import link_signer, track_links
from nurture.tracking.tokens import MessageSigner, message_urls

log = logging.getLogger(__name__)


@dataclass
class Built:
    """A batch ready for the transport: MIME bytes per message, and the outcomes known
    before sending (template errors)."""

    prepared: list[Prepared]
    outgoing: list[Outgoing] = field(default_factory=list)
    sendable: list[tuple[Prepared, str, str]] = field(default_factory=list)
    results: dict[int, Outcome] = field(default_factory=dict)


class BatchRenderer:
    """Renders batches for the engine: per message its template, click tracking, headers
    and MIME bytes."""

    def __init__(
        self,
        runtime: Runtime,
        templates: TemplateLibrary,
        specs: SpecCache,
        *,
        envelope_address: str,
        mail_domain: str,
    ) -> None:
        self.runtime = runtime
        self.settings: Settings = runtime.settings
        self.templates = templates
        self.signer = MessageSigner(runtime.settings.secret_key)
        self.builder = MessageBuilder()
        self._specs = specs
        self._envelope_address = envelope_address
        self._mail_domain = mail_domain
        self._brand: Brand | None = None
        self._branded: Settings = runtime.settings

    def refresh_brand(self) -> Settings:
        """The settings emails are rendered with: the company name, postal address, colour
        and logo of the brand page (nurture.consent.brand), read once per batch (it caches
        them)."""
        with self.runtime.sessions() as session:
            brand = current_brand(session, self.settings)
        if brand != self._brand:
            self._brand = brand
            self._branded = branded_settings(self.settings, brand)
        return self._branded

    def render_batch(self, prepared: list[Prepared], now: datetime) -> Built:
        """Render and build the MIME bytes of a batch; template errors fail only their email."""
        built = Built(prepared)
        self.refresh_brand()
        for item in prepared:
            try:
                data, subject, version = self.build_message(item, now)
            except TemplateError as exc:
                # Validation should have caught this; never let one email stop the batch.
                log.error(
                    "template %s failed for message %s: %s", item.template, item.message_pk, exc
                )
                built.results[item.message_pk] = (None, None, None, f"template error: {exc}")
                continue
            built.outgoing.append(
                Outgoing(
                    message_pk=item.message_pk,
                    envelope_from=self._envelope_address,
                    to=item.to_address,
                    data=data,
                    subject=subject,
                )
            )
            built.sendable.append((item, subject, version))
        return built

    def build_message(self, item: Prepared, now: datetime) -> tuple[bytes, str, str]:
        """One message's MIME bytes, subject and template version."""
        signed = self.signer.sign(item.token)
        urls = message_urls(self.settings.public_url, signed)
        if self._brand is None:
            self.refresh_brand()
        context = build_context(
            item.lead, campaign=item.campaign, urls=urls, settings=self._branded
        )
        if item.extra:
            context.update(item.extra)
        # An internal email (a handoff notification to a rep) is not about the recipient's
        # engagement: no click tracking, and no unsubscribe header that would unsubscribe
        # the lead it is about. It is written in its reader's language, not the lead's.
        internal = item.kind in INTERNAL_KINDS
        locale = item.locale or (None if internal else item.lead.locale)
        # Every email of the batch has the same sender: its values are folded into the
        # template once (``CompiledTemplate.for_sender``), not printed again per email.
        compiled = self.templates.get(item.template, locale or self.settings.default_locale)
        rendered = compiled.for_sender(context["sender"]).render(context)
        if not internal:
            # Click tracking (nurture/tracking/links.py): signed click URLs, the campaign's UTM, a
            # honeypot.
            version = item.campaign.active_version_id if item.campaign else None
            spec = self._specs.by_version.get(version or 0)
            if spec is None and version:  # a retry after a restart: the spec is not cached
                with transaction(self.runtime.sessions) as session:
                    spec = self._specs.spec(session, version)
            rendered = track_links(
                rendered, token=item.token, signer=link_signer(self.settings.secret_key),
                public_url=self.settings.public_url, utm=spec.utm if spec else None,
            )  # fmt: skip
        headers = {"X-Nurture-Message": item.token}
        if not internal:
            headers = {
                "List-Unsubscribe": (
                    f"<{urls['unsubscribe_url']}>, "
                    f"<mailto:unsubscribe+{item.token}@{self._mail_domain}>"
                ),
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                **headers,
            }
        data = self.builder.build_email(
            rendered,
            from_addr=self.settings.mail_from,
            to_addr=item.to_address,
            message_id=item.message_id,
            date=now,
            headers=headers,
        )
        return data, rendered.subject, rendered.version
