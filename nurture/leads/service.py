"""The lead service: validate and normalise what arrives, then create or update leads.

Two layers live here. ``validate_lead_data`` is a pure rule: it takes a mapping (a JSON object
from the API, a CSV row after header mapping, a form) and returns normalised ``LeadFields``
or per-field reasons. ``upsert_lead``/``upsert_leads`` are the use case: they find the lead by
its normalised email, change only what was given, link the lead to its company's account,
record a timeline event and fire the lead-created trigger, all inside the caller's
transaction.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import idna
from sqlalchemy import insert, inspect, select
from sqlalchemy.orm import Session, selectinload

from nurture.consent import suppression as suppressions
from nurture.leads.lifecycle import IMPORT_ACTOR, change_stage
from nurture.leads.stages import LIFECYCLE_STAGES
from nurture.models import Account, AuditLog, Event, Lead
from nurture.platform import hooks
from nurture.platform.addresses import normalise_email

DEFAULT_STAGE = "subscriber"
CONSENT_STATUSES = ("granted", "pending", "unknown", "withdrawn")
LAWFUL_BASES = ("consent", "legitimate_interest", "contract", "legal_obligation")

# Addresses at these providers say nothing about the person's employer, so they never create
# or join an account by their domain. Deployments will be able to extend the list through
# settings; callers pass the effective set as ``free_mail_domains``.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.ru",
        "yandex.ru",
        "qq.com",
        "163.com",
    }
)

# ISO 3166-1 alpha-2, officially assigned codes, plus XK (Kosovo), which ISO has not assigned
# but the EU, SWIFT and most CRMs use.
COUNTRY_CODES = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
    GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS YE YT ZA ZM ZW XK
    """.split()  # noqa: SIM905 - a 250-item list literal is far harder to proofread
)
# "UK" is not an ISO code but is what people type for the United Kingdom.
_COUNTRY_ALIASES = {"UK": "GB"}

# Maximum lengths follow the model columns, so a valid value always fits its column.
_TEXT_LIMITS = {
    "first_name": 100,
    "last_name": 100,
    "title": 200,
    "source": 100,
    "utm_source": 200,
    "utm_medium": 200,
    "utm_campaign": 200,
    "utm_term": 200,
    "utm_content": 200,
    "consent_source": 200,
    "consent_text": 500,
    "company": 200,
    "industry": 100,
}
_PHONE_MAX = 50
_LOCALE_MAX = 20
_TIMEZONE_MAX = 64
_DOMAIN_MAX = 253
_ATTRIBUTE_KEY_MAX = 64
_ATTRIBUTE_TEXT_MAX = 1000
_ATTRIBUTE_LIST_MAX = 100
# employees and branches are INTEGER columns, annual_revenue is BIGINT.
_INT32_MAX = 2**31 - 1
_INT64_MAX = 2**63 - 1

ALLOWED_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "title",
    "phone",
    "timezone",
    "locale",
    "source",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "stage",
    "consent_status",
    "lawful_basis",
    "consent_source",
    "consent_text",
    "consent_at",
    "attributes",
    "company",
    "company_domain",
    "industry",
    "employees",
    "annual_revenue",
    "branches",
    "country",
)

_ALLOWED = frozenset(ALLOWED_FIELDS)

# Lead columns that take the given value whenever one is given.
_OVERWRITTEN_COLUMNS = (
    "first_name",
    "last_name",
    "title",
    "phone",
    "timezone",
    "locale",
    "consent_status",
    "lawful_basis",
    "consent_source",
    "consent_text",
    "consent_at",
)
# First-touch attribution: where the lead first came from is kept; a later touch fills these
# only while they are empty. (A later touch is still visible in its lead.updated event.)
_FIRST_TOUCH_COLUMNS = (
    "source",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
)
# Columns a caller may give fill-only defaults for (e.g. the import's --consent-basis).
DEFAULTABLE_COLUMNS = frozenset(
    {"lawful_basis", "consent_source", "consent_text", "timezone", "locale", "source"}
)
# Lead field -> account column filled from it when the account's column is empty.
_ACCOUNT_FILL = {
    "company": "name",
    "industry": "industry",
    "employees": "employees",
    "annual_revenue": "annual_revenue",
    "branches": "branches",
    "country": "country",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class LeadFields:
    """Validated, normalised lead data. ``None`` means "not given" (never "clear it")."""

    email: str
    first_name: str | None = None
    last_name: str | None = None
    title: str | None = None
    phone: str | None = None
    timezone: str | None = None
    locale: str | None = None
    source: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    stage: str | None = None
    consent_status: str | None = None
    lawful_basis: str | None = None
    consent_source: str | None = None
    consent_text: str | None = None
    consent_at: datetime | None = None
    # Custom attributes to merge key by key; a ``None`` value removes that key.
    attributes: dict[str, Any] | None = None
    company: str | None = None
    company_domain: str | None = None
    industry: str | None = None
    employees: int | None = None
    annual_revenue: int | None = None
    branches: int | None = None
    country: str | None = None

    @property
    def email_domain(self) -> str:
        """The (ASCII, lower-case) domain of the email address."""
        return self.email.rpartition("@")[2]

    def given(self) -> set[str]:
        """Names of the fields that carry a value."""
        return {f.name for f in fields(self) if getattr(self, f.name) is not None}

    def has_company_data(self) -> bool:
        """True when any account field (other than the domain) was given."""
        return any(getattr(self, name) is not None for name in _ACCOUNT_FILL)


@dataclass(slots=True)
class UpsertResult:
    """What ``upsert_lead`` did to one lead."""

    lead: Lead
    created: bool
    # Lead fields whose stored value changed ("account" when the lead joined an account).
    changed: set[str]
    account_created: bool = False
    # (old stage, new stage) when an explicit stage moved an existing lead.
    stage_change: tuple[str, str] | None = None
    # Company data was given but no account could be determined (a free-mail address
    # without company_domain), so it was not stored.
    unlinked_company: bool = False
    # Empty fields of an existing account were filled from this lead's company data.
    account_filled: bool = False


# ---------------------------------------------------------------- validation (pure)


def validate_lead_data(
    data: Mapping[str, Any],
    *,
    default_timezone: str | tzinfo,
    email_normaliser: Callable[[object], str] = normalise_email,
) -> tuple[LeadFields | None, dict[str, str]]:
    """Validate and normalise one lead's data.

    Returns ``(fields, {})`` when everything is valid, else ``(None, errors)`` with one reason
    per offending field (``attributes.<key>`` for a bad custom attribute). Empty strings and
    ``None`` mean "not given". ``default_timezone`` interprets a ``consent_at`` that has no
    UTC offset. ``email_normaliser`` replaces ``normalise_email`` (the CSV import passes a
    memoised one, because it validates every row twice).
    """
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if not isinstance(data, Mapping):
        return None, {"_": "a lead must be a JSON object"}
    try:
        values["email"] = email_normaliser(data.get("email"))
    except ValueError as exc:
        errors["email"] = str(exc)
    for name, raw in data.items():
        if name == "email":
            continue
        if name not in _ALLOWED:
            errors[str(name)] = "unknown field; allowed: " + ", ".join(ALLOWED_FIELDS)
            continue
        if _is_blank(raw):
            continue
        try:
            if name == "attributes":
                attributes, attribute_errors = _clean_attributes(raw)
                errors.update(attribute_errors)
                if attributes:
                    values[name] = attributes
                continue
            value = _VALIDATORS[name](raw, default_timezone)
        except ValueError as exc:
            errors[name] = str(exc)
            continue
        if value is not None:
            values[name] = value
    if errors:
        return None, errors
    return LeadFields(**values), {}


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_SPACE_RE = re.compile(r"\s+")


def _text(value: object, limit: int) -> str | None:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    # Collapse runs of whitespace (including tabs and newlines from spreadsheets) so names
    # compare equal however they were typed; other control characters are refused.
    text = _SPACE_RE.sub(" ", value).strip()
    if _CONTROL_RE.search(text):
        raise ValueError("contains control characters")
    if len(text) > limit:
        raise ValueError(f"at most {limit} characters")
    return text or None


def _text_field(name: str) -> Any:
    limit = _TEXT_LIMITS[name]
    return lambda value, _tz: _text(value, limit)


_PHONE_RE = re.compile(r"^\+?[0-9(][0-9 ().\-/]*(?:\s*(?:x|ext\.?|#)\s*[0-9]{1,6})?$", re.I)


def _phone(value: object, _tz: object) -> str | None:
    text = _text(value, _PHONE_MAX)
    if text is None:
        return None
    if not _PHONE_RE.match(text):
        raise ValueError(
            "not a phone number: use digits, spaces, + - ( ) . / and an optional extension (x123)"
        )
    main = re.split(r"(?i)x|ext|#", text, maxsplit=1)[0]
    digits = sum(ch.isdigit() for ch in main)
    if not 3 <= digits <= 20:
        raise ValueError("a phone number has between 3 and 20 digits")
    return text


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    # Lower-case name -> canonical IANA name, so "europe/berlin" is accepted and stored as
    # "Europe/Berlin". "localtime" and "Factory" are files in the zone database, not zones.
    names = available_timezones() - {"localtime", "Factory"}
    return {name.lower(): name for name in names}


def _timezone(value: object, _tz: object) -> str | None:
    text = _text(value, _TIMEZONE_MAX)
    if text is None:
        return None
    canonical = _zone_names().get(text.lower())
    if canonical is None:
        raise ValueError(f"unknown time zone {text!r}: use an IANA name such as Europe/Berlin")
    return canonical


_LOCALE_RE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")


def _locale(value: object, _tz: object) -> str | None:
    text = _text(value, _LOCALE_MAX)
    if text is None:
        return None
    if not _LOCALE_RE.match(text):
        raise ValueError("not a locale: use a BCP 47 tag such as en, en-US or pt-BR")
    language, *subtags = re.split(r"[-_]", text)
    normalised = [language.lower()]
    for tag in subtags:
        if len(tag) == 2 and tag.isalpha():
            normalised.append(tag.upper())  # region
        elif len(tag) == 4 and tag.isalpha():
            normalised.append(tag.title())  # script
        else:
            normalised.append(tag.lower())
    return "-".join(normalised)


def _choice(options: Sequence[str], what: str) -> Any:
    def check(value: object, _tz: object) -> str | None:
        if not isinstance(value, str):
            raise ValueError("must be a string")
        text = _SPACE_RE.sub("_", value.strip().lower()).replace("-", "_")
        if text not in options:
            raise ValueError(f"unknown {what} {value.strip()!r}; use one of: {', '.join(options)}")
        return text

    return check


def _timestamp(value: object, default_timezone: str | tzinfo) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                "not an ISO 8601 timestamp: use e.g. 2025-03-01T09:30:00Z or 2025-03-01"
            ) from None
    else:
        raise ValueError("must be an ISO 8601 timestamp string")
    if moment.tzinfo is None:
        zone = default_timezone if isinstance(default_timezone, tzinfo) else _zone(default_timezone)
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"the default time zone {name!r} is not a time zone") from exc


def _integer(maximum: int) -> Any:
    def check(value: object, _tz: object) -> int | None:
        if isinstance(value, bool):
            raise ValueError("must be a whole number")
        if isinstance(value, float):
            if not value.is_integer():
                raise ValueError("must be a whole number")
            number = int(value)
        elif isinstance(value, int):
            number = value
        elif isinstance(value, str):
            # Thousands separators as spreadsheets write them: 1,200 / 1 200 / 1_200.
            digits = re.sub(r"[,_\s\u00a0]", "", value)
            if not re.fullmatch(r"[+-]?[0-9]+", digits):
                raise ValueError(f"must be a whole number, not {value.strip()!r}")
            number = int(digits)
        else:
            raise ValueError("must be a whole number")
        if number < 0:
            raise ValueError("must be 0 or more")
        if number > maximum:
            raise ValueError(f"at most {maximum}")
        return number

    return check


def _country(value: object, _tz: object) -> str | None:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    code = value.strip().upper()
    code = _COUNTRY_ALIASES.get(code, code)
    if code not in COUNTRY_CODES:
        raise ValueError(
            f"{value.strip()!r} is not an ISO 3166 alpha-2 country code (e.g. DE, US, GB)"
        )
    return code


_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def normalise_domain(raw: object) -> str:
    """Return a bare lower-case ASCII domain from a domain or website URL, or raise
    ValueError. ``https://www.Bücher.de/about`` becomes ``xn--bcher-kva.de``."""
    if not isinstance(raw, str):
        raise ValueError("must be a string")
    text = raw.strip().lower()
    text = re.sub(r"^[a-z][a-z0-9+.\-]*://", "", text)
    text = re.split(r"[/?#]", text, maxsplit=1)[0]
    text = text.rsplit(":", 1)[0] if re.search(r":[0-9]*$", text) else text
    text = text.rstrip(".")
    text = text.removeprefix("www.")
    if not text:
        raise ValueError("required")
    if "@" in text:
        raise ValueError("a domain, not an email address (e.g. acme.com)")
    try:
        ascii_domain = idna.encode(text, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise ValueError(f"not a valid domain: {exc}") from exc
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL_RE.match(label) for label in labels):
        raise ValueError(f"{raw.strip()!r} is not a domain name (e.g. acme.com)")
    if len(ascii_domain) > _DOMAIN_MAX:
        raise ValueError(f"at most {_DOMAIN_MAX} characters")
    return ascii_domain


def _is_scalar(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, str | int | bool)


def _clean_attributes(value: object) -> tuple[dict[str, Any], dict[str, str]]:
    if not isinstance(value, Mapping):
        return {}, {"attributes": "must be an object of key: value pairs"}
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key.strip():
            errors["attributes"] = "attribute names must be non-empty strings"
            continue
        name = key.strip()
        where = f"attributes.{name[:_ATTRIBUTE_KEY_MAX]}"
        if len(name) > _ATTRIBUTE_KEY_MAX:
            errors[where] = f"attribute names have at most {_ATTRIBUTE_KEY_MAX} characters"
            continue
        if isinstance(item, list | tuple):
            if len(item) > _ATTRIBUTE_LIST_MAX:
                errors[where] = f"a list has at most {_ATTRIBUTE_LIST_MAX} items"
            elif not all(_is_scalar(v) and v is not None for v in item):
                errors[where] = "list items must be strings, numbers or booleans"
            elif any(isinstance(v, str) and len(v) > _ATTRIBUTE_TEXT_MAX for v in item):
                errors[where] = f"text values have at most {_ATTRIBUTE_TEXT_MAX} characters"
            else:
                cleaned[name] = list(item)
        elif _is_scalar(item):
            if isinstance(item, str) and len(item) > _ATTRIBUTE_TEXT_MAX:
                errors[where] = f"text values have at most {_ATTRIBUTE_TEXT_MAX} characters"
            else:
                cleaned[name] = item
        else:
            errors[where] = "must be a string, number, boolean, null or a list of those"
    return cleaned, errors


_VALIDATORS: dict[str, Any] = {
    "phone": _phone,
    "timezone": _timezone,
    "locale": _locale,
    "stage": _choice(LIFECYCLE_STAGES, "stage"),
    "consent_status": _choice(CONSENT_STATUSES, "consent status"),
    "lawful_basis": _choice(LAWFUL_BASES, "lawful basis"),
    "consent_at": _timestamp,
    "company_domain": lambda value, _tz: normalise_domain(value),
    "employees": _integer(_INT32_MAX),
    "branches": _integer(_INT32_MAX),
    "annual_revenue": _integer(_INT64_MAX),
    "country": _country,
    **{name: _text_field(name) for name in _TEXT_LIMITS},
}


def account_domain(
    lead_fields: LeadFields, free_mail_domains: frozenset[str] = FREE_MAIL_DOMAINS
) -> str | None:
    """The domain whose account the lead should join: the explicit ``company_domain``, else
    the email's domain unless it is a free-mail provider."""
    if lead_fields.company_domain:
        return lead_fields.company_domain
    domain = lead_fields.email_domain
    return None if domain in free_mail_domains else domain


# ---------------------------------------------------------------- upsert (use case)


def upsert_lead(
    session: Session,
    lead_fields: LeadFields,
    *,
    now: datetime,
    source: str,
    defaults: Mapping[str, Any] | None = None,
    free_mail_domains: frozenset[str] = FREE_MAIL_DOMAINS,
) -> UpsertResult:
    """Create or update the lead with ``lead_fields.email`` (see ``upsert_leads``)."""
    return upsert_leads(
        session,
        [lead_fields],
        now=now,
        source=source,
        defaults=defaults,
        free_mail_domains=free_mail_domains,
    )[0]


def upsert_leads(
    session: Session,
    items: Sequence[LeadFields],
    *,
    now: datetime,
    source: str,
    defaults: Mapping[str, Any] | None = None,
    free_mail_domains: frozenset[str] = FREE_MAIL_DOMAINS,
    double_opt_in: bool = False,
) -> list[UpsertResult]:
    """Create or update many leads in the caller's transaction, one result per item.

    Rules, per item:

    - The lead is found by normalised email. A new lead gets stage ``subscriber`` unless a
      stage is given, ``source`` = the given source or the channel ``source`` ("api", "csv").
    - On update only given fields change; ``None`` leaves the stored value. ``attributes``
      merge key by key (a ``None`` value removes a key). ``source`` and ``utm_*`` are
      first-touch attribution: they are filled when empty and never overwritten.
    - The stage changes only when a stage is given explicitly; the change (even backwards)
      is recorded with its old and new value in the ``lead.updated`` event.
    - Account: an explicit ``company_domain`` always links the lead to that domain's
      account. Otherwise a lead that has no account joins the account of its email domain,
      unless that is a free-mail provider. The account is created when missing; its empty
      fields are filled from the lead's company data, non-empty ones are never overwritten.
    - ``defaults`` (columns in ``DEFAULTABLE_COLUMNS``) fill a column only while it is empty.
    - A ``lead.created``/``lead.updated`` event is recorded (nothing for an unchanged lead)
      and ``hooks.lead_created`` is sent for every new lead.
    - With ``double_opt_in``, given ``granted`` consent is stored as ``pending`` until the
      person confirms (``nurture.privacy.double_opt_in``); a suppressed address comes back
      suppressed, and every consent change is written to the audit log.
    """
    defaults = dict(defaults or {})
    unknown = set(defaults) - DEFAULTABLE_COLUMNS
    if unknown:
        raise ValueError(
            f"no defaults for {sorted(unknown)}; allowed: {sorted(DEFAULTABLE_COLUMNS)}"
        )
    if not items:
        return []

    emails = {item.email for item in items}
    leads = {
        lead.email: lead for lead in session.scalars(select(Lead).where(Lead.email.in_(emails)))
    }
    # An address on the suppression list (unsubscribed, bounced, erased...) comes back
    # suppressed: an import or API call is not new consent (nurture.consent.suppression.lift is).
    suppressed = suppressions.suppressions_for(session, emails - leads.keys())
    accounts = _Accounts(session, now)
    accounts.prefetch(
        domains={d for item in items if (d := account_domain(item, free_mail_domains))},
        ids={lead.account_id for lead in leads.values() if lead.account_id is not None},
    )

    results: list[UpsertResult] = []
    for item in items:
        lead = leads.get(item.email)
        confirmed = lead is not None and lead.consent_confirmed_at is not None
        if double_opt_in and item.consent_status == "granted" and not confirmed:
            item = replace(item, consent_status="pending")
        if lead is None:
            lead = _new_lead(item, now=now, source=source, defaults=defaults)
            if item.email in suppressed:
                suppressions.mark_lead_suppressed(
                    lead, reason=suppressed[item.email].reason, now=now
                )
            session.add(lead)
            leads[item.email] = lead
            result = UpsertResult(lead=lead, created=True, changed=_given_lead_fields(item))
        else:
            before = lead.stage
            changed = _update_lead(lead, item, now=now, defaults=defaults)
            result = UpsertResult(lead=lead, created=False, changed=changed)
            if "stage" in changed:
                result.stage_change = (before, item.stage)
        _link_account(result, item, accounts, free_mail_domains)
        if result.changed and not result.created:
            lead.updated_at = now
        results.append(result)

    # One flush gives every new lead and account its id (a single multi-row INSERT per
    # table), which the events and the enrolment trigger need.
    session.flush()
    events: list[dict[str, Any]] = []
    for result in results:
        if not result.changed and not result.created:
            continue
        properties: dict[str, Any] = {"source": source, "changed": sorted(result.changed)}
        if result.stage_change:
            properties["stage"] = dict(zip(("from", "to"), result.stage_change, strict=True))
        events.append(
            {
                "lead_id": result.lead.id,
                "type": "lead.created" if result.created else "lead.updated",
                "occurred_at": now,
                "recorded_at": now,
                "is_machine": False,
                "machine_reasons": [],
                "properties": properties,
            }
        )
    if events:
        # A bulk INSERT of plain rows: a tenth of the cost of one ORM object per event,
        # and nothing reads these rows back within the use case.
        session.execute(insert(Event), events)
    audit_consent_changes(session, results, now=now, source=source, suppressed=suppressed)
    for result in results:
        if result.stage_change:
            # An explicit stage is the system of record (usually the CRM) speaking: any stage
            # is accepted, and recorded as a stage change by "import" with its channel.
            change_stage(
                session,
                result.lead,
                result.stage_change[1],
                reason=f"stage given explicitly ({source})",
                actor=IMPORT_ACTOR,
                now=now,
                override=True,
            )
    # New data changes the fit (and a changed account that of all its people); a lead it
    # makes ready is handed to sales in this same transaction.
    hooks.leads_data_changed.send(
        session,
        leads=[result.lead for result in results if result.created or result.changed],
        now=now,
        account_ids={r.lead.account_id for r in results if r.account_filled and r.lead.account_id},
    )
    for result in results:
        if result.created:
            hooks.lead_created.send(session, lead=result.lead, now=now)
    return results


_CONSENT_COLUMNS = frozenset(
    {"consent_status", "lawful_basis", "consent_source", "consent_text", "consent_at"}
)


def audit_consent_changes(
    session: Session,
    results: Sequence[UpsertResult],
    *,
    now: datetime,
    source: str,
    suppressed: Mapping[str, Any],
) -> None:
    """Write an audit row for every lead whose consent changed or that came back
    suppressed (one bulk insert; the row names the lead by id and peppered hash)."""

    pepper = suppressions.session_pepper(session)
    rows: list[dict[str, Any]] = []
    for result in results:
        lead = result.lead
        key = suppressions.email_hash(lead.email, pepper)
        changed = result.changed & _CONSENT_COLUMNS
        if changed:
            rows.append(
                {
                    "at": now,
                    "action": "consent.recorded",
                    "lead_id": lead.id,
                    "email_hash": key,
                    "actor": source,
                    "detail": {
                        "status": lead.consent_status,
                        "lawful_basis": lead.lawful_basis,
                        "consent_source": lead.consent_source,
                        "changed": sorted(changed),
                    },
                }
            )
        if result.created and lead.email in suppressed:
            rows.append(
                {
                    "at": now,
                    "action": "suppression.applied",
                    "lead_id": lead.id,
                    "email_hash": key,
                    "actor": source,
                    "detail": {"reason": lead.suppression_reason},
                }
            )
    if rows:
        session.execute(insert(AuditLog), rows)


def _given_lead_fields(item: LeadFields) -> set[str]:
    return item.given() - {"email", "company_domain", *_ACCOUNT_FILL}


def _new_lead(item: LeadFields, *, now: datetime, source: str, defaults: Mapping[str, Any]) -> Lead:
    values: dict[str, Any] = {
        name: getattr(item, name)
        for name in (*_OVERWRITTEN_COLUMNS, *_FIRST_TOUCH_COLUMNS)
        if getattr(item, name) is not None
    }
    for name, value in defaults.items():
        values.setdefault(name, value)
    values.setdefault("source", source)
    values.setdefault("consent_status", "unknown")
    attributes = {k: v for k, v in (item.attributes or {}).items() if v is not None}
    return Lead(
        email=item.email,
        stage=item.stage or DEFAULT_STAGE,
        stage_changed_at=now,
        temperature="cold",
        score_value=0.0,
        attributes=attributes,
        created_at=now,
        updated_at=now,
        **values,
    )


def _update_lead(
    lead: Lead, item: LeadFields, *, now: datetime, defaults: Mapping[str, Any]
) -> set[str]:
    changed: set[str] = set()
    for name in _OVERWRITTEN_COLUMNS:
        value = getattr(item, name)
        if value is not None and getattr(lead, name) != value:
            setattr(lead, name, value)
            changed.add(name)
    for name in _FIRST_TOUCH_COLUMNS:
        value = getattr(item, name)
        if value is not None and getattr(lead, name) is None:
            setattr(lead, name, value)
            changed.add(name)
    for name, value in defaults.items():
        if getattr(item, name) is None and getattr(lead, name) is None:
            setattr(lead, name, value)
            changed.add(name)
    if item.stage is not None and item.stage != lead.stage:
        # Not set here: ``upsert_leads`` moves the lead through ``nurture.leads.lifecycle`` once the
        # rows are flushed, so the change is recorded like any other (actor "import").
        changed.add("stage")
    if item.attributes:
        merged = dict(lead.attributes or {})
        for key, value in item.attributes.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        if merged != (lead.attributes or {}):
            # A new dict object, so the ORM sees the JSON column change.
            lead.attributes = merged
            changed.add("attributes")
    return changed


class _Accounts:
    """Accounts needed by one upsert call, fetched in one query and created on demand."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now
        self.by_domain: dict[str, Account] = {}
        self.by_id: dict[int, Account] = {}

    def prefetch(self, *, domains: Iterable[str], ids: Iterable[int]) -> None:
        domains, ids = set(domains), set(ids)
        if not domains and not ids:
            return
        query = select(Account).where(Account.domain.in_(domains) | Account.id.in_(ids))
        for account in self.session.scalars(query):
            self.by_id[account.id] = account
            if account.domain:
                self.by_domain[account.domain] = account

    def get(self, account_id: int) -> Account | None:
        account = self.by_id.get(account_id)
        if account is None:
            account = self.session.get(Account, account_id)
        return account

    def get_or_create(self, domain: str) -> tuple[Account, bool]:
        account = self.by_domain.get(domain)
        if account is not None:
            return account, False
        account = Account(domain=domain, attributes={}, created_at=self.now, updated_at=self.now)
        self.session.add(account)
        self.by_domain[domain] = account
        return account, True


_NOT_LOADED = object()


def _current_account(lead: Lead, accounts: _Accounts) -> Account | None:
    # A lead created earlier in this call has its account only in memory (no id yet);
    # otherwise go by the foreign key, which needs no query when the account was prefetched.
    # (The instance dict holds only attributes that were loaded or set.)
    loaded = inspect(lead).dict.get("account", _NOT_LOADED)
    if loaded is not _NOT_LOADED:
        return loaded
    return None if lead.account_id is None else accounts.get(lead.account_id)


def _link_account(
    result: UpsertResult, item: LeadFields, accounts: _Accounts, free_mail: frozenset[str]
) -> None:
    lead = result.lead
    current = _current_account(lead, accounts)
    if item.company_domain:
        account, result.account_created = accounts.get_or_create(item.company_domain)
    elif current is not None:
        # The email's domain never moves a lead away from its account: the link may have
        # been made explicitly with company_domain.
        account = current
    else:
        domain = account_domain(item, free_mail)
        if domain is None:
            result.unlinked_company = item.has_company_data()
            return
        account, result.account_created = accounts.get_or_create(domain)
    if account is not current:
        lead.account = account
        result.changed.add("account")
    filled = False
    for lead_field, column in _ACCOUNT_FILL.items():
        value = getattr(item, lead_field)
        if value is not None and getattr(account, column) in (None, ""):
            setattr(account, column, value)
            filled = True
    if filled and not result.account_created:
        account.updated_at = accounts.now
        result.account_filled = True


# ---------------------------------------------------------------- queries


def get_lead(session: Session, ref: str) -> Lead | None:
    """The lead with id ``ref`` (all digits) or email ``ref`` (any spelling), or None."""
    ref = ref.strip()
    if ref.isdigit():
        return session.get(Lead, int(ref), options=[selectinload(Lead.account)])
    try:
        email = normalise_email(ref)
    except ValueError:
        return None
    return session.scalars(
        select(Lead).where(Lead.email == email).options(selectinload(Lead.account))
    ).one_or_none()


def list_leads(
    session: Session, *, stage: str | None = None, limit: int = 50, after_id: int | None = None
) -> list[Lead]:
    """Leads in id order (keyset pagination: pass the last id seen as ``after_id``)."""
    query = select(Lead).options(selectinload(Lead.account)).order_by(Lead.id).limit(limit)
    if stage is not None:
        query = query.where(Lead.stage == stage)
    if after_id is not None:
        query = query.where(Lead.id > after_id)
    return list(session.scalars(query))
