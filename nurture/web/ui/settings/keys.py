"""``/settings/api-keys``: keys for the JSON API, through nurture.auth.apikeys (the same
use cases as ``nurture apikeys``). A new key's secret is shown once, on the answer to the
POST that made it (never stored, never in a URL or a cookie); pages are ``no-store``."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, url_for
from flask_babel import gettext as _

from nurture.auth import apikeys, roles
from nurture.models import ApiKey
from nurture.platform.db import transaction, utcnow
from nurture.reports.settings import api_key_by_id, api_keys
from nurture.web.ui.render import page
from nurture.web.ui.security import requires, runtime
from nurture.web.ui.settings.blueprint import MAX_ID, bp, not_found
from nurture.web.ui.settings.forms import NewApiKeyForm

_KEY = f"<int(max={MAX_ID}):key_id>"


@bp.get("/settings/api-keys")
@requires(roles.SETTINGS_MANAGE)
def keys_index() -> Any:
    """Every key (names, prefixes, dates), and the form to create one."""
    return _list(NewApiKeyForm())


def _list(form: NewApiKeyForm, status: int = 200) -> Any:
    with transaction(runtime().sessions) as session:
        rows = api_keys(session)
    return page(
        "ui/settings/keys.html", rows=rows, form=form, scheme=apikeys.KEY_SCHEME, status=status
    )


@bp.post("/settings/api-keys")
@requires(roles.SETTINGS_MANAGE)
def keys_create() -> Any:
    """Create a key and show its secret, this once."""
    form = NewApiKeyForm()
    if not form.validate_on_submit():
        return _list(form, 422)
    try:
        with transaction(runtime().sessions) as session:
            key, plaintext = apikeys.create_api_key(session, form.name.data or "", now=utcnow())
            name, prefix = key.name, key.prefix
    except ValueError as exc:
        form.name.errors = [*form.name.errors, str(exc)]
        return _list(form, 422)
    return page(
        "ui/settings/key_created.html",
        name=name,
        prefix=f"{apikeys.KEY_SCHEME}_{prefix}",
        plaintext=plaintext,
    )


@bp.get(f"/settings/api-keys/{_KEY}/revoke")
@requires(roles.SETTINGS_MANAGE)
def key_revoke_confirm(key_id: int) -> Any:
    """Ask before revoking: programs using the key stop working at once."""
    with transaction(runtime().sessions) as session:
        row = api_key_by_id(session, key_id)
    if row is None:
        return not_found(_("API key"))
    return page("ui/settings/key_revoke.html", key=row, scheme=apikeys.KEY_SCHEME)


@bp.post(f"/settings/api-keys/{_KEY}/revoke")
@requires(roles.SETTINGS_MANAGE)
def key_revoke(key_id: int) -> Any:
    """Revoke the key (revoking twice keeps the first time)."""
    with transaction(runtime().sessions) as session:
        key = session.get(ApiKey, key_id)
        if key is not None:
            apikeys.revoke_api_key(session, key.prefix, now=utcnow())
    if key is None:
        return not_found(_("API key"))
    name = key.name
    flash(_("The key %(name)s is revoked; requests with it are refused.", name=name), "success")
    return redirect(url_for("ui_settings.keys_index"))
