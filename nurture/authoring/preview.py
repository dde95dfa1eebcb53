"""Previews of an email as a lead would get it, and test sends of them to their author.

The real rendering pipeline renders the template (the saved one, or the editor's unsaved
text through :mod:`nurture.authoring.workspace`) for the sample lead or a real lead, with
the preview URLs ``nurture preview`` uses: never the lead's own unsubscribe or tracking
tokens, so a click in a preview cannot unsubscribe anyone and no open is recorded. Links
are not rewritten for click tracking either (that happens only when a real send is built).

A preview is kept for an hour (:data:`PREVIEW_LIFETIME`) for its author only: the page
shows its HTML in a sandboxed frame loaded by its own URL, and a test send mails exactly
what was shown.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from nurture.authoring.checks import Finding, template_finding, written_parts
from nurture.authoring.workspace import template_workspace
from nurture.consent.brand import branded_settings, current_brand
from nurture.leads.queries import get_lead
from nurture.models import EmailPreview
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime
from nurture.rendering.context import (
    CampaignView,
    preview_urls,
    sample_extras,
    settings_sender,
)
from nurture.rendering.library import (
    RenderedEmail,
    TemplateError,
    TemplateLibrary,
    build_context,
    render_limits,
    sample_context,
    template_library,
)
from nurture.sending.delivery import DeliveryResult
from nurture.sending.direct import build_direct_message, send_now

PREVIEW_LIFETIME = timedelta(hours=1)
# ``PreviewRequest.language`` asking for the default files whoever the lead is.
DEFAULT_FILES = "default"
TEST_PREFIX = "[Test] "


class PreviewError(Exception):
    """The preview cannot be made: no such lead or template, or the template is broken
    (``findings`` then says where)."""

    def __init__(self, message: str, findings: tuple[Finding, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.findings = findings


@dataclass(frozen=True)
class PreviewRequest:
    """What to preview: a template (its saved files, or the editor's ``parts``), for a lead
    (an email address; None: the sample lead), optionally as a step of a campaign, in the
    variant for ``language`` (None: the lead's own language, as a send would choose;
    :data:`DEFAULT_FILES`: the default files)."""

    template: str
    parts: Mapping[str, str | None] | None = None
    lead_email: str | None = None
    campaign_key: str | None = None
    campaign_name: str | None = None
    step_id: str | None = None
    language: str | None = None


def make_preview(runtime: Runtime, request: PreviewRequest, *, user_id: int, now: datetime) -> str:
    """Render ``request`` and keep it for ``user_id``; returns the preview's token.

    Raises PreviewError with a message for people (and the template's problems).
    """
    campaign = (
        _CampaignRef(request.campaign_key, request.campaign_name or request.campaign_key)
        if request.campaign_key
        else None
    )
    with transaction(runtime.sessions) as session:
        # The instance's brand, as a send would show it (not the sample's).
        settings = branded_settings(runtime.settings, current_brand(session, runtime.settings))
        lead_id = None
        locale = request.language
        if request.lead_email:
            lead = _find_lead(session, request.lead_email)
            lead_id = lead.id
            # The language a send would choose: the lead's, else the instance's.
            locale = locale or lead.locale
            context = build_context(
                lead,
                campaign=campaign,
                urls=preview_urls(settings.public_url),
                settings=settings,
            )
        else:
            context = sample_context(
                public_url=settings.public_url, sender=settings_sender(settings)
            )
            if campaign is not None:
                context["campaign"] = CampaignView(campaign.id, campaign.name)
        rendered = _render(
            runtime,
            request,
            context,
            None if locale == DEFAULT_FILES else locale or settings.default_locale,
        )
        session.execute(
            delete(EmailPreview).where(EmailPreview.created_at < now - PREVIEW_LIFETIME)
        )
        token = secrets.token_urlsafe(32)
        session.add(
            EmailPreview(
                token=token,
                user_id=user_id,
                template=request.template,
                campaign_key=request.campaign_key,
                step_id=request.step_id,
                lead_id=lead_id,
                edited=request.parts is not None,
                sender=runtime.settings.mail_from,
                subject=rendered.subject,
                html=rendered.html,
                text=rendered.text,
                created_at=now,
            )
        )
    return token


@dataclass
class _CampaignRef:
    """The campaign an email is previewed in, as ``build_context`` reads it."""

    id: str
    name: str


def _find_lead(session: Session, email: str) -> Any:
    # Addresses only: a number would be taken as a lead id by get_lead.
    lead = get_lead(session, email) if "@" in email and "\x00" not in email else None
    if lead is None or lead.erased_at is not None:
        raise PreviewError(f"No lead has the address {email[:320]}.")
    return lead


def _render(
    runtime: Runtime, request: PreviewRequest, context: dict[str, Any], locale: str | None
) -> RenderedEmail:
    name = request.template
    if request.parts is None:
        library = template_library(runtime)
        if not library.exists(name):
            raise PreviewError(f"There is no template called {name[:200]}.")
        return _render_with(library, name, context, locale, None)
    root = runtime.settings.templates_path
    with template_workspace(root, name, written_parts(request.parts)) as work:
        library = TemplateLibrary(work, check_interval=0, limits=render_limits(runtime.settings))
        return _render_with(library, name, context, locale, (work, root))


def _render_with(
    library: TemplateLibrary,
    name: str,
    context: dict[str, Any],
    locale: str | None,
    workspace: tuple[Any, Any] | None,
) -> RenderedEmail:
    try:
        compiled = library.get(name, locale)
        extras = sample_extras(compiled.meta.get("context"), sparse=False)
        return compiled.render({**context, **extras})
    except TemplateError as error:
        if workspace is None:
            root = library.root
            findings = tuple(template_finding(p, root, root, name) for p in error.problems)
        else:
            work, real = workspace
            findings = tuple(template_finding(p, work, real, name) for p in error.problems)
        raise PreviewError(
            "The template does not render; fix its problems first.", findings
        ) from error


def get_preview(
    session: Session, token: str, *, user_id: int, now: datetime
) -> EmailPreview | None:
    """The preview ``token`` of ``user_id`` while it lasts, else None."""
    if len(token) > 64:
        return None
    return session.scalar(
        select(EmailPreview).where(
            EmailPreview.token == token,
            EmailPreview.user_id == user_id,
            EmailPreview.created_at >= now - PREVIEW_LIFETIME,
        )
    )


@dataclass(frozen=True)
class TestSend:
    """What a test send did: to whom, with which subject, and what the server answered."""

    to: str
    subject: str
    result: DeliveryResult


def send_test(runtime: Runtime, preview: EmailPreview, *, to: str) -> TestSend:
    """Mail ``preview`` as it was shown to ``to`` (its author's own address), the subject
    marked as a test; through the configured transport, at once."""
    settings = runtime.settings
    subject = TEST_PREFIX + preview.subject
    data = build_direct_message(
        settings, to=to, subject=subject, text=preview.text, html=preview.html
    )
    result = send_now(settings, runtime.sessions, to=to, subject=subject, data=data)
    return TestSend(to, subject, result)
