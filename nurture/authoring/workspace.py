"""A template's edited text, checked and rendered as if it were saved, without saving it.

The template library reads a template from its folder and resolves layouts and partials
inside the templates folder (refusing anything that resolves outside it). So the editor's
unsaved text is put in a temporary copy of that folder, with the edited template's parts
written and everything else linked (hard links, or copies across file systems; never
symlinks, which the library would rightly refuse as leading outside), and the very same
library code runs on it. Messages name the real folder, as ``nurture campaigns validate``
and a send would.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def template_workspace(root: Path, name: str, parts: Mapping[str, str | None]) -> Iterator[Path]:
    """A temporary templates folder like ``root`` where template ``name`` has ``parts``
    (file name → text; None removes that file). Deleted on exit."""
    with tempfile.TemporaryDirectory(prefix="nurture-edit-") as temporary:
        work = Path(temporary)
        if root.is_dir():
            for entry in root.iterdir():
                if entry.name != name:
                    _mirror(entry, work / entry.name)
        folder = work / name
        folder.mkdir()
        original = root / name
        if original.is_dir():
            for entry in original.iterdir():
                # The edited parts are written below, never linked: writing through a hard
                # link would change the real file.
                if entry.name not in parts:
                    _mirror(entry, folder / entry.name)
        for part, text in parts.items():
            if text is not None:
                (folder / part).write_text(text, encoding="utf-8")
        yield work


def _mirror(source: Path, target: Path) -> None:
    if source.is_dir():
        target.mkdir()
        for entry in source.iterdir():
            _mirror(entry, target / entry.name)
        return
    if not source.is_file():
        return
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def real_paths(text: str, work: Path, root: Path) -> str:
    """``text`` (a problem's message) naming files of ``root`` instead of the workspace."""
    return text.replace(str(work), str(root))
