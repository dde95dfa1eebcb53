"""The brand: how the instance presents itself in its pages and system emails."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from nurture.platform.db import Base, utcnow

# The brand is one row: the instance's identity, not a list.
BRAND_ROW_ID = 1


class BrandSettings(Base):
    """Company name, postal address, primary colour and logo, as an admin set them.

    A column left empty falls back to the environment setting (``NURTURE_COMPANY_NAME``,
    ``NURTURE_POSTAL_ADDRESS``) or the app's own colour, so an instance works before anyone
    opens the brand page. The logo is a validated PNG or JPEG of at most 200 KB, kept in
    the database so every web process serves the same one without shared storage.
    """

    __tablename__ = "brand_settings"
    __table_args__ = (CheckConstraint(f"id = {BRAND_ROW_ID}", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    company_name: Mapped[str | None] = mapped_column(String(200))
    postal_address: Mapped[str | None] = mapped_column(String(500))
    # "#rrggbb", lower case, checked for contrast against white text.
    primary_colour: Mapped[str | None] = mapped_column(String(7))
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_type: Mapped[str | None] = mapped_column(String(20))
    # SHA-256 of the logo (hex, first 16): its URL changes with it, so it may be cached.
    logo_version: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100), default="system")
