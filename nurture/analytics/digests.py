"""The weekly digest: the funnel's headline figures of the last week, and what changed, by
email to each person who asked for it (docs/analytics.md, "Weekly digest").

Who gets it: active accounts whose role may read reports (``reports.view``) and who turned
it on (their account page, or ``nurture users digest``). Each digest is claimed in the
database before it is sent — one row per person and week, under a unique key — so two
passes (or a restarted worker) never send the same week twice; a refused send is tried
again at the next pass, up to ``MAX_ATTEMPTS`` times.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel.dates import format_date
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.analytics.digest import Change, changes, notable, reported_week
from nurture.analytics.filters import ReportFilter
from nurture.analytics.funnel import funnel_report
from nurture.auth.roles import REPORTS_VIEW, may
from nurture.consent.brand import current_brand
from nurture.models import ReportDigest, User
from nurture.platform.db import transaction
from nurture.platform.i18n import DEFAULT_LOCALE, best_locale, shipped_locales, translations
from nurture.platform.runtime import Runtime
from nurture.sending.direct import build_direct_message, send_now
from nurture.sending.kinds import recipient_locales

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# A claim older than this whose outcome was never written (the worker died mid-send) is
# tried again.
STALE_CLAIM = timedelta(hours=1)
# How many sources the digest names (by MQLs, then new leads).
TOP_SOURCES = 3
TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class SourceLine:
    """One of the week's top sources."""

    source: str | None
    leads: int
    mql: int


@dataclass(frozen=True)
class Digest:
    """What one week's digest says (the same for every reader)."""

    week_start: date
    week_end: date
    figures: list[Change]
    changed: list[Change]
    sources: list[SourceLine]


def build_digest(session: Session, week_start: date) -> Digest:
    """The digest of the week starting on ``week_start`` (a Monday), against the week
    before it."""
    week_end = week_start + timedelta(days=7)
    current = funnel_report(session, ReportFilter(start=week_start, end=week_end)).rows[0]
    previous = funnel_report(
        session, ReportFilter(start=week_start - timedelta(days=7), end=week_start)
    ).rows[0]
    found = changes(current.counts, current.rates, previous.counts, previous.rates)
    by_source = funnel_report(
        session, ReportFilter(start=week_start, end=week_end, group_by="source")
    ).rows
    ranked = sorted(
        (row for row in by_source if row.counts["leads"] or row.counts["mql"]),
        key=lambda row: (-row.counts["mql"], -row.counts["leads"], row.group or ""),
    )
    sources = [
        SourceLine(row.group, row.counts["leads"], row.counts["mql"])
        for row in ranked[:TOP_SOURCES]
    ]
    return Digest(week_start, week_end, found, notable(found), sources)


@dataclass(frozen=True)
class RenderedDigest:
    """A digest as an email: subject, plain text and HTML."""

    subject: str
    text: str
    html: str


def render_digest(
    digest: Digest, *, company: str, reports_url: str, locale: str = "en"
) -> RenderedDigest:
    """The digest in ``locale`` (the app's shipped translations; English otherwise), its
    dates written the way that language writes them (Babel)."""
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.install_gettext_translations(  # type: ignore[attr-defined]
        translations(locale), newstyle=True
    )
    language = best_locale(locale, shipped_locales()) or DEFAULT_LOCALE
    last_day = digest.week_end - timedelta(days=1)
    context: dict[str, Any] = {
        "digest": digest,
        "company": company,
        "reports_url": reports_url,
        "last_day": last_day,
        "lang": language.replace("_", "-"),
        "first_day_text": format_date(digest.week_start, "medium", locale=language),
        "last_day_text": format_date(last_day, "medium", locale=language),
    }
    subject = environment.get_template("digest_subject.txt").render(context).strip()
    return RenderedDigest(
        subject=subject,
        text=environment.get_template("digest.txt").render(context),
        html=environment.get_template("digest.html").render(context),
    )


def reports_link(public_url: str, digest: Digest) -> str:
    """The reports page of the digest's week."""
    query = urlencode({"from": digest.week_start.isoformat(), "to": digest.week_end.isoformat()})
    return f"{public_url}/reports?{query}"


@dataclass(frozen=True)
class DigestPass:
    """What one pass did: the week, and how many digests went out or were refused."""

    week_start: date
    sent: int = 0
    failed: int = 0

    @property
    def anything(self) -> bool:
        """True when the pass sent or tried to send something."""
        return bool(self.sent or self.failed)

    def __str__(self) -> str:
        return f"weekly digest of {self.week_start}: {self.sent} sent, {self.failed} refused"


def readers(session: Session) -> list[User]:
    """The people who get the digest: active, opted in, and allowed to read reports."""
    found = session.scalars(
        select(User).where(User.weekly_digest.is_(True), User.disabled_at.is_(None))
    )
    return [user for user in found if may(user.role, REPORTS_VIEW)]


def send_due_digests(runtime: Runtime, now: datetime, week_start: date | None = None) -> DigestPass:
    """Send the digest of the last complete week (or of the week starting ``week_start``)
    to each reader who has not had it."""
    week_start = week_start or reported_week(now)[0]
    with transaction(runtime.sessions) as session:
        claimed = _claim(session, week_start, now)
        if not claimed:
            return DigestPass(week_start)
        digest = build_digest(session, week_start)
        company = current_brand(session, runtime.settings).company_name
    with runtime.sessions() as session:
        languages = recipient_locales(session, {address for _, address in claimed})
    by_locale: dict[str, RenderedDigest] = {}
    sent = failed = 0
    for digest_id, address in claimed:
        # Each reader's own language: rendered once per language, not once per reader.
        locale = languages.get(address.lower(), runtime.settings.default_locale)
        if locale not in by_locale:
            by_locale[locale] = render_digest(
                digest,
                company=company,
                reports_url=reports_link(runtime.settings.public_url, digest),
                locale=locale,
            )
        rendered = by_locale[locale]
        data = build_direct_message(
            runtime.settings,
            to=address,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
        )
        try:
            result = send_now(
                runtime.settings, runtime.sessions, to=address, subject=rendered.subject, data=data
            )
            error = None if result.status == "sent" else (result.reply or result.status)
            final = result.status == "permanent"
        except OSError as exc:
            error, final = str(exc) or type(exc).__name__, False
        with transaction(runtime.sessions) as session:
            row = session.get(ReportDigest, digest_id)
            if row is not None:
                row.status = "failed" if error else "sent"
                row.sent_at = None if error else now
                row.error = error[:500] if error else None
                if final:
                    # A refused address (5xx) stays refused: no more attempts this week.
                    row.attempts = MAX_ATTEMPTS
        if error:
            failed += 1
            log.warning("weekly digest %s could not be sent: %s", digest_id, error[:200])
        else:
            sent += 1
    return DigestPass(week_start, sent, failed)


def _claim(session: Session, week_start: date, now: datetime) -> list[tuple[int, str]]:
    people = readers(session)
    if not people:
        return []
    rows = {
        row.user_id: row
        for row in session.scalars(
            select(ReportDigest).where(
                ReportDigest.week_start == week_start,
                ReportDigest.user_id.in_([user.id for user in people]),
            )
        )
    }
    claimed: list[tuple[int, str]] = []
    for user in people:
        row = rows.get(user.id)
        if row is None:
            row = ReportDigest(
                user_id=user.id, week_start=week_start, status="claimed", attempts=0,
                claimed_at=now,
            )  # fmt: skip
            session.add(row)
        elif not _retry(row, now):
            continue
        row.status = "claimed"
        row.attempts += 1
        row.claimed_at = now
        session.flush()
        claimed.append((row.id, user.email))
    return claimed


def _retry(row: ReportDigest, now: datetime) -> bool:
    if row.attempts >= MAX_ATTEMPTS:
        return False
    if row.status == "failed":
        return True
    return row.status == "claimed" and row.claimed_at <= now - STALE_CLAIM
