"""The campaign pages' forms, query parameters and the words for the engine's reasons."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from nurture.campaigns.spec import TEMPERATURES
from nurture.files.parser import KEY_RE, MAX_KEY
from nurture.leads.selection import LeadSelection
from nurture.leads.stages import LIFECYCLE_STAGES
from nurture.platform.addresses import normalise_email
from nurture.qualification.icp import GRADES
from nurture.reports.campaigns import DEFAULT_PERIOD, PERIODS

ENROLMENT_STATES = ("active", "completed", "exited")


def valid_key(key: str) -> bool:
    """True when ``key`` could name a campaign (anything else is a 404, unqueried)."""
    return len(key) <= MAX_KEY and KEY_RE.match(key) is not None


def period_days(raw: str | None) -> int:
    """The figures' period in days from ``?period=`` (the default when absent or odd)."""
    return int(raw) if raw and raw.isdigit() and int(raw) in PERIODS else DEFAULT_PERIOD


def _printable(form: Any, field: Any) -> None:
    if field.data and any(ord(char) < 32 for char in field.data):
        raise ValidationError(_l("Control characters are not allowed."))


def _address(form: Any, field: Any) -> None:
    if not field.data:
        return
    try:
        field.data = normalise_email(field.data)
    except ValueError as exc:
        raise ValidationError(_l("This is not a valid email address.")) from exc


def _choices(values: tuple[str, ...], any_label: Any) -> list[SelectChoice]:
    return [SelectChoice("", any_label), *(SelectChoice(value, value) for value in values)]


class EnrolOneForm(FlaskForm):
    """One lead, by address."""

    email = StringField(
        _l("Lead's email address"),
        validators=[DataRequired(), Length(max=320), _printable, _address],
    )


class SelectionForm(FlaskForm):
    """A filtered set of leads. Read from the query string for the preview (no CSRF: it
    changes nothing) and from the confirming POST (with CSRF)."""

    stage = SelectField(
        _l("Stage"), choices=_choices(LIFECYCLE_STAGES, _l("Any stage")), default=""
    )
    fit_grade = SelectField(_l("Fit grade"), choices=_choices(GRADES, _l("Any grade")), default="")
    temperature = SelectField(
        _l("Temperature"), choices=_choices(TEMPERATURES, _l("Any temperature")), default=""
    )
    source = StringField(_l("Source"), validators=[Optional(), Length(max=100), _printable])
    account_domain = StringField(
        _l("Account domain"),
        validators=[
            Optional(),
            Length(max=253),
            _printable,
            Regexp(r"^[A-Za-z0-9.-]+$", message=_l("Write a domain such as example.com.")),
        ],
    )

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.selection().empty:
            self.stage.errors = [*self.stage.errors, _l("Choose at least one filter.")]
            return False
        return True

    def selection(self) -> LeadSelection:
        return LeadSelection(
            stage=self.stage.data or None,
            fit_grade=self.fit_grade.data or None,
            temperature=self.temperature.data or None,
            source=(self.source.data or "").strip() or None,
            account_domain=(self.account_domain.data or "").strip().lower() or None,
        )

    def query(self) -> dict[str, str]:
        """The filters as query parameters (to link back to the preview)."""
        return {
            name: str(self[name].data)
            for name in ("stage", "fit_grade", "temperature", "source", "account_domain")
            if self[name].data
        }


# The engine's reasons (enrolment refusals, exits) in the reader's language. A reason
# written in a campaign file (an exit rule's or an exit step's) is shown as written.
REASONS = {
    "already enrolled": _l("already enrolled"),
    "already went through this campaign (re-entry: never)": _l(
        "already went through this campaign (re-entry: never)"
    ),
    "re-entry cool-down": _l("re-entry cool-down not over"),
    "lead may not be mailed (consent or unsubscribe)": _l(
        "may not be mailed (no consent, unsubscribed or suppressed)"
    ),
    "lead opted out of the campaign's topic": _l("opted out of the campaign's topic"),
    "lead is not in the campaign's audience": _l("not in the campaign's audience"),
    "no track matches the lead's stage and temperature": _l(
        "no track matches the lead's stage and temperature"
    ),
    "campaign is paused": _l("the campaign is paused"),
    "campaign is archived": _l("the campaign is archived"),
    "campaign does not allow manual enrolment": _l("the campaign does not allow manual enrolment"),
    "campaign has no valid version": _l("the campaign has no valid version"),
    "goal reached": _l("goal reached"),
    "end of track": _l("end of track"),
    "completed": _l("completed"),
    "unsubscribed": _l("unsubscribed or no longer mailable"),
    "no track matches the lead": _l("no track matches the lead"),
    "campaign loops without a wait": _l("the campaign loops without a wait"),
    "its step was removed from the campaign": _l("its step was removed from the campaign"),
    "opted out of the campaign's topic": _l("opted out of the campaign's topic"),
}


def reason_text(reason: str | None) -> Any:
    """A reason in words for the page."""
    if not reason:
        return ""
    if reason.startswith("re-entry cool-down"):
        return REASONS["re-entry cool-down"]
    if reason.startswith("lead opted out of the topic"):
        return REASONS["lead opted out of the campaign's topic"]
    return REASONS.get(reason, reason)
