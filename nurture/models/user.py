"""People who sign in to the web app: marketers, sales, managers, admins, viewers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, false
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
    # Opted in to the weekly email of the reports' headline figures (off until asked for).
    weekly_digest: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The language of the emails the product writes to this person (handoff notifications,
    # SLA reminders, the digest); None: the instance's default (NURTURE_LOCALE).
    locale: Mapped[str | None] = mapped_column(String(20))

    @property
    def active(self) -> bool:
        """True while the account may sign in."""
        return self.disabled_at is None


class ReportDigest(Base):
    """One weekly digest for one person: claimed before it is sent (the unique key makes a
    second one for the same week impossible to record), then marked sent or failed."""

    __tablename__ = "report_digests"
    __table_args__ = (UniqueConstraint("user_id", "week_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The Monday (UTC) the reported week began.
    week_start: Mapped[date]
    # claimed | sent | failed
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # What the mail server answered when it refused (no personal data: a server reply).
    error: Mapped[str | None] = mapped_column(String(500))
