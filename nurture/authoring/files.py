"""Which files may be edited, where each one lives, and how its text is read and written.

Names come from web forms and URLs, so every name is checked against a strict alphabet and
the path it gives must resolve inside the configured folder: ``../../etc/passwd``, an
absolute path, a NUL byte or a symlink leading out of the folder is refused as a bad name.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from nurture.campaigns.loader import load_campaign_file
from nurture.campaigns.validator import campaign_files
from nurture.files.parser import KEY_RE, MAX_KEY
from nurture.platform.config import Settings
from nurture.platform.i18n import LocaleError, normalise_locale
from nurture.rendering.sources import (
    BODY_FILE,
    LANGUAGE_RE,
    META_FILE,
    SUBJECT_FILE,
    TEXT_FILE,
    template_languages,
    variant_file,
)

CAMPAIGN = "campaign"
TEMPLATE = "template"
# The single files, by the kind the editor's URL names them with.
CONFIG_KINDS = ("scoring", "icp", "readiness", "team")

# A template is a folder of these files, in the order the editor shows them; the first two
# must exist, the others are optional (no body.txt: the text part is derived from the HTML).
TEMPLATE_PARTS = (SUBJECT_FILE, BODY_FILE, TEXT_FILE, META_FILE)
REQUIRED_PARTS = frozenset({SUBJECT_FILE, BODY_FILE})
# A language variant has its own subject, body and (optional) text part; meta.yaml is shared.
VARIANT_PARTS = (SUBJECT_FILE, BODY_FILE, TEXT_FILE)

# Existing templates may use the library's wider alphabet; new ones get a lower-case key.
_TEMPLATE_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class BadName(ValueError):
    """A file name that is not allowed or that would lead out of its folder."""


def _inside(root: Path, candidate: Path) -> Path:
    """``candidate`` when it resolves to a direct child of ``root`` (symlinks followed)."""
    resolved_root = root.resolve()
    resolved = candidate.resolve()
    if resolved.parent != resolved_root:
        raise BadName(f"{candidate.name!r} is outside {root}")
    return candidate


def check_key(key: str) -> str:
    """``key`` when it is a valid campaign or template key (lower case, digits, dashes)."""
    if not key or len(key) > MAX_KEY or not KEY_RE.match(key) or key.endswith("\n"):
        raise BadName(f"{key[:MAX_KEY]!r} is not a valid name: use a-z, 0-9 and dashes")
    return key


def config_path(settings: Settings, kind: str) -> Path:
    """The configured file of ``kind`` (scoring, icp, readiness or team)."""
    paths = {
        "scoring": settings.scoring_file,
        "icp": settings.icp_file,
        "readiness": settings.readiness_file,
        "team": settings.sales_team_file,
    }
    if kind not in paths:
        raise BadName(f"{kind!r} is not a kind of file")
    return paths[kind]


def campaign_path(settings: Settings, key: str) -> Path:
    """The file of campaign ``key``: the file of the folder whose ``id:`` is ``key``, else
    the one named ``<key>.yaml`` (or ``.yml``), else where a new one would be written."""
    check_key(key)
    root = settings.campaigns_path
    files = campaign_files(root) if root.is_dir() else []
    for file in files:
        if load_campaign_file(file).key == key:
            return _inside(root, file)
    for file in files:
        if file.stem == key:
            return _inside(root, file)
    return _inside(root, root / f"{key}.yaml")


def template_folder(settings: Settings, name: str) -> Path:
    """The folder of template ``name`` (existing or to be created) in the templates folder."""
    if (
        not name
        or len(name) > MAX_KEY
        or not _TEMPLATE_NAME_RE.fullmatch(name)
        or name.startswith("_")
    ):
        raise BadName(f"{name[:MAX_KEY]!r} is not a template name")
    return _inside(settings.templates_path, settings.templates_path / name)


def read_text(path: Path) -> str | None:
    """The file's text, or None when it does not exist (or is not UTF-8 text: shown empty,
    the check says why)."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (UnicodeDecodeError, IsADirectoryError):
        return None


def read_template(folder: Path, language: str | None = None) -> dict[str, str | None]:
    """Every part of the template in ``folder`` (None for a part that does not exist); with
    ``language``, the parts of that variant instead (``subject.pl.txt`` …), by file name."""
    return {name: read_text(folder / name) for name in part_files(language)}


def part_files(language: str | None) -> tuple[str, ...]:
    """The file names the editor shows for the default files (``language`` None) or for
    ``language``'s variant: ``subject.pl.txt``, ``body.pl.mjml``, ``body.pl.txt``."""
    if language is None:
        return TEMPLATE_PARTS
    return tuple(variant_file(part, language) for part in VARIANT_PARTS)


def required_files(language: str | None) -> frozenset[str]:
    """The parts that must not be empty: the default subject and MJML body. A variant
    may leave either out (the default file is used instead), not both."""
    if language is not None:
        return frozenset()
    return REQUIRED_PARTS


def language_tag(text: str) -> str:
    """``text`` (``pl``, ``pl-PL``, ``pt_br``) as a variant's file names spell it (``pl``,
    ``pl_PL``, ``pt_BR``): a language Babel knows. Raises BadName otherwise."""
    if not text or len(text) > 35:
        raise BadName(f"{text[:35]!r} is not a language code")
    try:
        tag = normalise_locale(text).replace("-", "_")
    except LocaleError as exc:
        raise BadName(str(exc)) from exc
    if not LANGUAGE_RE.fullmatch(tag):
        raise BadName(f"{text!r} is not a language code")
    return tag


def variant_languages(folder: Path) -> list[str]:
    """The languages template ``folder`` has files of its own for (``body.pl.mjml`` …);
    not the catalogue languages its meta.yaml lists, which have no files to edit."""
    if not folder.is_dir():
        return []
    return [
        language
        for language in template_languages(folder)
        if any((folder / variant_file(part, language)).is_file() for part in VARIANT_PARTS)
    ]


def fingerprint(texts: Mapping[str, str | None]) -> str:
    """What the editor carries to notice a change on disk since it opened the file(s)."""
    digest = hashlib.sha256()
    for name in sorted(texts):
        text = texts[name]
        digest.update(name.encode() + b"\0")
        digest.update(b"-" if text is None else b"+" + text.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def normalise(text: str, *, on_disk: str | None = None) -> str:
    """The text as it will be written: LF line ends (browsers send CRLF), and the file's
    trailing newline kept (a new file ends with one, as editors and git expect)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if on_disk and not on_disk.endswith("\n"):
        return text
    return text + "\n" if text and not text.endswith("\n") else text


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader sees the old file or the new one, never
    half of it: a temporary file in the same folder, flushed, then renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Located:
    """An editable file (or template folder) and how the pages name it."""

    kind: str  # campaign, template, or one of CONFIG_KINDS
    name: str  # campaign key, template name, or the kind
    path: Path

    @property
    def exists(self) -> bool:
        return self.path.exists()
