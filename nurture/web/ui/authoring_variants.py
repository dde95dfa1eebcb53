"""A template's language variants in the editor (docs/web/authoring.md#languages).

- ``/authoring/templates/<name>/languages/<language>``: the editor of one variant's files
  (``subject.pl.txt``, ``body.pl.mjml``, ``body.pl.txt``), checked and saved like the
  default files; a new variant opens with a copy of the default files.
- ``/authoring/templates/<name>/add-language``: choose the language of a new variant.
- ``/authoring/templates/<name>/languages/<language>/delete``: remove a variant's files.
- ``/authoring/check/template/<name>/languages/<language>``: the check as one types.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from flask import abort, flash, jsonify, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from nurture.auth import roles
from nurture.authoring.checks import CheckResult, check_template
from nurture.authoring.files import (
    BadName,
    fingerprint,
    language_tag,
    normalise,
    read_template,
    template_folder,
    variant_languages,
)
from nurture.authoring.saving import Conflict, Refused, delete_variant, save_template
from nurture.platform.db import utcnow
from nurture.platform.i18n import shipped_locales
from nurture.rendering.library import render_limits
from nurture.rendering.sources import BODY_FILE, SUBJECT_FILE, TEXT_FILE, variant_file
from nurture.web.ui.authoring import MAX_TEXT, PART_FIELDS, EditorFile, bp, template_editor
from nurture.web.ui.authoring_saving import changes, flash_saved
from nurture.web.ui.render import page
from nurture.web.ui.security import requires, runtime

# The parts a variant has, in the editor's order; meta.yaml is shared by every language.
VARIANT_FIELDS = {part: PART_FIELDS[part] for part in (SUBJECT_FILE, BODY_FILE, TEXT_FILE)}


def part_fields(language: str | None) -> dict[str, str]:
    """The editor's form field of each file of the default files (``language`` None) or
    of ``language``'s variant (``body.pl.mjml`` → ``body``)."""
    if language is None:
        return dict(PART_FIELDS)
    return {variant_file(part, language): field for part, field in VARIANT_FIELDS.items()}


def posted_parts(form: Mapping[str, str], language: str | None) -> dict[str, str]:
    """The posted text of each file of the default files or of ``language``'s variant."""
    parts = {}
    for part, field in part_fields(language).items():
        text = form.get(field, "")
        if len(text) > MAX_TEXT:
            abort(413)
        parts[part] = text
    return parts


@bp.app_template_filter("language_name")
def language_name(tag: str) -> str:
    """``pl`` as the reader's language names it, with its code: "Polish (pl)"."""
    try:
        name = Locale.parse(tag).get_display_name(get_locale() or "en")
    except (UnknownLocaleError, ValueError):
        name = None
    return f"{name} ({tag})" if name else tag


# ---------------------------------------------------------------- the variant's editor


def _located(name: str, language: str) -> tuple[Path, str]:
    """The folder of an existing template and the variant's tag as files spell it; 404
    for a bad name, a missing template or a code that is no language."""
    try:
        folder = template_folder(runtime().settings, name)
        tag = language_tag(language)
    except BadName:
        abort(404)
    if not (folder / BODY_FILE).is_file():
        abort(404)
    return folder, tag


def _check(name: str, language: str, parts: Mapping[str, str | None]) -> CheckResult:
    # The same check as the default files' (and the render budget: the text may be anyone's).
    settings = runtime().settings
    return check_template(
        settings.templates_path, name, parts, limits=render_limits(settings), language=language
    )


def _normalised(parts: Mapping[str, str]) -> dict[str, str | None]:
    return {part: normalise(text) for part, text in parts.items()}


def starter_variant(folder: Path, language: str) -> dict[str, str]:
    """A new variant's text: a copy of the default files, to be translated."""
    default = read_template(folder)
    return {variant_file(part, language): default.get(part) or "" for part in VARIANT_FIELDS}


@bp.get("/authoring/templates/<name>/languages/<language>")
@requires(roles.CAMPAIGNS_VIEW)
def variant(name: str, language: str) -> Any:
    """The editor of one language variant's files (a new variant with ``?new=1``)."""
    folder, tag = _located(name, language)
    if tag != language:
        new = request.args.get("new") or None
        return redirect(url_for("ui_authoring.variant", name=name, language=tag, new=new))
    on_disk = read_template(folder, tag)
    if all(text is None for text in on_disk.values()):
        if not request.args.get("new"):
            abort(404)
        parts = starter_variant(folder, tag)
    else:
        parts = {part: text or "" for part, text in on_disk.items()}
    return _variant_page(name, tag, folder, parts, on_disk, _check(name, tag, parts))


@bp.post("/authoring/templates/<name>/languages/<language>")
@requires(roles.CAMPAIGNS_EDIT)
def variant_save(name: str, language: str) -> Any:
    """Check (no JavaScript) or save the edited variant; saving creates its files."""
    folder, tag = _located(name, language)
    parts = posted_parts(request.form, tag)
    base = request.form.get("base", "")
    show = functools.partial(_variant_page, name, tag, folder, parts, None)
    if request.form.get("action") != "save":
        result = _check(name, tag, _normalised(parts))
        return show(result=result, base=base, checked=True)
    try:
        saved = save_template(
            runtime(), name, folder, parts, base=base, actor=current_user.actor, now=utcnow(),
            language=tag,
        )  # fmt: skip
    except Refused as refused:
        return show(result=refused.result, base=base, status=422)
    except Conflict as conflict:
        diff = changes(conflict.on_disk, dict(parts))
        return show(result=None, base=conflict.fingerprint, conflict=diff, status=409)
    flash_saved(saved)
    return redirect(url_for("ui_authoring.variant", name=name, language=tag))


def _variant_page(
    name: str,
    language: str,
    folder: Path,
    parts: Mapping[str, str],
    on_disk: Mapping[str, str | None] | None,
    result: CheckResult | None,
    *,
    base: str | None = None,
    status: int = 200,
    **context: Any,
) -> Any:
    files = [
        EditorFile(
            part,
            field,
            parts.get(part) or "",
            result.lines_of(part) if result else frozenset(),
            optional=field == PART_FIELDS[TEXT_FILE],
        )
        for part, field in part_fields(language).items()
    ]
    exists = any((folder / part).is_file() for part in part_fields(language))
    return template_editor(
        name,
        folder,
        files,
        result,
        title=_("Template %(name)s, %(language)s", name=name, language=language_name(language)),
        exists=exists,
        base=base if base is not None else fingerprint(on_disk or {}),
        status=status,
        language=language,
        save_url=url_for("ui_authoring.variant_save", name=name, language=language),
        check_url=url_for("ui_authoring.variant_check", name=name, language=language),
        delete_url=(
            url_for("ui_authoring.variant_delete", name=name, language=language) if exists else None
        ),
        **context,
    )


@bp.post("/authoring/check/template/<name>/languages/<language>")
@requires(roles.CAMPAIGNS_EDIT, audit_changes=False)
def variant_check(name: str, language: str) -> Any:
    """The problems of the posted variant text, as JSON (the shape of ``check``)."""
    _folder, tag = _located(name, language)
    result = _check(name, tag, _normalised(posted_parts(request.form, tag)))
    problems = [finding.as_json() for finding in result.findings]
    return jsonify(ok=result.ok, count=len(problems), problems=problems)


@bp.post("/authoring/templates/<name>/languages/<language>/delete")
@requires(roles.CAMPAIGNS_EDIT)
def variant_delete(name: str, language: str) -> Any:
    """Remove the variant's files: its readers get the default files from then on."""
    folder, tag = _located(name, language)
    if not any(text is not None for text in read_template(folder, tag).values()):
        abort(404)
    try:
        delete_variant(
            runtime(), name, folder, tag,
            base=request.form.get("base", ""), actor=current_user.actor, now=utcnow(),
        )  # fmt: skip
    except Conflict:
        flash(
            _("The files changed since you opened them, so nothing was deleted: look again."),
            "error",
        )
        return redirect(url_for("ui_authoring.variant", name=name, language=tag), code=303)
    flash(
        _(
            "Deleted the %(language)s variant: its readers get the default files.",
            language=language_name(tag),
        ),
        "success",
    )
    return redirect(url_for("ui_authoring.template", name=name), code=303)


# ---------------------------------------------------------------- a new variant


class NewLanguageForm(FlaskForm):
    """The language of a new variant."""

    language = StringField(
        _l("Language code"),
        validators=[DataRequired(), Length(max=35)],
        description=_l("A language code such as pl, de or pt-BR."),
    )


@bp.route("/authoring/templates/<name>/add-language", methods=["GET", "POST"])
@requires(roles.CAMPAIGNS_EDIT)
def variant_new(name: str) -> Any:
    """Choose a language; its editor opens with a copy of the default files."""
    try:
        folder = template_folder(runtime().settings, name)
    except BadName:
        abort(404)
    if not (folder / BODY_FILE).is_file():
        abort(404)
    existing = variant_languages(folder)
    form = NewLanguageForm()
    if form.validate_on_submit():
        try:
            tag = language_tag(form.language.data.strip())
        except BadName:
            form.language.errors.append(
                str(_l("Not a language code: write one such as pl, de or pt-BR."))
            )
        else:
            if tag in existing:
                form.language.errors.append(
                    _("This template already has a %(language)s variant.", language=tag)
                )
            else:
                return redirect(url_for("ui_authoring.variant", name=name, language=tag, new=1))
    default = runtime().settings.default_locale
    suggested = [tag for tag in shipped_locales() if tag not in (*existing, default)]
    return page(
        "ui/authoring/new_language.html",
        form=form,
        name=name,
        existing=existing,
        suggested=suggested,
        status=422 if form.errors else 200,
    )
