"""Form helpers shared by every page: the ARIA attributes that tie a control to its hint
and its errors (so a screen reader reads the error with the field)."""

from __future__ import annotations

from typing import Any


def control_attributes(field: Any, hint: bool = False, **extra: Any) -> dict[str, Any]:
    """``aria-invalid`` and ``aria-describedby`` for a WTForms field, only when they apply
    (WTForms would print an attribute set to None as the text "None"), plus ``extra``."""
    described = [f"{field.id}-error"] if field.errors else []
    if hint:
        described.append(f"{field.id}-hint")
    attributes: dict[str, Any] = dict(extra)
    if field.errors:
        attributes["aria-invalid"] = "true"
    if described:
        attributes["aria-describedby"] = " ".join(described)
    return attributes
