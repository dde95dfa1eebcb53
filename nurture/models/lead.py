"""Leads: the people being nurtured."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nurture.platform.db import Base, utcnow
from nurture.platform.decay import DEFAULT_HALF_LIFE, decayed, score_rank

if TYPE_CHECKING:
    from nurture.models.account import Account


class Lead(Base):
    """A person: profile, lifecycle stage, engagement and consent."""

    __tablename__ = "leads"
    __table_args__ = (
        # The lead list's orders (docs/web/leads.md): each a (key, id) pair, so a page is
        # one index range scan whatever the table's size, and keyset pagination is exact;
        # created_at also finds the leads created in a period (the home page's new leads).
        # On PostgreSQL it carries the fields the reports group by (grade, account for the
        # segment, source; nurture.analytics.scope), so a report reads a period's leads,
        # and joins stage changes to their leads, from the index instead of the wide rows.
        Index(
            "ix_leads_created_at_id_groups",
            "created_at",
            "id",
            postgresql_include=["fit_grade", "account_id", "source"],
        ),
        # The leads not erased, newest first: the default order's page of a filter on
        # another table (a campaign's leads) is walked from this index alone
        # (nurture.reports.leads).
        Index(
            "ix_leads_live_created_at_id",
            "created_at",
            "id",
            postgresql_where=text("erased_at IS NULL"),
            sqlite_where=text("erased_at IS NULL"),
        ),
        Index("ix_leads_last_activity_at_id", "last_activity_at", "id"),
        # An account's people: each account's best grade among its live people
        # (readiness's account condition, for every account an import's batch touches) is
        # read from this index alone, and its engaged people (warm, hot) are found without
        # reading the others; it serves every lookup by account too.
        Index(
            "ix_leads_account_id_erased_at_temperature_fit_grade",
            "account_id",
            "erased_at",
            "temperature",
            "fit_grade",
        ),
        Index("ix_leads_score_rank_id", "score_rank", "id"),
        Index("ix_leads_name_key_id", "name_key", "id"),
        # Prefix search: ``LIKE 'jan%'`` uses a btree index on PostgreSQL only with the
        # pattern operator class (or the C collation).
        Index("ix_leads_email_pattern", "email", postgresql_ops={"email": "text_pattern_ops"}),
        Index(
            "ix_leads_name_key_pattern", "name_key", postgresql_ops={"name_key": "text_pattern_ops"}
        ),
        Index(
            "ix_leads_full_name_key_pattern",
            "full_name_key",
            postgresql_ops={"full_name_key": "text_pattern_ops"},
        ),
        # The suppression list searched by address prefix (settings, sending): only the
        # suppressed leads, in an order a LIKE 'prefix%' can range-scan on PostgreSQL
        # whatever the database's collation.
        Index(
            "ix_leads_suppressed_email",
            "email",
            postgresql_ops={"email": "text_pattern_ops"},
            postgresql_where=text("suppressed_at IS NOT NULL"),
            sqlite_where=text("suppressed_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Normalised by email-validator (domain lower-cased, IDN to ASCII); unique.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    # IANA zone name; null means the configured default.
    timezone: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(20))
    source: Mapped[str | None] = mapped_column(String(100))
    utm_source: Mapped[str | None] = mapped_column(String(200))
    utm_medium: Mapped[str | None] = mapped_column(String(200))
    utm_campaign: Mapped[str | None] = mapped_column(String(200))
    utm_term: Mapped[str | None] = mapped_column(String(200))
    utm_content: Mapped[str | None] = mapped_column(String(200))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    stage: Mapped[str] = mapped_column(String(20), default="subscriber", index=True)
    stage_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    temperature: Mapped[str] = mapped_column(String(10), default="cold")
    # Behavioural score stored as (value, as_of); the decayed value is computed on read.
    score_value: Mapped[float] = mapped_column(Float, default=0.0)
    score_as_of: Mapped[datetime | None]
    # Scoring issue: the model version and half-life (seconds) the score was computed with,
    # when the decayed score next falls below the floor of the lead's temperature band (the
    # worker re-checks exactly then), and the latest hand-raising event (demo request, ...).
    score_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("scoring_versions.id", ondelete="SET NULL")
    )
    score_half_life: Mapped[float | None] = mapped_column(Float)
    temperature_cools_at: Mapped[datetime | None] = mapped_column(index=True)
    hand_raised_at: Mapped[datetime | None]
    # Fit against the ideal customer profile (nurture.qualification): score 0-100, grade
    # A-D, the reason for every point and what is missing, and the ICP version used.
    fit_score: Mapped[int | None]
    fit_grade: Mapped[str | None] = mapped_column(String(1), index=True)
    fit_reasons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    fit_missing: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    fit_graded_at: Mapped[datetime | None]
    fit_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("qualification_versions.id", ondelete="SET NULL")
    )

    # Indexed first in ix_leads_account_id_erased_at_temperature_fit_grade.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    account: Mapped[Account | None] = relationship(back_populates="leads")
    # The salesperson who owns the lead since its handoff (nurture.handoff).
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("sales_reps.id", ondelete="SET NULL"), index=True
    )

    # Consent: how and when the person agreed, and on what lawful basis.
    consent_status: Mapped[str] = mapped_column(String(20), default="unknown")
    lawful_basis: Mapped[str | None] = mapped_column(String(30))
    consent_source: Mapped[str | None] = mapped_column(String(200))
    consent_text: Mapped[str | None] = mapped_column(String(500))
    consent_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]
    # Consent evidence (privacy issue): the IP it came from (when NURTURE_CONSENT_IP allows),
    # the version of the wording agreed to, and when a double opt-in was confirmed.
    consent_ip: Mapped[str | None] = mapped_column(String(45))
    consent_version: Mapped[str | None] = mapped_column(String(50))
    consent_confirmed_at: Mapped[datetime | None]
    # Copied from the suppression list so the per-send check stays a column read.
    suppressed_at: Mapped[datetime | None]
    suppression_reason: Mapped[str | None] = mapped_column(String(20))
    # Bounces (nurture.sending.bounces): soft bounces since the last successful contact, and the
    # time of the latest bounce of any kind.
    soft_bounce_count: Mapped[int] = mapped_column(default=0, server_default="0")
    bounced_at: Mapped[datetime | None]
    # Preference centre: topics the person no longer wants (campaigns declare a topic).
    topic_opt_outs: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    # Set when the person's data was erased; the row stays as an anonymous tombstone.
    erased_at: Mapped[datetime | None]

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    # Kept for the lead list (sorting and search), derived from the columns above on every
    # ORM insert and update (``_derive_keys`` below): "last first" lower-cased (the email
    # when there is no name), "first last" lower-cased, and the score's sort key
    # (``nurture.platform.decay.score_rank``).
    name_key: Mapped[str] = mapped_column(String(320), default="", server_default="")
    full_name_key: Mapped[str] = mapped_column(String(201), default="", server_default="")
    score_rank: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    # The latest human activity: the lead's creation, then every open, click, page view,
    # form or API event the tracking processor records for it.
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)

    def decayed_score(self, now: datetime) -> float:
        """The behavioural score at ``now``: (value, as_of) decayed with the half-life it
        was computed with (the default half-life for leads never scored by a model)."""
        return decayed_score(self.score_value, self.score_as_of, self.score_half_life, now)

    @property
    def full_name(self) -> str:
        """First and last name, or the email address when neither is known."""
        return full_name(self.first_name, self.last_name, self.email)


def decayed_score(
    value: float | None, as_of: datetime | None, half_life: float | None, now: datetime
) -> float:
    """``Lead.decayed_score`` from the columns (for reports that read columns, not leads)."""
    span = timedelta(seconds=half_life) if half_life else DEFAULT_HALF_LIFE
    return decayed(value or 0.0, as_of, now, span)


def full_name(first_name: str | None, last_name: str | None, email: str) -> str:
    """``Lead.full_name`` from the columns."""
    return " ".join(part for part in (first_name, last_name) if part) or email


def name_keys(first_name: str | None, last_name: str | None, email: str) -> tuple[str, str]:
    """(``name_key``, ``full_name_key``) of a lead with these names and address."""
    first = (first_name or "").strip().lower()
    last = (last_name or "").strip().lower()
    sort = f"{last} {first}".strip() or email.lower()
    return sort[:320], f"{first} {last}".strip()[:201]


@event.listens_for(Lead, "before_insert")
@event.listens_for(Lead, "before_update")
def _derive_keys(_mapper: object, _connection: object, lead: Lead) -> None:
    # Every path that writes a lead through the ORM (intake, import, edits, erasure,
    # scoring) keeps the list's sort and search keys in step, without each knowing them.
    derive_keys(lead)


def derive_keys(lead: Lead) -> None:
    """Set the lead's derived columns (sort and search keys, score rank, first activity)
    from its other columns, as every ORM write does."""
    values = {name: getattr(lead, name) for name in _DERIVED_FROM}
    for name, value in derived_columns(values).items():
        setattr(lead, name, value)


# The columns the derived ones are computed from.
_DERIVED_FROM = (
    "email",
    "first_name",
    "last_name",
    "score_value",
    "score_as_of",
    "score_half_life",
    "last_activity_at",
    "created_at",
)


def derived_columns(values: Mapping[str, Any]) -> dict[str, Any]:
    """The derived columns of a lead (``derive_keys``) from its column values by attribute
    name (a missing one is None): a path that inserts leads as plain rows sets them in
    the rows itself."""
    email = values["email"]
    name_key, full_name_key = name_keys(values.get("first_name"), values.get("last_name"), email)
    half_life_seconds = values.get("score_half_life")
    half_life = timedelta(seconds=half_life_seconds) if half_life_seconds else DEFAULT_HALF_LIFE
    derived = {
        "name_key": name_key,
        "full_name_key": full_name_key,
        "score_rank": score_rank(
            values.get("score_value") or 0.0, values.get("score_as_of"), half_life
        ),
    }
    if values.get("last_activity_at") is None:
        derived["last_activity_at"] = values.get("created_at") or utcnow()
    return derived
