"""``/settings/brand``: company name, postal address, colour and logo (nurture.consent.brand),
and the two public files pages use: ``/brand.css`` (the colour) and ``/brand/logo``."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from nurture.auth import roles
from nurture.consent.brand import (
    LOGO_MAX_BYTES,
    BrandError,
    brand_logo,
    remove_logo,
    set_logo,
    update_brand,
)
from nurture.platform.db import transaction, utcnow
from nurture.web.ui.render import page, page_brand
from nurture.web.ui.security import public, requires, runtime
from nurture.web.ui.settings.blueprint import bp, not_found
from nurture.web.ui.settings.forms import BrandForm, LogoForm

# Versioned URLs (?v=…) change with the content, so browsers may keep them a year.
_IMMUTABLE = "public, max-age=31536000, immutable"


@bp.route("/settings/brand", methods=["GET", "POST"])
@requires(roles.SETTINGS_MANAGE)
def brand_edit() -> Any:
    """The brand form; a blank field goes back to the environment's default."""
    brand = page_brand()
    form = BrandForm()
    if request.method == "GET":
        form.company_name.data = "" if brand.name_is_default else brand.company_name
        form.postal_address.data = "" if brand.address_is_default else brand.postal_address
        form.primary_colour.data = "" if brand.colour_is_default else brand.primary_colour
    elif form.validate_on_submit():
        try:
            with transaction(runtime().sessions) as session:
                changed = update_brand(
                    session,
                    company_name=form.company_name.data or "",
                    postal_address=form.postal_address.data or "",
                    primary_colour=form.primary_colour.data or "",
                    actor=current_user.actor,
                    now=utcnow(),
                )
        except BrandError as exc:
            getattr(form, exc.field).errors.append(str(exc))
        else:
            flash(_("The brand is saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("ui_settings.brand_edit"))
    return _page(form, LogoForm(), 422 if form.errors else 200)


def _page(form: BrandForm, logo_form: LogoForm, status: int) -> Any:
    settings = runtime().settings
    return page(
        "ui/settings/brand.html",
        form=form,
        logo_form=logo_form,
        current=page_brand(),
        default_name=settings.company_name,
        default_address=settings.postal_address,
        max_kb=LOGO_MAX_BYTES // 1024,
        status=status,
    )


@bp.post("/settings/brand/logo")
@requires(roles.SETTINGS_MANAGE)
def brand_logo_upload() -> Any:
    """Replace the logo (PNG or JPEG, checked by content)."""
    form = LogoForm()
    if form.validate_on_submit():
        # One byte more than allowed is enough to know it is too large.
        data = form.logo.data.stream.read(LOGO_MAX_BYTES + 1)
        try:
            with transaction(runtime().sessions) as session:
                set_logo(session, data, actor=current_user.actor, now=utcnow())
        except BrandError as exc:
            form.logo.errors = [*form.logo.errors, str(exc)]
        else:
            flash(_("The logo is saved."), "success")
            return redirect(url_for("ui_settings.brand_edit"))
    brand = page_brand()
    values = BrandForm(formdata=None)
    values.company_name.data = "" if brand.name_is_default else brand.company_name
    values.postal_address.data = "" if brand.address_is_default else brand.postal_address
    values.primary_colour.data = "" if brand.colour_is_default else brand.primary_colour
    return _page(values, form, 422)


@bp.post("/settings/brand/logo/remove")
@requires(roles.SETTINGS_MANAGE)
def brand_logo_remove() -> Any:
    """Remove the logo: pages show the company name alone."""
    with transaction(runtime().sessions) as session:
        removed = remove_logo(session, actor=current_user.actor, now=utcnow())
    flash(_("The logo is removed.") if removed else _("There was no logo."), "success")
    return redirect(url_for("ui_settings.brand_edit"))


@bp.get("/brand.css")
@public
def brand_css() -> Any:
    """The brand's colour as the app's CSS variable (no inline style anywhere)."""
    colour = page_brand().primary_colour
    css = f":root {{ --brand: {colour}; }}\n" if colour else "/* the app's own colours */\n"
    response = Response(css, mimetype="text/css")
    response.headers["Cache-Control"] = _IMMUTABLE if request.args.get("v") else "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/brand/logo")
@public
def logo() -> Any:
    """The logo's bytes, served with its checked type and a policy that runs nothing."""
    with transaction(runtime().sessions) as session:
        found = brand_logo(session)
    if found is None:
        return not_found(_("logo"))
    data, content_type, version = found
    response = Response(data, mimetype=content_type)
    fresh = request.args.get("v") == version
    response.headers["Cache-Control"] = _IMMUTABLE if fresh else "no-cache"
    response.headers["ETag"] = f'"{version}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Content-Disposition"] = "inline"
    return response
