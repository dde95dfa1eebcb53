"""The editor of the marketer's files: campaigns, templates, and the scoring, ICP,
readiness and sales team files (docs/web/authoring.md).

- ``/authoring``: every editable file with its state (valid or its problems, last change,
  the version that runs).
- ``/authoring/campaigns/<key>``, ``/authoring/templates/<name>``,
  ``/authoring/files/<kind>``: the editor. "Check" shows the ``validate`` commands'
  messages on their lines (``authoring.js`` does it as one types, through ``check``);
  "Save" refuses a text with problems or a file changed on disk since it was opened,
  otherwise writes the file and syncs a new version (``nurture.authoring.saving``).
- ``/authoring/new``: a new campaign or template from a starter (a skeleton or a copy).

Previews and test sends are in :mod:`nurture.web.ui.authoring_preview`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from nurture.auth import roles
from nurture.authoring import CAMPAIGN, CONFIG_KINDS, TEMPLATE, TEMPLATE_PARTS
from nurture.authoring.checks import (
    CheckResult,
    check_campaign,
    check_config,
    check_template,
    send_steps,
)
from nurture.authoring.files import (
    BadName,
    campaign_path,
    config_path,
    fingerprint,
    normalise,
    read_template,
    read_text,
    template_folder,
    variant_languages,
)
from nurture.authoring.saving import (
    Conflict,
    Refused,
    save_campaign,
    save_config,
    save_template,
)
from nurture.campaigns.services import email_brand
from nurture.files.event_catalogue import event_catalogue
from nurture.platform.db import transaction, utcnow
from nurture.platform.event_types import EventCatalogue
from nurture.rendering.library import render_limits, template_library
from nurture.rendering.sources import BODY_FILE, META_FILE, SUBJECT_FILE, TEXT_FILE
from nurture.reports.authoring import authoring_index, version_history
from nurture.web.ui.authoring_saving import changes, check_or_save, flash_saved
from nurture.web.ui.render import page
from nurture.web.ui.security import requires, runtime

bp = Blueprint("ui_authoring", __name__)

# The longest text one file may have in the editor (a campaign file is a few KB).
MAX_TEXT = 500_000

# The form field of each part of a template.
PART_FIELDS = {
    SUBJECT_FILE: "subject",
    BODY_FILE: "body",
    TEXT_FILE: "text_part",
    META_FILE: "meta",
}
CONFIG_TITLES = {
    "scoring": _l("Scoring model"),
    "icp": _l("Ideal customer profile"),
    "readiness": _l("Readiness (MQL definition)"),
    "team": _l("Sales team"),
}


@dataclass(frozen=True)
class EditorFile:
    """One text area of the editor: a file's name, its form field, text and bad lines."""

    file: str
    field: str
    text: str
    bad_lines: frozenset[int]
    optional: bool = False

    @property
    def line_count(self) -> int:
        return max(1, self.text.count("\n") + (0 if self.text.endswith("\n") else 1))


# ---------------------------------------------------------------- index


@bp.get("/authoring")
@requires(roles.CAMPAIGNS_VIEW)
def index() -> Any:
    """Every editable file and its state."""
    library = template_library(runtime())
    with transaction(runtime().sessions) as session:
        listing = authoring_index(session, runtime().settings, library)
    return page("ui/authoring/index.html", listing=listing, titles=CONFIG_TITLES)


# ---------------------------------------------------------------- the editors


def _located_campaign(key: str) -> Any:
    try:
        return campaign_path(runtime().settings, key)
    except BadName:
        abort(404)


def _located_template(name: str) -> Any:
    try:
        return template_folder(runtime().settings, name)
    except BadName:
        abort(404)


def _located_config(kind: str) -> Any:
    if kind not in CONFIG_KINDS:
        abort(404)
    return config_path(runtime().settings, kind)


def _text_field(name: str = "text") -> str:
    text = request.form.get(name, "")
    if len(text) > MAX_TEXT:
        abort(413)
    return text


def _template_parts() -> dict[str, str]:
    return {part: _text_field(field) for part, field in PART_FIELDS.items()}


@bp.get("/authoring/campaigns/<key>")
@requires(roles.CAMPAIGNS_VIEW)
def campaign_file(key: str) -> Any:
    """The editor of a campaign's file (a new file when ``key`` has none yet)."""
    path = _located_campaign(key)
    on_disk = read_text(path)
    starter = request.args.get("starter", "")
    if on_disk is None and not starter and not request.args.get("new"):
        abort(404)
    text = on_disk if on_disk is not None else starter_campaign(key, starter)
    result = check_campaign(
        template_library(runtime()), path, text, email_brand(runtime()), catalogue=_catalogue()
    )
    return _campaign_page(key, path, text, {path.name: on_disk}, result)


@bp.post("/authoring/campaigns/<key>")
@requires(roles.CAMPAIGNS_EDIT)
def campaign_save(key: str) -> Any:
    """Check (no JavaScript) or save the edited campaign file."""
    path = _located_campaign(key)
    text = _text_field()
    return check_or_save(
        path,
        text,
        check=lambda shown: check_campaign(
            template_library(runtime()), path, shown, email_brand(runtime()), catalogue=_catalogue()
        ),
        save=lambda base: save_campaign(
            runtime(), path, text, base=base, actor=current_user.actor, now=utcnow()
        ),
        render=functools.partial(_campaign_page, key, path, text),
        done=lambda saved: url_for("ui_authoring.campaign_file", key=saved.name),
    )


def _campaign_page(
    key: str,
    path: Any,
    text: str,
    on_disk: Mapping[str, str | None] | None,
    result: CheckResult | None,
    *,
    base: str | None = None,
    status: int = 200,
    **context: Any,
) -> Any:
    bad = result.lines_of(path.name) if result else frozenset()
    campaign, steps = send_steps(text)
    with transaction(runtime().sessions) as session:
        versions = version_history(session, CAMPAIGN, key)
    return page(
        "ui/authoring/editor.html",
        status=status,
        kind=CAMPAIGN,
        name=key,
        title=_("Campaign %(key)s", key=key),
        path=path,
        exists=path.exists(),
        files=[EditorFile(path.name, "text", text, bad)],
        result=result,
        base=base if base is not None else fingerprint(on_disk or {}),
        versions=versions,
        steps=steps,
        campaign_name=campaign.name if campaign else key,
        save_url=url_for("ui_authoring.campaign_save", key=key),
        check_url=url_for("ui_authoring.check", kind=CAMPAIGN, name=key),
        **context,
    )


@bp.get("/authoring/templates/<name>")
@requires(roles.CAMPAIGNS_VIEW)
def template(name: str) -> Any:
    """The editor of a template's files (subject, MJML body, text part, meta.yaml)."""
    folder = _located_template(name)
    on_disk = read_template(folder)
    starter = request.args.get("starter", "")
    if on_disk[BODY_FILE] is None and on_disk[SUBJECT_FILE] is None:
        if not starter and not request.args.get("new"):
            abort(404)
        parts = starter_template(starter)
    else:
        parts = {part: text or "" for part, text in on_disk.items()}
    result = _check_template(name, parts)
    return _template_page(name, folder, parts, on_disk, result)


@bp.post("/authoring/templates/<name>")
@requires(roles.CAMPAIGNS_EDIT)
def template_save(name: str) -> Any:
    """Check (no JavaScript) or save the edited template."""
    folder = _located_template(name)
    parts = _template_parts()
    base = request.form.get("base", "")
    if request.form.get("action") != "save":
        result = _check_template(name, _normalised(parts))
        return _template_page(name, folder, parts, None, result, base=base, checked=True)
    try:
        saved = save_template(
            runtime(), name, folder, parts, base=base, actor=current_user.actor, now=utcnow()
        )
    except Refused as refused:
        return _template_page(name, folder, parts, None, refused.result, base=base, status=422)
    except Conflict as conflict:
        diff = changes(conflict.on_disk, dict(parts))
        return _template_page(
            name, folder, parts, None, None, base=conflict.fingerprint, conflict=diff, status=409
        )
    flash_saved(saved)
    return redirect(url_for("ui_authoring.template", name=name))


def _normalised(parts: Mapping[str, str]) -> dict[str, str | None]:
    return {part: normalise(text) for part, text in parts.items()}


def _check_template(name: str, parts: Mapping[str, str | None]) -> CheckResult:
    # Rendered for the sample leads under the configured render budget: the text may be
    # anyone's, and a runaway loop must come back as a problem, not hold the request.
    settings = runtime().settings
    return check_template(settings.templates_path, name, parts, limits=render_limits(settings))


def _template_page(
    name: str,
    folder: Any,
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
            PART_FIELDS[part],
            parts.get(part) or "",
            result.lines_of(part) if result else frozenset(),
            optional=part in (TEXT_FILE, META_FILE),
        )
        for part in TEMPLATE_PARTS
    ]
    return template_editor(
        name,
        folder,
        files,
        result,
        title=_("Template %(name)s", name=name),
        exists=(folder / BODY_FILE).exists(),
        base=base if base is not None else fingerprint(on_disk or {}),
        status=status,
        save_url=url_for("ui_authoring.template_save", name=name),
        check_url=url_for("ui_authoring.check", kind=TEMPLATE, name=name),
        **context,
    )


def template_editor(
    name: str,
    folder: Any,
    files: list[EditorFile],
    result: CheckResult | None,
    *,
    title: str,
    exists: bool,
    base: str,
    status: int,
    save_url: str,
    check_url: str,
    **context: Any,
) -> Any:
    """The editor page of a template's files, its default ones or one language's."""
    return page(
        "ui/authoring/editor.html",
        status=status,
        kind=TEMPLATE,
        name=name,
        title=title,
        path=folder,
        exists=exists,
        files=files,
        result=result,
        base=base,
        versions=[],
        steps=[],
        languages=variant_languages(folder),
        save_url=save_url,
        check_url=check_url,
        **context,
    )


@bp.get("/authoring/files/<kind>")
@requires(roles.CAMPAIGNS_VIEW)
def config_file(kind: str) -> Any:
    """The editor of the scoring, ICP, readiness or sales team file."""
    path = _located_config(kind)
    on_disk = read_text(path)
    text = on_disk or ""
    result = check_config(kind, path, text, catalogue=_catalogue())
    return _config_page(kind, path, text, {path.name: on_disk}, result)


@bp.post("/authoring/files/<kind>")
@requires(roles.CAMPAIGNS_EDIT)
def config_save(kind: str) -> Any:
    """Check (no JavaScript) or save the edited file."""
    path = _located_config(kind)
    text = _text_field()
    return check_or_save(
        path,
        text,
        check=lambda shown: check_config(kind, path, shown, catalogue=_catalogue()),
        save=lambda base: save_config(
            runtime(), kind, text, base=base, actor=current_user.actor, now=utcnow()
        ),
        render=functools.partial(_config_page, kind, path, text),
        done=lambda saved: url_for("ui_authoring.config_file", kind=kind),
    )


def _config_page(
    kind: str,
    path: Any,
    text: str,
    on_disk: Mapping[str, str | None] | None,
    result: CheckResult | None,
    *,
    base: str | None = None,
    status: int = 200,
    **context: Any,
) -> Any:
    with transaction(runtime().sessions) as session:
        versions = version_history(session, kind, kind)
    return page(
        "ui/authoring/editor.html",
        status=status,
        kind=kind,
        name=kind,
        title=str(CONFIG_TITLES[kind]),
        path=path,
        exists=path.exists(),
        files=[
            EditorFile(
                path.name, "text", text, result.lines_of(path.name) if result else frozenset()
            )
        ],
        result=result,
        base=base if base is not None else fingerprint(on_disk or {}),
        versions=versions,
        steps=[],
        save_url=url_for("ui_authoring.config_save", kind=kind),
        check_url=url_for("ui_authoring.check", kind=kind, name=kind),
        **context,
    )


# ---------------------------------------------------------------- check as one types


@bp.post("/authoring/check/<kind>/<name>")
@requires(roles.CAMPAIGNS_EDIT, audit_changes=False)
def check(kind: str, name: str) -> Any:
    """The problems of the posted text, as JSON: ``{ok, count, problems: [{file, line,
    message, text}]}`` (``authoring.js`` marks the lines). Nothing is written."""
    if kind == CAMPAIGN:
        path = _located_campaign(name)
        result = check_campaign(
            template_library(runtime()),
            path,
            normalise(_text_field(), on_disk=read_text(path)),
            email_brand(runtime()),
            catalogue=_catalogue(),
        )
    elif kind == TEMPLATE:
        _located_template(name)
        result = _check_template(name, _normalised(_template_parts()))
    elif kind in CONFIG_KINDS and name == kind:
        path = _located_config(kind)
        result = check_config(
            kind,
            path,
            normalise(_text_field(), on_disk=read_text(path)),
            catalogue=_catalogue(),
        )
    else:
        abort(404)
    problems = [finding.as_json() for finding in result.findings]
    return jsonify(ok=result.ok, count=len(problems), problems=problems)


# ---------------------------------------------------------------- starters


def starter_campaign(key: str, starter: str) -> str:
    """The text a new campaign starts from: a copy of campaign ``starter`` with the new id
    and name, or a skeleton that enrols nobody until someone enrols a lead by hand."""
    if starter and starter != "skeleton":
        try:
            source = read_text(campaign_path(runtime().settings, starter))
        except BadName:
            source = None
        if source is not None:
            return _renamed(source, key)
    return SKELETON_CAMPAIGN.format(key=key)


def _renamed(text: str, key: str) -> str:
    out = []
    for line in text.splitlines(keepends=True):
        if line.startswith("id:"):
            line = f"id: {key}\n"
        elif line.startswith("name:"):
            line = f"name: {key.replace('-', ' ').capitalize()}\n"
        out.append(line)
    return "".join(out)


def starter_template(starter: str) -> dict[str, str]:
    """The parts a new template starts from: a copy of template ``starter`` or a skeleton."""
    if starter and starter != "skeleton":
        try:
            source = read_template(template_folder(runtime().settings, starter))
        except BadName:
            source = {}
        if source.get(BODY_FILE) is not None:
            return {part: text or "" for part, text in source.items()}
    return dict(SKELETON_TEMPLATE)


SKELETON_CAMPAIGN = """\
# A new campaign. Reference: docs/campaigns.md. Nobody is enrolled until you add entry
# triggers, or enrol leads by hand (manual: true).
id: {key}
name: {key}

entry:
  manual: true

tracks:
  everyone:
    steps:
      - id: first-email
        send: welcome-guide
      - id: finish
        exit: finished
"""

SKELETON_TEMPLATE = {
    SUBJECT_FILE: "A note for you{% if lead.first_name %}, {{ lead.first_name }}{% endif %}\n",
    BODY_FILE: """\
{% extends "_layouts/base.mjml" %}

{% block content %}
<mj-section>
  <mj-column>
    <mj-text>
      <p>Hi {{ lead.first_name or "there" }},</p>
      <p>Write your email here.</p>
    </mj-text>
  </mj-column>
</mj-section>
{% endblock %}
""",
    TEXT_FILE: "",
    META_FILE: "description: What this email is for.\n",
}


def _catalogue() -> EventCatalogue:
    """The event types the files may name (the team's event types file)."""
    return event_catalogue(runtime().settings)
