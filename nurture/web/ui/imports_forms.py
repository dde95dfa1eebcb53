"""The import pages' forms: the upload, and the mapping of a file's columns to lead fields
(one select per column, built for each file)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from nurture.leads.column_suggestions import Suggestion, attribute_key
from nurture.leads.csv_columns import IGNORE_TARGET

# Every field a column can become, grouped as people think of them, with its name.
FIELD_GROUPS: tuple[tuple[Any, tuple[tuple[str, Any], ...]], ...] = (
    (
        _l("Person"),
        (
            ("email", _l("Email")),
            ("first_name", _l("First name")),
            ("last_name", _l("Last name")),
            ("title", _l("Job title")),
            ("phone", _l("Phone")),
            ("timezone", _l("Time zone")),
            ("locale", _l("Language (locale)")),
            ("stage", _l("Lifecycle stage")),
        ),
    ),
    (
        _l("Company"),
        (
            ("company", _l("Company name")),
            ("company_domain", _l("Company domain or website")),
            ("industry", _l("Industry")),
            ("employees", _l("Employees")),
            ("annual_revenue", _l("Annual revenue")),
            ("branches", _l("Branches")),
            ("country", _l("Country (ISO code)")),
        ),
    ),
    (
        _l("Consent"),
        (
            ("consent_status", _l("Consent status")),
            ("lawful_basis", _l("Lawful basis")),
            ("consent_source", _l("Consent source")),
            ("consent_text", _l("Consent wording")),
            ("consent_at", _l("Consent date")),
        ),
    ),
    (
        _l("Attribution"),
        (
            ("source", _l("Lead source")),
            ("utm_source", _l("UTM source")),
            ("utm_medium", _l("UTM medium")),
            ("utm_campaign", _l("UTM campaign")),
            ("utm_term", _l("UTM term")),
            ("utm_content", _l("UTM content")),
            ("attributes", _l("Custom attributes (a JSON object)")),
        ),
    ),
)
FIELD_LABELS = {name: label for _, fields in FIELD_GROUPS for name, label in fields}

LAWFUL_BASIS_CHOICES = [
    SelectChoice("", _l("Choose…")),
    SelectChoice("consent", _l("Consent: they agreed to hear from us")),
    SelectChoice("legitimate_interest", _l("Legitimate interest")),
    SelectChoice("contract", _l("Contract: they are customers or in talks")),
    SelectChoice("legal_obligation", _l("Legal obligation")),
]


CONSENT_STATUS_CHOICES = [
    SelectChoice("", _l("As the file says (a consent column), else unknown")),
    SelectChoice("granted", _l("Granted: they opted in, campaigns may email them")),
    SelectChoice("pending", _l("Pending: they must confirm first, not emailed until then")),
    SelectChoice("withdrawn", _l("Withdrawn: they said no, never emailed")),
]


class UploadForm(FlaskForm):
    """The file to import."""

    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose a CSV file."))])


class MappingOptions(FlaskForm):
    """The batch's options; the column selects are added per file (``mapping_form``)."""

    consent_basis = SelectField(
        _l("Lawful basis for this batch"),
        choices=LAWFUL_BASIS_CHOICES,
        validators=[DataRequired(_l("Choose the lawful basis for this batch."))],
    )
    # Optional: a form without it means "as the file says"; a value off the list is refused
    # beside the select by nurture.leads.import_jobs.start_job.
    consent_status = SelectField(
        _l("Consent for this batch"), choices=CONSENT_STATUS_CHOICES, validate_choice=False
    )
    source = StringField(
        _l("Source name"),
        default="csv",
        validators=[DataRequired(), Length(max=100)],
    )
    confirm = BooleanField(
        _l("I confirm we may contact the people in this file on that basis."),
        validators=[DataRequired(_l("Confirm the lawful basis to import."))],
    )


def column_choices(header_name: str) -> list[SelectChoice]:
    """The select's options for one column: skip it, a lead field, or keep it as a custom
    attribute named after its header."""
    key = attribute_key(header_name)
    choices = [SelectChoice(IGNORE_TARGET, _("Don't import"), optgroup=_("Skip"))]
    for group, fields in FIELD_GROUPS:
        choices.extend(
            SelectChoice(name, str(label), optgroup=str(group)) for name, label in fields
        )
    choices.append(
        SelectChoice(
            f"attributes.{key}",
            _("Custom attribute “%(key)s”", key=key),
            optgroup=_("Keep as"),
        )
    )
    return choices


def column_field_name(index: int) -> str:
    """The form name of column ``index``'s select."""
    return f"column_{index}"


def mapping_form(header: Sequence[str], defaults: Sequence[str]) -> MappingOptions:
    """The mapping form of a file with ``header``: one select per column, preset to
    ``defaults`` (the suggestions, or the mapping chosen before)."""

    class MappingForm(MappingOptions):
        pass

    for index, name in enumerate(header):
        setattr(
            MappingForm,
            column_field_name(index),
            SelectField(
                _l("Column “%(name)s” becomes", name=name or index + 1),
                choices=column_choices(name),
                default=defaults[index] if index < len(defaults) else IGNORE_TARGET,
            ),
        )
    return MappingForm()


def default_targets(header: Sequence[str], suggestions: Sequence[Suggestion]) -> list[str]:
    """The preset of each column's select: its suggestion, else Don't import."""
    return [s.target for s in suggestions] + [IGNORE_TARGET] * (len(header) - len(suggestions))
