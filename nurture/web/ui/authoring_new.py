"""A new campaign or template: a name and a starter (a minimal skeleton, or a copy of an
existing file), then the editor, where saving creates the file."""

from __future__ import annotations

from typing import Any

from flask import redirect, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from nurture.auth import roles
from nurture.authoring import CAMPAIGN, TEMPLATE
from nurture.authoring.catalogue import campaign_states
from nurture.authoring.files import BadName, campaign_path, check_key, template_folder
from nurture.campaigns.services import email_brand
from nurture.rendering.library import template_library
from nurture.web.ui.authoring import bp
from nurture.web.ui.render import page
from nurture.web.ui.security import requires, runtime


class NewFileForm(FlaskForm):
    """What to create, its name, and what it starts from."""

    kind = RadioField(
        _l("Create a"),
        choices=[
            SelectChoice(CAMPAIGN, _l("Campaign")),
            SelectChoice(TEMPLATE, _l("Email template")),
        ],
        default=CAMPAIGN,
    )
    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=100)],
        description=_l("Lower-case letters, digits and dashes, e.g. spring-webinar."),
    )
    starter = SelectField(_l("Start from"), choices=[], validate_choice=False)


@bp.route("/authoring/new", methods=["GET", "POST"])
@requires(roles.CAMPAIGNS_EDIT)
def new_file() -> Any:
    """Choose a name and a starter; the editor opens with the starter's text."""
    library = template_library(runtime())
    states = campaign_states(runtime().settings, library, email_brand(runtime()))
    campaigns = [state.key for state in states if state.key]
    templates = library.names()
    form = NewFileForm()
    copies_of_campaigns = str(_l("Copy a campaign"))
    copies_of_templates = str(_l("Copy a template"))
    form.starter.choices = [
        SelectChoice("skeleton", str(_l("A minimal skeleton"))),
        *(SelectChoice(f"campaign:{key}", key, optgroup=copies_of_campaigns) for key in campaigns),
        *(SelectChoice(f"template:{n}", n, optgroup=copies_of_templates) for n in templates),
    ]
    if form.validate_on_submit():
        kind = form.kind.data
        name = form.name.data.strip()
        source_kind, _sep, source = (form.starter.data or "skeleton").partition(":")
        try:
            check_key(name)
            exists = (
                campaign_path(runtime().settings, name).exists()
                if kind == CAMPAIGN
                else (template_folder(runtime().settings, name)).exists()
            )
        except BadName:
            form.name.errors.append(
                str(_l("Use lower-case letters, digits and dashes, from a letter or digit."))
            )
        else:
            if exists:
                form.name.errors.append(str(_l("That name is taken: choose another one.")))
            elif source_kind not in ("skeleton", kind):
                form.starter.errors.append(
                    str(_l("Copy a file of the same kind, or the skeleton."))
                )
            else:
                starter = source if source_kind == kind else "skeleton"
                endpoint = (
                    "ui_authoring.campaign_file" if kind == CAMPAIGN else "ui_authoring.template"
                )
                argument = {"key": name} if kind == CAMPAIGN else {"name": name}
                return redirect(url_for(endpoint, new=1, starter=starter, **argument))
    return page("ui/authoring/new.html", form=form, status=422 if form.errors else 200)
