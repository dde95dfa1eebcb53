"""The settings area's forms (flask-wtf): every field labelled, checked, and its errors
shown beside it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import EmailField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

from nurture.auth.roles import ROLES
from nurture.consent.brand import ADDRESS_MAX, NAME_MAX
from nurture.web.ui.render import ROLE_LABELS


def _role_choices() -> list[SelectChoice]:
    return [SelectChoice(role, ROLE_LABELS[role]) for role in ROLES]


class NewUserForm(FlaskForm):
    """An account to open: the person gets a link to choose their password."""

    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=320)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"), choices=_role_choices(), default="viewer")


class RoleForm(FlaskForm):
    """Another role for an account."""

    role = SelectField(_l("Role"), choices=_role_choices())


class NewApiKeyForm(FlaskForm):
    """A key to create, named after who or what uses it."""

    name = StringField(
        _l("Name"), validators=[DataRequired(), Length(max=100)], description=_l("e.g. zapier")
    )


class BrandForm(FlaskForm):
    """Name, postal address and colour; a blank field goes back to the default."""

    company_name = StringField(_l("Company name"), validators=[Length(max=NAME_MAX)])
    postal_address = TextAreaField(_l("Postal address"), validators=[Length(max=ADDRESS_MAX)])
    primary_colour = StringField(_l("Primary colour"), validators=[Length(max=20)])


class LogoForm(FlaskForm):
    """A new logo file."""

    logo = FileField(_l("Logo (PNG or JPEG, at most 200 KB)"), validators=[FileRequired()])
