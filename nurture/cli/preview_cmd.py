"""Command: ``nurture preview TEMPLATE [--lead EMAIL] [--locale TAG]`` writes the email a
lead (or the built-in sample lead) would get, in the lead's language variant or the one
asked for."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from nurture.campaigns.services import email_brand
from nurture.cli.group import cli, runtime
from nurture.consent.brand import branded_settings
from nurture.models import Lead
from nurture.platform.config import Settings
from nurture.platform.i18n import LocaleError, normalise_locale
from nurture.platform.runtime import Runtime
from nurture.rendering.context import preview_urls, sample_extras, settings_sender
from nurture.rendering.library import (
    RenderedEmail,
    TemplateError,
    build_context,
    sample_context,
    template_library,
)


@cli.command("preview")
@click.argument("template")
@click.option("--lead", "lead_email", metavar="EMAIL", help="Render for this lead.")
@click.option("--sample", is_flag=True, help="Render for the built-in sample lead (the default).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write it (default: <instance>/previews/<template>-<lead>.html).",
)
@click.option("--text", "as_text", is_flag=True, help="Write the plain-text part instead.")
@click.option(
    "--locale",
    metavar="TAG",
    help="The language variant to render (e.g. pl); default: the lead's, else NURTURE_LOCALE.",
)
def preview_command(
    template: str,
    lead_email: str | None,
    sample: bool,
    out: Path | None,
    as_text: bool,
    locale: str | None,
) -> None:
    """Write the real HTML (or text) of TEMPLATE as a lead would get it, and print the
    subject. Without --lead it is the sample lead, as in the web app's preview. Links and
    the open pixel point at harmless preview URLs."""
    if lead_email and sample:
        raise click.UsageError("give either --lead EMAIL or --sample, not both")
    if locale is not None:
        try:
            locale = normalise_locale(locale)
        except LocaleError as exc:
            raise click.BadParameter(str(exc), param_hint="--locale") from exc
    rt = runtime()
    # The instance's brand (Settings → Brand, else the environment), as a send would show it.
    settings = branded_settings(rt.settings, email_brand(rt))
    library = template_library(rt)
    if locale is not None and library.language_for(template, locale) is None:
        click.echo(
            f"{template} has no {locale} variant (it has: "
            f"{', '.join(library.languages(template)) or 'none'}): the default is shown",
            err=True,
        )
    if not library.exists(template):
        known = ", ".join(library.names()) or "none"
        raise click.ClickException(f"no template named {template!r} (known: {known})")
    try:
        # Handoff emails also need a handoff (meta.yaml ``context``): a sample one.
        extras = sample_extras(library.get(template).meta.get("context"), sparse=False)
        if not lead_email:
            sender = settings_sender(settings)
            context = {**sample_context(public_url=settings.public_url, sender=sender), **extras}
            rendered = library.render(template, context, locale or settings.default_locale)
            who = "sample"
        else:
            rendered, who = _render_for_lead(rt, settings, template, lead_email, extras, locale)
    except TemplateError as error:
        details = "\n".join(f"  {problem}" for problem in error.problems)
        raise click.ClickException(f"template {template!r} is broken:\n{details}") from error

    suffix = ".txt" if as_text else ".html"
    path = out or settings.instance_path / "previews" / f"{template}-{_file_safe(who)}{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(rendered.text if as_text else rendered.html, encoding="utf-8")
    click.echo(f"Subject: {rendered.subject}")
    click.echo(f"Wrote {path}")


def _render_for_lead(
    rt: Runtime,
    settings: Settings,
    template: str,
    email: str,
    extras: dict[str, Any],
    locale: str | None,
) -> tuple[RenderedEmail, str]:
    """Render for the lead with this email (any case); returns the email and its address."""
    # Preview URLs, not real tokens: a click in a preview must not unsubscribe the lead or
    # count as an open.
    urls = preview_urls(settings.public_url)
    with rt.sessions() as session:
        lead = session.scalars(
            select(Lead)
            .where(func.lower(Lead.email) == email.strip().lower())
            .options(selectinload(Lead.account))
        ).first()
        if lead is None:
            raise click.ClickException(f"no lead with email {email!r}; {_known_leads(session)}")
        context = build_context(lead, campaign=None, urls=urls, settings=settings)
        language = locale or lead.locale or settings.default_locale
    return template_library(rt).render(template, {**context, **extras}, language), lead.email


def _known_leads(session: Session) -> str:
    """Where to find a lead that exists, for the message about one that does not."""
    some = list(
        session.scalars(
            select(Lead.email).where(Lead.erased_at.is_(None)).order_by(Lead.id).limit(3)
        )
    )
    if not some:
        return (
            "there are no leads yet (nurture leads import FILE adds some); "
            "leave out --lead to preview for the sample lead"
        )
    return (
        f"leads include {', '.join(some)} (nurture leads list shows more); "
        "leave out --lead to preview for the sample lead"
    )


def _file_safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9@._-]+", "_", text)
