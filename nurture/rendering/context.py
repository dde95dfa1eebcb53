"""The context an email template sees: plain, read-only values built once per email.

Templates never see ORM objects. A template is rendered in a sandbox, possibly long after the
session that loaded the lead was closed, so the engine copies the few fields a template may
use into small frozen objects (attribute access keeps templates readable: ``lead.first_name``).
The contract is documented in docs/templates.md; ``sample_context`` is what template
validation and ``nurture preview --sample`` render against.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from functools import lru_cache
from typing import Any, Protocol

from nurture.models import Lead, LeadRow
from nurture.platform.config import Settings

# The URL keys every context must carry: the layout's footer and open pixel use them.
URL_KEYS = ("unsubscribe_url", "preferences_url", "open_pixel_url")
# The buttons and links of emails when the brand names no colour of its own.
DEFAULT_COLOUR = "#1b5fd1"


@dataclass(frozen=True, slots=True)
class AccountView:
    """The company a lead works for."""

    name: str | None
    domain: str | None
    industry: str | None
    employees: int | None
    annual_revenue: int | None
    # ISO 3166 alpha-2 code, e.g. "US".
    country: str | None
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LeadView:
    """The recipient."""

    email: str
    first_name: str | None
    last_name: str | None
    # First and last name, or the email address when neither is known.
    full_name: str
    title: str | None
    phone: str | None
    locale: str | None
    timezone: str | None
    stage: str
    temperature: str
    # The account's name, or None when the lead has no account (or it has no name).
    company: str | None
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CampaignView:
    """The campaign sending the email (``id`` is the campaign file's ``id:``)."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class SenderView:
    """Who the email is from, and the postal address the law wants in every footer."""

    name: str
    email: str
    company_name: str
    postal_address: str
    # "#rrggbb" of buttons, links and headings; the absolute URL of the logo, or None.
    colour: str = DEFAULT_COLOUR
    logo_url: str | None = None


# Used to explain StrictUndefined errors ("lead has no field 'frist_name'; did you mean…").
CONTEXT_TYPES: dict[type, str] = {
    LeadView: "lead",
    AccountView: "account",
    CampaignView: "campaign",
    SenderView: "sender",
}


class _CampaignLike(Protocol):
    name: str


def build_context(
    lead: Lead | LeadRow,
    *,
    campaign: _CampaignLike | None = None,
    urls: Mapping[str, str],
    settings: Settings,
) -> dict[str, Any]:
    """Build the template context for one email to ``lead``.

    ``campaign`` is the ORM ``Campaign`` (its ``key`` becomes ``campaign.id``) or a parsed
    ``nurture.campaigns.spec.Campaign``; None outside a campaign. ``urls`` must hold
    ``unsubscribe_url``, ``preferences_url`` and ``open_pixel_url``. ``lead.account`` is read,
    so load it eagerly (``selectinload``) when building many contexts, or each lead costs a
    query.
    """
    missing = [key for key in URL_KEYS if key not in urls]
    if missing:
        raise ValueError(f"build_context needs these URLs: {', '.join(missing)}")
    account = lead.account
    account_view = (
        None
        if account is None
        else AccountView(
            name=account.name,
            domain=account.domain,
            industry=account.industry,
            employees=account.employees,
            annual_revenue=account.annual_revenue,
            country=account.country,
            attributes=dict(account.attributes or {}),
        )
    )
    lead_view = LeadView(
        email=lead.email,
        first_name=lead.first_name or None,
        last_name=lead.last_name or None,
        full_name=lead.full_name,
        title=lead.title or None,
        phone=lead.phone or None,
        locale=lead.locale,
        timezone=lead.timezone,
        stage=lead.stage,
        temperature=lead.temperature,
        company=account_view.name if account_view else None,
        attributes=dict(lead.attributes or {}),
    )
    campaign_view = None
    if campaign is not None:
        # The ORM row's ``key`` is the stable id from the campaign file; its ``id`` is a
        # database number no template should depend on.
        key = getattr(campaign, "key", None) or getattr(campaign, "id", "")
        campaign_view = CampaignView(id=str(key), name=campaign.name)
    return {
        "lead": lead_view,
        "account": account_view,
        "campaign": campaign_view,
        "sender": settings_sender(settings),
        "unsubscribe_url": str(urls["unsubscribe_url"]),
        "preferences_url": str(urls["preferences_url"]),
        "open_pixel_url": str(urls["open_pixel_url"]),
    }


def preview_urls(public_url: str) -> dict[str, str]:
    """The URLs of a preview of a real lead's email: harmless placeholders, not the lead's
    tokens, so a click in a preview never unsubscribes the lead or counts as an open (the
    tracking edge ignores them)."""
    base = f"{public_url}/u/preview"
    return {
        "unsubscribe_url": base,
        "preferences_url": f"{base}/preferences",
        "open_pixel_url": f"{public_url}/t/o/preview.gif",
    }


def settings_sender(settings: Settings) -> SenderView:
    """The sender of emails rendered with ``settings`` (whose brand values the sending side
    fills from the brand page: ``nurture.consent.brand.branded_settings``)."""
    return sender_view(
        settings.mail_from,
        settings.company_name,
        settings.postal_address,
        settings.brand_colour,
        settings.logo_url,
    )


@lru_cache(maxsize=16)
def sender_view(
    mail_from: str,
    company_name: str,
    postal_address: str,
    colour: str | None = None,
    logo_url: str | None = None,
) -> SenderView:
    """The sender object for these values (cached: every email of an instance shares it)."""
    name, email = parseaddr(mail_from)
    return SenderView(
        name=name or company_name,
        email=email or mail_from,
        company_name=company_name,
        postal_address=postal_address,
        colour=colour or DEFAULT_COLOUR,
        logo_url=logo_url,
    )


# What validation and sample previews show as the sender: plainly a sample, never a real
# company's details (the footer check swaps in the instance's own brand).
SAMPLE_SENDER = SenderView(
    name="Example Company",
    email="hello@example.com",
    company_name="Example Company",
    postal_address="Example Company, 1 Sample Street, Sample City",
)


# Samples of what transactional templates see besides the lead, by the ``context:`` their
# meta.yaml declares (``handoff``, ``handoff-reply``, ``handoff-sla``). The features that
# send those emails register them at start-up (``nurture.wiring``); template validation
# renders every template against them.
SampleFactory = Callable[[bool], dict[str, Any]]
_SAMPLES: dict[str, SampleFactory] = {}


def register_samples(context_kind: str, factory: SampleFactory) -> None:
    """Make ``factory(sparse)`` the sample extras of templates with ``context: <kind>``."""
    _SAMPLES[context_kind] = factory


def sample_extras(context_kind: str | None, *, sparse: bool) -> dict[str, Any]:
    """What a template declaring ``context: <kind>`` sees on top of the lead context."""
    factory = _SAMPLES.get(context_kind) if context_kind else None
    return factory(sparse) if factory else {}


def sample_context(
    *,
    sparse: bool = False,
    public_url: str = "https://nurture.example",
    sender: SenderView | None = None,
) -> dict:
    """A realistic context for validation and previews.

    The full sample is a VP at a mid-sized company inside a campaign. ``sparse=True`` is the
    least we may know about someone: an email address, no name, no account, no campaign.
    ``sender`` is the instance's (previews), else a plain sample. Templates are validated
    against both, so a template that prints ``account.name`` without
    ``{% if account %}`` fails validation instead of failing a send.
    """

    sender = SAMPLE_SENDER if sender is None else sender
    urls = {
        "unsubscribe_url": f"{public_url}/u/sample",
        "preferences_url": f"{public_url}/u/sample/preferences",
        "open_pixel_url": f"{public_url}/t/o/sample.gif",
    }
    if sparse:
        lead = LeadView(
            email="someone@example.org",
            first_name=None,
            last_name=None,
            full_name="someone@example.org",
            title=None,
            phone=None,
            locale=None,
            timezone=None,
            stage="subscriber",
            temperature="cold",
            company=None,
            attributes={},
        )
        return {"lead": lead, "account": None, "campaign": None, "sender": sender, **urls}
    account = AccountView(
        name="Northwind Logistics",
        domain="northwind.example",
        industry="Logistics",
        employees=420,
        annual_revenue=85_000_000,
        country="US",
        attributes={"crm": "Salesforce", "segment": "mid-market"},
    )
    lead = LeadView(
        email="dana.whitfield@northwind.example",
        first_name="Dana",
        last_name="Whitfield",
        full_name="Dana Whitfield",
        title="VP of Revenue Operations",
        phone="+1 555 0100",
        locale="en-US",
        timezone="America/Chicago",
        stage="lead",
        temperature="warm",
        company=account.name,
        attributes={"crm": "Salesforce", "team_size": 12},
    )
    campaign = CampaignView(id="b2b-nurture", name="B2B nurture")
    return {"lead": lead, "account": account, "campaign": campaign, "sender": sender, **urls}
