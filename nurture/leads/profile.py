"""Editing one lead's profile by hand (the web app's profile form).

The same validation (``validate_lead_data``) and the same use case (``upsert_leads``) as
the API and the CSV import; the one difference is that a person can empty a field, which a
feed never does (``CLEARABLE_COLUMNS``). BANT answers are custom attributes
(``attributes.budget`` …, read by the ICP file), so emptying one removes the attribute.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy.orm import Session

from nurture.leads.service import CLEARABLE_COLUMNS, UpsertResult, upsert_lead
from nurture.leads.validation import validate_lead_data
from nurture.models import Lead

# The profile form's fields, in the order the form shows them.
PROFILE_COLUMNS = ("first_name", "last_name", "title", "phone", "timezone", "locale")
BANT_ATTRIBUTES = ("budget", "authority", "need", "timing")
assert set(PROFILE_COLUMNS) <= CLEARABLE_COLUMNS


@dataclass
class ProfileEdit:
    """What an edit did: ``errors`` by form field (nothing was saved), or the result."""

    errors: dict[str, str] = field(default_factory=dict)
    result: UpsertResult | None = None

    @property
    def changed(self) -> list[str]:
        return sorted(self.result.changed) if self.result else []


def edit_profile(
    session: Session,
    lead: Lead,
    values: Mapping[str, str | None],
    *,
    now: datetime,
    source: str,
    default_timezone: str | tzinfo,
) -> ProfileEdit:
    """Set ``lead``'s profile to ``values`` (keys of ``PROFILE_COLUMNS`` and
    ``attributes.<BANT>``); an empty value empties the field. Errors are keyed like
    ``values``; on an error nothing changes."""
    if lead.erased_at is not None:
        return ProfileEdit(errors={"_": "the person's data was erased; there is nothing to edit"})
    data: dict[str, Any] = {"email": lead.email}
    cleared: list[str] = []
    for name in PROFILE_COLUMNS:
        text = (values.get(name) or "").strip()
        if text:
            data[name] = text
        else:
            cleared.append(name)
    attributes: dict[str, Any] = {}
    for name in BANT_ATTRIBUTES:
        text = (values.get(f"attributes.{name}") or "").strip()
        if text or name in (lead.attributes or {}):
            attributes[name] = text or None
    if attributes:
        data["attributes"] = attributes
    fields, errors = validate_lead_data(data, default_timezone=default_timezone)
    if fields is None:
        return ProfileEdit(errors=errors)
    result = upsert_lead(session, fields, now=now, source=source, clear=cleared)
    return ProfileEdit(result=result)
