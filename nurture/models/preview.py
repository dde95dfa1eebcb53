"""Email previews made in the web app's editor, kept for the hour a person looks at them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nurture.platform.db import Base, utcnow


class EmailPreview(Base):
    """One rendered email (subject, HTML, text) as its author previewed it.

    The page that shows a preview loads the HTML into a sandboxed frame by its own URL, so
    the rendering must outlive the request that made it; a row lives an hour
    (``nurture.authoring.preview.PREVIEW_LIFETIME``) and only its author may open it. A
    preview for a real lead names it by ``lead_id``, so erasing the lead deletes it.
    """

    __tablename__ = "email_previews"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Random, URL-safe; the preview's address (ids would be guessable).
    token: Mapped[str] = mapped_column(String(43), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    template: Mapped[str] = mapped_column(String(200))
    # Set when the preview is of a campaign's step (its key and the step id).
    campaign_key: Mapped[str | None] = mapped_column(String(200))
    step_id: Mapped[str | None] = mapped_column(String(200))
    # None: the sample lead.
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), index=True
    )
    # True when the template text was the editor's unsaved text, not the file's.
    edited: Mapped[bool] = mapped_column(default=False)
    sender: Mapped[str] = mapped_column(String(400))
    subject: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
