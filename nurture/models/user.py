"""People who sign in to the web app: marketers, sales, managers, admins, viewers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from nurture.platform.db import Base, utcnow


class User(Base):
    """One person's account. ``role`` names a row of ``nurture.auth.roles.PERMISSIONS``;
    ``password_hash`` (argon2id) stays empty until the person sets a password."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(30))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]

    @property
    def active(self) -> bool:
        """True while the account may sign in."""
        return self.disabled_at is None
