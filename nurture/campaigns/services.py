"""Use cases that span the core's parts, each one transaction, for the CLI, API and worker."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload

from nurture.campaigns.enrolment import EnrolmentOutcome, enrol_lead
from nurture.campaigns.sync import SyncReport, campaign_spec_for_version, sync_campaigns
from nurture.consent.brand import Brand, current_brand, settings_brand
from nurture.files.event_catalogue import event_catalogue
from nurture.files.watch import FileWatcher, folder_stamp
from nurture.leads.queries import get_lead
from nurture.models import Campaign, Lead
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime
from nurture.rendering.library import TemplateLibrary, TemplateProblem, template_library


def template_checks(
    library: TemplateLibrary, brand: Brand
) -> tuple[Callable[[str], bool], Callable[[str], list[TemplateProblem]]]:
    """The callables the campaign validator uses to check the templates campaigns send:
    each must render for the sample leads and carry the unsubscribe and preferences links
    and ``brand``'s postal address."""

    def problems(name: str) -> list[TemplateProblem]:
        return library.campaign_problems(
            name, company_name=brand.company_name, postal_address=brand.postal_address
        )

    return library.exists, problems


def email_brand(runtime: Runtime) -> Brand:
    """The company name and postal address campaign emails are sent with: the brand page's,
    where it set them, else the settings' (``NURTURE_COMPANY_NAME``,
    ``NURTURE_POSTAL_ADDRESS``)."""
    # ``nurture campaigns validate`` also runs where no database was ever set up (a CI
    # check of the files): nothing can have been set on the brand page there, and opening
    # an SQLite file that does not exist would create it.
    from_env = settings_brand(runtime.settings)
    url = runtime.engine.url
    file = url.database if url.get_backend_name() == "sqlite" else None
    if file not in (None, "", ":memory:") and not Path(str(file)).exists():
        return from_env
    try:
        with runtime.sessions() as session:
            return current_brand(session, runtime.settings)
    except SQLAlchemyError:
        return from_env


def sync_campaign_files(runtime: Runtime, *, now: datetime, path: Path | None = None) -> SyncReport:
    """Load the campaign folder into the database (new versions for changed valid files; a
    broken file leaves its previous version active). Returns the sync report."""

    exists, problems = template_checks(template_library(runtime), email_brand(runtime))
    with transaction(runtime.sessions) as session:
        return sync_campaigns(
            session,
            path or runtime.settings.campaigns_path,
            now=now,
            template_exists=exists,
            template_problems=problems,
            catalogue=event_catalogue(runtime.settings),
        )


class NotFound(LookupError):
    """A named lead or campaign does not exist."""


def enrol_by_email(
    runtime: Runtime, email: str, campaign_key: str, *, now: datetime, via: str = "manual"
) -> EnrolmentOutcome:
    """Enrol the lead ``email`` (or lead id) in the campaign ``campaign_key`` by hand or API."""

    with transaction(runtime.sessions) as session:
        lead = get_lead(session, email)
        if lead is None:
            raise NotFound(f"no lead {email}")
        campaign = session.scalar(select(Campaign).where(Campaign.key == campaign_key))
        if campaign is None or campaign.active_version_id is None:
            raise NotFound(f"no active campaign {campaign_key!r}")
        spec = campaign_spec_for_version(session, campaign.active_version_id)
        if not spec.manual:
            return EnrolmentOutcome(None, "campaign does not allow manual enrolment")
        return enrol_lead(session, lead, campaign, spec, now, via=via)


# Leads per transaction of a bulk enrolment: short write locks, one commit per batch.
BULK_BATCH = 500


@dataclass
class BulkEnrolment:
    """What ``enrol_leads`` did: how many were enrolled, and each refusal reason's count."""

    campaign: str
    enrolled: int = 0
    refused: Counter[str] = field(default_factory=Counter)

    @property
    def considered(self) -> int:
        return self.enrolled + sum(self.refused.values())


def enrol_leads(
    runtime: Runtime,
    batches: Iterable[Sequence[int]],
    campaign_key: str,
    *,
    now: datetime,
    via: str = "bulk",
) -> BulkEnrolment:
    """Enrol the leads of ``batches`` (lead ids, e.g. a filtered list read page by page) in
    the campaign ``campaign_key``: the same rules as one manual enrolment (``enrol_lead``),
    one transaction per batch, so a large set never holds the write lock for long and a
    failure keeps the batches already committed. Raises ``NotFound`` for an unknown or
    inactive campaign; a campaign without ``manual`` enrolment refuses everyone."""
    with transaction(runtime.sessions) as session:
        campaign = session.scalar(select(Campaign).where(Campaign.key == campaign_key))
        if campaign is None or campaign.active_version_id is None:
            raise NotFound(f"no active campaign {campaign_key!r}")
        manual = campaign_spec_for_version(session, campaign.active_version_id).manual
    summary = BulkEnrolment(campaign_key)
    for ids in batches:
        if not manual:
            summary.refused["campaign does not allow manual enrolment"] += len(ids)
            continue
        with transaction(runtime.sessions) as session:
            campaign = session.scalar(select(Campaign).where(Campaign.key == campaign_key))
            if campaign is None or campaign.active_version_id is None:
                raise NotFound(f"no active campaign {campaign_key!r}")
            spec = campaign_spec_for_version(session, campaign.active_version_id)
            leads = session.scalars(
                select(Lead)
                .where(Lead.id.in_(list(ids)))
                .order_by(Lead.id)
                .options(selectinload(Lead.account))
            ).all()
            for lead in leads:
                outcome = enrol_lead(session, lead, campaign, spec, now, via=via)
                if outcome.enrolled:
                    summary.enrolled += 1
                else:
                    summary.refused[outcome.reason] += 1
            summary.refused["lead no longer exists"] += len(ids) - len(leads)
    summary.refused = +summary.refused  # drop zero counts
    return summary


class CampaignWatcher(FileWatcher[SyncReport]):
    """Re-syncs campaign files into the database when any of them changes on disk.

    A broken edit is reported and the previous valid version stays active.
    """

    def __init__(self, runtime: Runtime, on_report: Callable[[SyncReport], None] | None = None):
        super().__init__(
            lambda: {"campaigns": runtime.settings.campaigns_path},
            lambda _kind, path, now: sync_campaign_files(runtime, now=now, path=path),
            on_report,
            stamp=folder_stamp,
            depends_on=lambda: runtime.settings.events_file,
        )
