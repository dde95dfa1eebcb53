"""Email addresses in one canonical form: the key leads, the suppression list and tracking
agree on."""

from __future__ import annotations

import re
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

# Anything shaped like an address inside other text (a URL path): no spaces, slashes or URL
# punctuation either side of an "@", written or percent-encoded.
_ADDRESS_IN_TEXT = re.compile(r"[^\s/?#&=;,@]+(?:@|%40)[^\s/?#&=;,@]+", re.IGNORECASE)
MASKED_ADDRESS = "***@***"


def mask_addresses(text: str) -> str:
    """``text`` with every email address in it replaced by ``MASKED_ADDRESS``."""
    return _ADDRESS_IN_TEXT.sub(MASKED_ADDRESS, text)


def normalise_email(raw: object) -> str:
    """Return the canonical form of an email address, or raise ValueError with the reason.

    email-validator checks the syntax and normalises the domain (lower case, IDN to ASCII).
    The local part is lower-cased as well: RFC 5321 allows case-sensitive mailboxes, but no
    mainstream provider has them, and the lead is upserted by this key, so "Jane@x.com" and
    "jane@x.com" must be one lead, not two.
    """
    if raw is None:
        raise ValueError("required")
    if not isinstance(raw, str):
        raise ValueError("must be a string")
    text = raw.strip()
    if not text:
        raise ValueError("required")
    # Most addresses are a plain ASCII local part at a domain seen before: checking the
    # domain (IDNA) is most of email-validator's cost, so its answer is remembered per
    # domain. Anything else (and every refusal, for its reason) goes the whole way.
    local, _, domain = text.rpartition("@")
    if len(text) <= _PLAIN_MAX and _PLAIN_LOCAL.match(local):
        ascii_domain = _ascii_domain(domain)
        if ascii_domain is not None and len(local) + len(ascii_domain) < _PLAIN_MAX:
            return f"{local.lower()}@{ascii_domain}"
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc
    return f"{result.local_part.lower()}@{result.ascii_domain}"


# A local part email-validator takes as it is (its ``DOT_ATOM_TEXT``: ASCII, no quotes), at
# most 64 characters; and a length well within its limits for the whole address.
_ATEXT = r"a-zA-Z0-9_!#$%&'*+\-/=?^`{|}~"
_PLAIN_LOCAL = re.compile(rf"(?=.{{1,64}}\Z)[{_ATEXT}]+(?:\.[{_ATEXT}]+)*\Z")
_PLAIN_MAX = 200


@lru_cache(maxsize=4096)
def _ascii_domain(domain: str) -> str | None:
    """The domain as email-validator normalises it, or None when it refuses it."""
    try:
        return validate_email(f"a@{domain}", check_deliverability=False).ascii_domain
    except EmailNotValidError:
        return None


def email_or_none(raw: object) -> str | None:
    """The canonical form of ``raw``, or None when it is not an email address."""
    try:
        return normalise_email(raw)
    except ValueError:
        return None
