"""The brand: the company name and postal address every marketing email must carry (CAN-SPAM,
the ePrivacy rules), and the logo and colour of the pages and system emails.

It lives beside the consent rules because the law asks for the sender's identity in every
email, and it shares their audit log. An admin sets it on the settings pages; an empty value
falls back to the environment (``NURTURE_COMPANY_NAME``, ``NURTURE_POSTAL_ADDRESS``,
``NURTURE_BRAND_COLOUR``, ``NURTURE_LOGO_URL``). Nothing falls back to an example: an
instance without a postal address fails the campaign footer check until one is set.

- :func:`current_brand` is what pages and emails read: cached per database for a few
  seconds (every page shows the company name), and dropped from the cache when a change
  commits in this process; other processes see it within ``CACHE_SECONDS``.
- :func:`update_brand`, :func:`set_logo`, :func:`remove_logo` are the use cases (caller's
  transaction, audited); the checks (:func:`parse_colour`, :func:`sniff_logo`) are pure.
"""

from __future__ import annotations

import hashlib
import re
import struct
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from nurture.consent import audit
from nurture.models import BRAND_ROW_ID, BrandSettings
from nurture.platform.config import Settings

CACHE_SECONDS = 10.0
LOGO_MAX_BYTES = 200 * 1024
LOGO_MAX_PIXELS = 4000  # per side
LOGO_TYPES = ("image/png", "image/jpeg")
# WCAG 2.1 AA for normal text: buttons and the header print white text on the colour.
MIN_CONTRAST = 4.5
NAME_MAX = 200
ADDRESS_MAX = 500
_COLOUR = re.compile(r"#?([0-9a-fA-F]{6})")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class BrandError(ValueError):
    """A refused brand change; nothing was saved. ``field`` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Brand:
    """The brand as pages and emails use it (defaults filled in)."""

    company_name: str
    postal_address: str
    # "#rrggbb", or None for the app's own colour.
    primary_colour: str | None = None
    logo_type: str | None = None
    logo_version: str | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None
    # Which values come from the environment rather than the brand page.
    name_is_default: bool = True
    address_is_default: bool = True
    colour_is_default: bool = True
    # The environment's logo address (NURTURE_LOGO_URL), used when none is uploaded.
    logo_url: str | None = None

    @property
    def has_logo(self) -> bool:
        return self.logo_version is not None

    def email_logo_url(self, public_url: str) -> str | None:
        """Where an email's header loads the logo from: the uploaded one (served by the web
        app at ``/brand/logo``, versioned so mail clients never show a stale one), else
        the environment's, else None (the header shows the company name)."""
        if self.logo_version is not None:
            return f"{public_url}/brand/logo?v={self.logo_version}"
        return self.logo_url


# ---------------------------------------------------------------- pure checks


def parse_colour(text: str) -> str:
    """``#rrggbb`` (lower case) from ``rrggbb`` or ``#RRGGBB``; ValueError otherwise."""
    match = _COLOUR.fullmatch(text.strip())
    if match is None:
        raise ValueError("use a colour like #0b4f6c (a # and six hexadecimal digits)")
    return "#" + match.group(1).lower()


def _luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)


def contrast_ratio(first: str, second: str) -> float:
    """The WCAG contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def colour_problem(colour: str) -> str | None:
    """Why white text on ``colour`` would be hard to read, or None."""
    ratio = contrast_ratio(colour, "#ffffff")
    if ratio < MIN_CONTRAST:
        return (
            f"white text on {colour} has a contrast of {ratio:.1f}:1; buttons need at least "
            f"{MIN_CONTRAST}:1 to stay readable, so choose a darker colour"
        )
    return None


def sniff_logo(data: bytes) -> str:
    """The content type of a logo judged by its bytes (never its name): PNG or JPEG within
    the size limits. BrandError (field ``logo``) for anything else, SVG included: an SVG
    is a document that can carry scripts and load other files, so it is refused rather
    than sanitised."""
    if not data:
        raise BrandError("logo", "the file is empty")
    if len(data) > LOGO_MAX_BYTES:
        raise BrandError("logo", f"the logo is larger than {LOGO_MAX_BYTES // 1024} KB")
    if data.startswith(_PNG_SIGNATURE):
        content_type, size = "image/png", _png_size(data)
    elif data.startswith(b"\xff\xd8\xff"):
        content_type, size = "image/jpeg", _jpeg_size(data)
    else:
        head = data[:1024].lstrip().lower()
        if head.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in head:
            raise BrandError(
                "logo",
                "SVG logos are not accepted: an SVG file can carry scripts; "
                "export the logo as PNG instead",
            )
        raise BrandError("logo", "the file is not a PNG or JPEG image")
    if size is None:
        raise BrandError("logo", "the image is damaged or incomplete")
    width, height = size
    if not (0 < width <= LOGO_MAX_PIXELS and 0 < height <= LOGO_MAX_PIXELS):
        raise BrandError(
            "logo", f"the image must be at most {LOGO_MAX_PIXELS} pixels wide and high"
        )
    return content_type


def _png_size(data: bytes) -> tuple[int, int] | None:
    # The first chunk must be IHDR (13 bytes: width, height, ...); the last must be IEND.
    if len(data) < 33 or data[12:16] != b"IHDR" or not data.endswith(b"IEND\xaeB`\x82"):
        return None
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    # Walk the markers to the first start-of-frame (SOF0-SOF15 except DHT, JPG, DAC).
    if not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        return None
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if length < 2:
            return None
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if position + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            return int(width), int(height)
        position += 2 + length
    return None


def _clean_text(field: str, value: str, limit: int, *, multiline: bool = False) -> str | None:
    lines = [" ".join(line.split()) for line in value.replace("\r\n", "\n").split("\n")]
    text = "\n".join(line for line in lines if line) if multiline else " ".join(lines).strip()
    if "\x00" in text:
        raise BrandError(field, "the text holds a character that cannot be stored")
    if len(text) > limit:
        raise BrandError(field, f"use at most {limit} characters")
    return text or None


# ---------------------------------------------------------------- reading (cached)

_CACHE: weakref.WeakKeyDictionary[Engine, tuple[float, tuple[object, ...], Brand]] = (
    weakref.WeakKeyDictionary()
)
_CACHE_LOCK = threading.Lock()


def _engine_of(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def current_brand(session: Session, settings: Settings) -> Brand:
    """The brand, with the environment's values where the brand page left a blank."""
    engine = _engine_of(session)
    defaults = (
        settings.company_name,
        settings.postal_address,
        settings.brand_colour,
        settings.logo_url,
    )
    now = time.monotonic()
    with _CACHE_LOCK:
        cached = _CACHE.get(engine)
    if cached is not None and cached[0] > now and cached[1] == defaults:
        return cached[2]
    brand = _load(session, settings)
    with _CACHE_LOCK:
        _CACHE[engine] = (now + CACHE_SECONDS, defaults, brand)
    return brand


def _load(session: Session, settings: Settings) -> Brand:
    row = session.get(BrandSettings, BRAND_ROW_ID)
    if row is None:
        return settings_brand(settings)
    return Brand(
        company_name=row.company_name or settings.company_name,
        postal_address=row.postal_address or settings.postal_address,
        primary_colour=row.primary_colour or settings.brand_colour,
        logo_type=row.logo_type if row.logo else None,
        logo_version=row.logo_version if row.logo else None,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
        name_is_default=row.company_name is None,
        address_is_default=row.postal_address is None,
        colour_is_default=row.primary_colour is None,
        logo_url=settings.logo_url,
    )


def branded_settings(settings: Settings, brand: Brand) -> Settings:
    """``settings`` with the brand's values in place of the environment's: what emails are
    rendered with (``nurture.rendering.context.build_context`` reads the settings)."""
    return settings.with_overrides(
        company_name=brand.company_name,
        postal_address=brand.postal_address,
        brand_colour=brand.primary_colour,
        logo_url=brand.email_logo_url(settings.public_url),
    )


def settings_brand(settings: Settings) -> Brand:
    """The brand from the environment alone (where no database can be read)."""
    return Brand(
        company_name=settings.company_name,
        postal_address=settings.postal_address,
        primary_colour=settings.brand_colour,
        logo_url=settings.logo_url,
    )


def forget_cached_brand(session: Session) -> None:
    """Drop the cached brand of this session's database once its transaction commits."""
    engine = _engine_of(session)

    def forget(_: Session) -> None:
        with _CACHE_LOCK:
            _CACHE.pop(engine, None)

    event.listen(session, "after_commit", forget, once=True)


def brand_logo(session: Session) -> tuple[bytes, str, str] | None:
    """The logo's bytes, content type and version, or None without a logo."""
    row = session.get(BrandSettings, BRAND_ROW_ID)
    if row is None or not row.logo or not row.logo_type or not row.logo_version:
        return None
    return row.logo, row.logo_type, row.logo_version


# ---------------------------------------------------------------- changes


def _row(session: Session, now: datetime) -> BrandSettings:
    row = session.get(BrandSettings, BRAND_ROW_ID)
    if row is None:
        row = BrandSettings(id=BRAND_ROW_ID, updated_at=now, updated_by="system")
        session.add(row)
    return row


def update_brand(
    session: Session,
    *,
    company_name: str,
    postal_address: str,
    primary_colour: str,
    actor: str,
    now: datetime,
) -> list[str]:
    """Save the name, address and colour (a blank one goes back to the default); returns
    the names of the fields that changed. BrandError (naming the field) when one cannot be
    used: then nothing is saved."""
    name = _clean_text("company_name", company_name, NAME_MAX)
    address = _clean_text("postal_address", postal_address, ADDRESS_MAX, multiline=True)
    colour = None
    if primary_colour.strip():
        try:
            colour = parse_colour(primary_colour)
        except ValueError as exc:
            raise BrandError("primary_colour", str(exc)) from None
        problem = colour_problem(colour)
        if problem:
            raise BrandError("primary_colour", problem)
    row = _row(session, now)
    wanted = {"company_name": name, "postal_address": address, "primary_colour": colour}
    changed = [key for key, value in wanted.items() if getattr(row, key) != value]
    if changed:
        for key in changed:
            setattr(row, key, wanted[key])
        _audit(session, row, "brand.changed", {"fields": changed}, actor, now)
    return changed


def set_logo(session: Session, data: bytes, *, actor: str, now: datetime) -> str:
    """Replace the logo with ``data`` (checked by :func:`sniff_logo`); returns its type."""
    content_type = sniff_logo(data)
    row = _row(session, now)
    row.logo = data
    row.logo_type = content_type
    row.logo_version = hashlib.sha256(data).hexdigest()[:16]
    _audit(
        session,
        row,
        "brand.logo_set",
        {"type": content_type, "bytes": len(data), "version": row.logo_version},
        actor,
        now,
    )
    return content_type


def remove_logo(session: Session, *, actor: str, now: datetime) -> bool:
    """Remove the logo; False when there was none."""
    row = session.get(BrandSettings, BRAND_ROW_ID)
    if row is None or row.logo is None:
        return False
    row.logo = row.logo_type = row.logo_version = None
    _audit(session, row, "brand.logo_removed", {}, actor, now)
    return True


def _audit(
    session: Session, row: BrandSettings, action: str, detail: dict, actor: str, now: datetime
) -> None:
    row.updated_at, row.updated_by = now, actor[:100]
    audit.record(
        session, action=action, lead_id=None, email_hash=None, detail=detail, actor=actor, now=now
    )
    forget_cached_brand(session)
