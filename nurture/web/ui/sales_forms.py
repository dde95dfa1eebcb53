"""The sales pages' forms: the rep's verdicts (accept, reject, an outcome), the manager's
reassignment, and the filters of the lists. Input is parsed and checked for shape here;
what is allowed (reasons, outcomes, owners, values) is the use cases' to decide
(``nurture.handoff.verdicts``), whose refusals the views show beside the same fields."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    Field,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from nurture.handoff.model import OUTCOMES
from nurture.handoff.team import RejectReason
from nurture.reports.sales import SLA_FILTERS, TABS, RepInfo

# The periods the manager's reports cover, in days.
PERIODS = (7, 30, 90, 365)
DEFAULT_PERIOD = 30
# Ids are database integers: anything longer is not an id (and must not reach a query).
MAX_ID = 2**31 - 1
# Deal values are stored with 14 digits, two of them decimals.
MAX_VALUE = Decimal("1e12")
_CURRENCY = re.compile(r"[A-Za-z]{3}")


def outcome_labels() -> dict[str, Any]:
    """The sales outcomes for people."""
    return {
        "sql": _l("Sales-qualified (SQL)"),
        "opportunity": _l("Opportunity"),
        "won": _l("Won"),
        "lost": _l("Lost"),
    }


class AcceptForm(FlaskForm):
    """Accept: nothing to fill in but the CSRF token."""


class RejectForm(FlaskForm):
    """A reason from the team file and an optional note for marketing."""

    reason = SelectField(
        _l("Reason"),
        validators=[DataRequired(message=_l("Choose why you give this lead back."))],
        validate_choice=False,  # the use case checks the reason against the team file
    )
    note = TextAreaField(
        _l("Note for marketing (optional)"),
        validators=[Optional(), Length(max=2000)],
    )

    def offer(self, reasons: Iterable[RejectReason]) -> RejectForm:
        """Offer the team file's reasons."""
        self.reason.choices = [SelectChoice("", _l("Choose a reason…"))] + [
            SelectChoice(reason.id, reason.label) for reason in reasons
        ]
        return self


class OutcomeForm(FlaskForm):
    """A sales outcome: how far the deal got, its value and, for a lost deal, why."""

    outcome = RadioField(
        _l("Outcome"),
        choices=[SelectChoice(key) for key in OUTCOMES],
        validators=[InputRequired(message=_l("Choose an outcome."))],
    )
    value = StringField(
        _l("Deal value"),
        validators=[Length(max=30)],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    currency = StringField(
        _l("Currency"),
        validators=[Optional(), Length(min=3, max=3)],
        render_kw={"autocomplete": "off", "size": 4, "maxlength": 3},
    )
    lost_reason = StringField(
        _l("Why was it lost?"),
        validators=[Length(max=200)],
        render_kw={"list": "lost-reasons", "maxlength": 200},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = outcome_labels()
        self.outcome.choices = [SelectChoice(key, labels[key]) for key in OUTCOMES]

    @property
    def amount(self) -> Decimal | None:
        """The value as an amount (None when left empty or not a number)."""
        text = (self.value.data or "").strip().replace(",", "")
        if not text:
            return None
        try:
            amount = Decimal(text)
        except InvalidOperation:
            return None
        return amount if amount.is_finite() else None

    def validate_value(self, field: Field) -> None:
        """A won deal needs its value; any value is an amount above zero."""
        text = (field.data or "").strip()
        if not text:
            if self.outcome.data == "won":
                raise ValidationError(_l("Enter the deal's value, e.g. 24000 or 24000.50."))
            return
        amount = self.amount
        if amount is None:
            raise ValidationError(_l("Enter a number, e.g. 24000 or 24000.50."))
        if amount <= 0:
            raise ValidationError(_l("The value must be an amount above zero."))
        if amount >= MAX_VALUE:
            raise ValidationError(_l("The value is too large for a deal."))

    def validate_currency(self, field: Field) -> None:
        """Three letters, the ISO code (EUR, USD, GBP…)."""
        if field.data and not _CURRENCY.fullmatch(field.data.strip()):
            raise ValidationError(_l("Use the three-letter code, e.g. EUR or USD."))

    def validate_lost_reason(self, field: Field) -> None:
        """A lost deal says why."""
        if self.outcome.data == "lost" and not (field.data or "").strip():
            raise ValidationError(_l("Say why the deal was lost."))


class ReassignForm(FlaskForm):
    """The new owner (an available rep) and why."""

    rep = SelectField(
        _l("New owner"),
        validators=[DataRequired(message=_l("Choose the rep who takes this lead."))],
        validate_choice=False,  # the use case refuses reps who cannot take leads
    )
    reason = StringField(
        _l("Why (kept in the log)"),
        validators=[Optional(), Length(max=500)],
    )
    back = HiddenField(default="handoff")

    def offer(self, reps: Iterable[RepInfo], exclude: int | None = None) -> ReassignForm:
        """Offer the reps who may take leads, the current owner left out."""
        self.rep.choices = [SelectChoice("", _l("Choose a rep…"))] + [
            SelectChoice(str(rep.id), rep.name)
            for rep in reps
            if rep.available and rep.id != exclude
        ]
        return self

    def validate_rep(self, field: Field) -> None:
        """A rep's id."""
        text = (field.data or "").strip()
        if not text.isdigit() or int(text) > MAX_ID:
            raise ValidationError(_l("Choose the rep who takes this lead."))


# ---------------------------------------------------------------- list filters (GET)


class _Filters(FlaskForm):
    class Meta:
        csrf = False  # GET filters change nothing


def _choice_check(allowed: Iterable[str]) -> Any:
    values = set(allowed)

    def check(form: Any, field: Field) -> None:
        if field.data and field.data not in values:
            raise ValidationError(_l("Not one of the choices."))

    return check


class InboxFilters(_Filters):
    """Which tab of the inbox, and where the page starts."""

    tab = StringField(_l("Show"), validators=[Optional(), _choice_check(TABS)], default="waiting")
    after = StringField(validators=[Optional(), Length(max=60)])


class TeamFilters(_Filters):
    """The period of the manager's reports."""

    days = SelectField(
        _l("Period"),
        choices=[SelectChoice(str(days)) for days in PERIODS],
        default=str(DEFAULT_PERIOD),
        validate_choice=False,
        validators=[Optional(), _choice_check(str(days) for days in PERIODS)],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.days.choices = [(str(days), _l("Last %(days)d days", days=days)) for days in PERIODS]

    @property
    def period(self) -> int:
        """The chosen period, or the default when the choice was not valid."""
        # Optional() lets a blank value (" ") through without checking the choice.
        chosen = (self.days.data or "").strip()
        valid = not self.days.errors and chosen in {str(days) for days in PERIODS}
        return int(chosen) if valid else DEFAULT_PERIOD


def _rep_choice(form: Any, field: Field) -> None:
    text = (field.data or "").strip()
    if text and text != "none" and not (text.isdigit() and int(text) <= MAX_ID):
        raise ValidationError(_l("Not one of the choices."))


class OpenFilters(_Filters):
    """The open handoffs: whose, and in which SLA state."""

    rep = SelectField(
        _l("Owner"), validators=[Optional(), _rep_choice], validate_choice=False, default=""
    )
    sla = SelectField(
        _l("SLA"),
        validators=[Optional(), _choice_check(SLA_FILTERS)],
        validate_choice=False,
        default="",
    )
    after = StringField(validators=[Optional(), Length(max=60)])

    def offer(self, reps: Iterable[RepInfo]) -> OpenFilters:
        """Every rep, plus "nobody" for leads waiting for an owner."""
        self.rep.choices = [
            SelectChoice("", _l("Everyone")),
            SelectChoice("none", _l("Nobody (needs an owner)")),
        ] + [SelectChoice(str(rep.id), rep.name) for rep in reps]
        self.sla.choices = [
            SelectChoice("", _l("Any")),
            SelectChoice("overdue", _l("Overdue")),
            SelectChoice("running", _l("Due, not yet overdue")),
            SelectChoice("met", _l("Answered in time")),
            SelectChoice("breached", _l("Breached")),
            SelectChoice("none", _l("No SLA clock")),
        ]
        return self


class RejectionFilters(TeamFilters):
    """The rejections of a period: which reason, whose."""

    reason = SelectField(_l("Reason"), validators=[Optional()], validate_choice=False, default="")
    rep = SelectField(
        _l("Rep"), validators=[Optional(), _rep_choice], validate_choice=False, default=""
    )
    after = StringField(validators=[Optional(), Length(max=60)])

    def offer(self, reasons: Iterable[RejectReason], reps: Iterable[RepInfo]) -> RejectionFilters:
        """The team file's reasons and reps."""
        reasons = list(reasons)
        self.reason.choices = [SelectChoice("", _l("Any reason"))] + [
            SelectChoice(r.id, r.label) for r in reasons
        ]
        self.rep.choices = [SelectChoice("", _l("Everyone"))] + [
            SelectChoice(str(rep.id), rep.name) for rep in reps
        ]
        self._reason_ids = {r.id for r in reasons}
        return self

    def validate_reason(self, field: Field) -> None:
        """One of the offered reasons."""
        if field.data and field.data not in getattr(self, "_reason_ids", set()):
            raise ValidationError(_l("Not one of the choices."))

    def validate_rep(self, field: Field) -> None:
        """An id (no "nobody": a rejection always has a rep or a manager behind it)."""
        if field.data == "none":
            raise ValidationError(_l("Not one of the choices."))
