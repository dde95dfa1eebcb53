"""Saving a file from the authoring editors: "Check" or "Save", the flash message of a save,
and the difference shown when the file changed on disk since it was opened."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import Any

from flask import flash, redirect, request
from flask_babel import gettext as _

from nurture.authoring.checks import CheckResult
from nurture.authoring.files import normalise, read_text
from nurture.authoring.saving import Conflict, Refused, Saved


def check_or_save(
    path: Any,
    text: str,
    *,
    check: Callable[[str], CheckResult],
    save: Callable[[str], Saved],
    render: Callable[..., Any],
    done: Callable[[Saved], str],
) -> Any:
    """The POST of a one-file editor: "Check" shows the problems of the text (the editor
    without JavaScript); "Save" saves it, or shows why not (problems: 422; changed on disk
    since it was opened: 409, with the difference)."""
    base = request.form.get("base", "")
    if request.form.get("action") != "save":
        shown = normalise(text, on_disk=read_text(path))
        return render(None, check(shown), base=base, checked=True)
    try:
        saved = save(base)
    except Refused as refused:
        return render(None, refused.result, base=base, status=422)
    except Conflict as conflict:
        diff = changes(conflict.on_disk, {path.name: text})
        return render(None, None, base=conflict.fingerprint, conflict=diff, status=409)
    flash_saved(saved)
    return redirect(done(saved))


def flash_saved(saved: Saved) -> None:
    """Say what a save did: a new live version, files written, or nothing changed."""
    if saved.version is not None:
        flash(
            _(
                "Saved %(file)s; version %(version)d is live.",
                file=saved.path.name,
                version=saved.version,
            ),
            "success",
        )
    elif saved.files:
        flash(_("Saved %(file)s.", file=saved.path.name), "success")
    else:
        flash(_("Nothing changed: the files already had this text."), "info")


def changes(on_disk: Mapping[str, str | None], mine: Mapping[str, str]) -> list[str]:
    """A unified diff of each file as it is on disk now against the text in the editor."""
    lines: list[str] = []
    for file in sorted(on_disk):
        theirs = (on_disk.get(file) or "").splitlines()
        yours = normalise(mine.get(file, "")).splitlines()
        lines.extend(
            difflib.unified_diff(
                theirs, yours, f"{file} (on disk now)", f"{file} (your text)", lineterm="", n=2
            )
        )
    return lines
