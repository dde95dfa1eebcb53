"""Lead data as it arrives, checked: a pure rule with no database.

``validate_lead_data`` takes a mapping (a JSON object from the API, a CSV row after header
mapping, a form) and returns normalised ``LeadFields`` or a reason per offending field. Which
fields exist and how each is checked comes from the catalogue, ``nurture.leads.fields``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import idna

from nurture.leads.fields import ACCOUNT_FILL, IMPORTABLE_FIELDS, LEAD_FIELDS, LeadField
from nurture.platform.addresses import normalise_email
from nurture.platform.i18n import normalise_locale

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

# A domain name has at most 253 characters (RFC 1035), which is also the account's column.
_DOMAIN_MAX = 253
_ATTRIBUTE_KEY_MAX = 64
_ATTRIBUTE_TEXT_MAX = 1000
_ATTRIBUTE_LIST_MAX = 100

_IMPORTABLE = frozenset(IMPORTABLE_FIELDS)

# Checks one given value: (value, default time zone) -> normalised value, or ValueError.
Validator = Callable[[object, str | tzinfo], Any]


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
        return {
            name
            for name, value in zip(_FIELD_NAMES, _field_values(self), strict=True)
            if value is not None
        }

    # An import keeps every parsed row for its second pass (``nurture.leads.parsed_rows``):
    # the state is the values in field order, without the generic dataclass state's
    # lookup of the class's fields for every row.
    def __getstate__(self) -> tuple[Any, ...]:
        return _field_values(self)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for name, value in zip(_FIELD_NAMES, state, strict=True):
            object.__setattr__(self, name, value)

    def has_company_data(self) -> bool:
        """True when any account field (other than the domain) was given."""
        return any(getattr(self, name) is not None for name in ACCOUNT_FILL)


_FIELD_NAMES = tuple(field.name for field in fields(LeadFields))
# Every field's value, in the order of ``_FIELD_NAMES``.
_field_values: Callable[[LeadFields], tuple[Any, ...]] = attrgetter(*_FIELD_NAMES)


# ---------------------------------------------------------------- validation


def validate_lead_data(
    data: Mapping[str, Any],
    *,
    default_timezone: str | tzinfo,
) -> tuple[LeadFields | None, dict[str, str]]:
    """Validate and normalise one lead's data.

    Returns ``(fields, {})`` when everything is valid, else ``(None, errors)`` with one reason
    per offending field (``attributes.<key>`` for a bad custom attribute). Empty strings and
    ``None`` mean "not given". ``default_timezone`` interprets a ``consent_at`` that has no
    UTC offset.
    """
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if not isinstance(data, Mapping):
        return None, {"_": "a lead must be a JSON object"}
    try:
        values["email"] = normalise_email(data.get("email"))
    except ValueError as exc:
        errors["email"] = str(exc)
    for name, raw in data.items():
        if name == "email":
            continue
        if name not in _IMPORTABLE:
            errors[str(name)] = "unknown field; allowed: " + ", ".join(IMPORTABLE_FIELDS)
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


def _text_field(limit: int) -> Validator:
    return lambda value, _tz: _text(value, limit)


_PHONE_RE = re.compile(r"^\+?[0-9(][0-9 ().\-/]*(?:\s*(?:x|ext\.?|#)\s*[0-9]{1,6})?$", re.I)


def _phone(limit: int) -> Validator:
    def check(value: object, _tz: object) -> str | None:
        text = _text(value, limit)
        if text is None:
            return None
        if not _PHONE_RE.match(text):
            raise ValueError(
                "not a phone number: use digits, spaces, + - ( ) . / and an optional extension "
                "(x123)"
            )
        main = re.split(r"(?i)x|ext|#", text, maxsplit=1)[0]
        digits = sum(ch.isdigit() for ch in main)
        if not 3 <= digits <= 20:
            raise ValueError("a phone number has between 3 and 20 digits")
        return text

    return check


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    # Lower-case name -> canonical IANA name, so "europe/berlin" is accepted and stored as
    # "Europe/Berlin". "localtime" and "Factory" are files in the zone database, not zones.
    names = available_timezones() - {"localtime", "Factory"}
    return {name.lower(): name for name in names}


def _timezone(limit: int) -> Validator:
    def check(value: object, _tz: object) -> str | None:
        text = _text(value, limit)
        if text is None:
            return None
        canonical = _zone_names().get(text.lower())
        if canonical is None:
            raise ValueError(f"unknown time zone {text!r}: use an IANA name such as Europe/Berlin")
        return canonical

    return check


def _locale(limit: int) -> Validator:
    def check(value: object, _tz: object) -> str | None:
        text = _text(value, limit)
        if text is None:
            return None
        # Babel knows which languages exist: "pl_pl" is stored as "pl-PL", "xx" is refused.
        return normalise_locale(text)

    return check

    return check


def _choice(options: Sequence[str], what: str) -> Validator:
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


def _integer(maximum: int) -> Validator:
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


def _validator(field: LeadField) -> Validator:
    """The check for a catalogue field of ``field.kind``."""
    match field.kind:
        case "text":
            return _text_field(_max_length(field))
        case "phone":
            return _phone(_max_length(field))
        case "timezone":
            return _timezone(_max_length(field))
        case "locale":
            return _locale(_max_length(field))
        case "choice":
            return _choice(field.choices, field.name.replace("_", " "))
        case "timestamp":
            return _timestamp
        case "domain":
            return lambda value, _tz: normalise_domain(value)
        case "integer":
            if field.maximum is None:
                raise TypeError(f"lead field {field.name!r} has no maximum")
            return _integer(field.maximum)
        case "country":
            return _country
    raise TypeError(f"lead field {field.name!r} of kind {field.kind!r} has no single-value check")


def _max_length(field: LeadField) -> int:
    if field.max_length is None:
        raise TypeError(f"lead field {field.name!r} has no max_length")
    return field.max_length


# The email and the attributes are checked on their own (see validate_lead_data).
_VALIDATORS: dict[str, Validator] = {
    field.name: _validator(field)
    for field in LEAD_FIELDS
    if field.importable and field.kind not in ("email", "attributes")
}
