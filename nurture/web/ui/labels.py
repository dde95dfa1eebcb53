"""The engine's vocabulary as people read it: stage, temperature, consent and lawful basis
names in the reader's language. Stored values stay the engine's keys; every page shows them
through these (Jinja filters ``stage_label``, ``temperature_label``, ``consent_label``,
``basis_label``, ``delivery_label``), so a translation covers them once for all pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from nurture.leads.fields import CONSENT_STATUSES, LAWFUL_BASES
from nurture.leads.stages import LIFECYCLE_STAGES
from nurture.models.webhook import DELIVERY_STATUSES
from nurture.scoring.model import TEMPERATURES

STAGES: Mapping[str, Any] = {
    "subscriber": _l("Subscriber"),
    "lead": _l("Lead"),
    "mql": _l("MQL"),
    "sal": _l("SAL"),
    "sql": _l("SQL"),
    "opportunity": _l("Opportunity"),
    "customer": _l("Customer"),
    "recycled": _l("Recycled"),
    "disqualified": _l("Disqualified"),
}
TEMPERATURE_NAMES: Mapping[str, Any] = {"cold": _l("Cold"), "warm": _l("Warm"), "hot": _l("Hot")}
CONSENT: Mapping[str, Any] = {
    "granted": _l("Granted"),
    "pending": _l("Waiting for confirmation"),
    "unknown": _l("Unknown"),
    "withdrawn": _l("Withdrawn"),
}
DELIVERIES: Mapping[str, Any] = {
    "pending": _l("Waiting"),
    "delivered": _l("Delivered"),
    "failed": _l("Failed"),
}
BASES: Mapping[str, Any] = {
    "consent": _l("Consent"),
    "legitimate_interest": _l("Legitimate interest"),
    "contract": _l("Contract"),
    "legal_obligation": _l("Legal obligation"),
}
# Each table and the engine's own list of keys it names: a test keeps them in step.
VOCABULARIES = (
    (STAGES, LIFECYCLE_STAGES),
    (TEMPERATURE_NAMES, TEMPERATURES),
    (CONSENT, CONSENT_STATUSES),
    (BASES, LAWFUL_BASES),
    (DELIVERIES, DELIVERY_STATUSES),
)


def _label(table: Mapping[str, Any], value: str | None) -> str:
    if value is None:
        return ""
    return str(table.get(value, value))


def stage_label(value: str | None) -> str:
    """A lifecycle stage's name."""
    return _label(STAGES, value)


def temperature_label(value: str | None) -> str:
    """A temperature band's name."""
    return _label(TEMPERATURE_NAMES, value)


def consent_label(value: str | None) -> str:
    """A consent status's name."""
    return _label(CONSENT, value)


def delivery_label(value: str | None) -> str:
    """A webhook delivery's state."""
    return _label(DELIVERIES, value)


def basis_label(value: str | None) -> str:
    """A lawful basis's name."""
    return _label(BASES, value)


def init_labels(app: Flask) -> None:
    """The label filters in every template."""
    app.jinja_env.filters.update(
        stage_label=stage_label,
        temperature_label=temperature_label,
        consent_label=consent_label,
        basis_label=basis_label,
        delivery_label=delivery_label,
    )
