"""Reading one template version: its files, meta.yaml, syntax checks and version hash.

A template may have a variant per language (docs/templates.md#languages): ``subject.pl.txt``,
``body.pl.mjml`` and ``body.pl.txt`` beside the default files, each falling back to the
default file when it is missing, and ``_layouts``/``_partials`` files the same way
(``base.pl.mjml``). The variant's HTML says its language (``<html lang="pl">``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import jinja2
import yaml

from nurture.rendering.layouts import LayoutResolver
from nurture.rendering.problems import TemplateError, TemplateProblem
from nurture.rendering.segments import Segment, check_syntax

# Part of every template version: bump it when a change to the compile pipeline (segments,
# layouts, placeholders, MJML, the text part) changes compiled output, so caches and stored
# versions never mix old and new output.
PIPELINE_VERSION = "2"
_TOOL_VERSIONS = ";".join(
    f"{name}={package_version(name)}" for name in ("mjml", "css-inline", "html2text")
)

SUBJECT_FILE = "subject.txt"
BODY_FILE = "body.mjml"
TEXT_FILE = "body.txt"
META_FILE = "meta.yaml"


# A language tag as it may appear in a file name: ``pl``, ``pt_BR``, ``zh_Hant``.
LANGUAGE_RE = re.compile(r"[a-z]{2,3}(?:_[A-Za-z0-9]{2,8})*")
_MJML_OPEN_RE = re.compile(r"<mjml\b(?P<attrs>[^>]*)>")
_LANG_ATTR_RE = re.compile(r"""\slang\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""")


def variant_file(name: str, language: str | None) -> str:
    """The file name of ``name`` (``body.mjml``) in ``language``'s variant: ``body.pl.mjml``."""
    if language is None:
        return name
    stem, dot, suffix = name.partition(".")
    return f"{stem}.{language}{dot}{suffix}"


def template_languages(folder: Path) -> list[str]:
    """The languages template ``folder`` has a variant for: any of its variant files, and
    the ``languages`` its meta.yaml lists — a template written once with ``_()``, whose
    words come from the app's catalogue, needs no files per language, only its
    ``<html lang>`` set for each (the sales notification)."""
    found: set[str] = set()
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    found.update(_catalogue_languages(folder / "meta.yaml"))
    for entry in entries:
        for base in (SUBJECT_FILE, BODY_FILE, TEXT_FILE):
            stem, _, suffix = base.partition(".")
            middle = entry.name.removeprefix(f"{stem}.").removesuffix(f".{suffix}")
            if (
                entry.name.startswith(f"{stem}.")
                and entry.name.endswith(f".{suffix}")
                and middle != suffix
                and LANGUAGE_RE.fullmatch(middle)
            ):
                found.add(middle)
    return sorted(found)


def _catalogue_languages(meta: Path) -> list[str]:
    try:
        data = yaml.safe_load(meta.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []  # the template's own validation reports a broken meta.yaml
    listed = data.get("languages") if isinstance(data, dict) else None
    if not isinstance(listed, list):
        return []
    return [item for item in listed if isinstance(item, str) and LANGUAGE_RE.fullmatch(item)]


@dataclass
class TemplateSources:
    """Everything one template version is made of, read and resolved (cheap: no MJML)."""

    name: str
    folder: Path
    # Every file read, in the order read: the version hash and the freshness check use it.
    files: dict[Path, str]
    # Files the template would use if they existed (body.txt, meta.yaml): adding one must
    # invalidate the cached version.
    optional_files: tuple[Path, ...]
    subject: str
    body: list[Segment]
    text: str | None
    meta: dict[str, Any]
    version: str = ""
    # The variant's language (None: the default files) and the files it was read from.
    language: str | None = None
    subject_path: Path | None = None
    body_path: Path | None = None
    text_path: Path | None = None


def read_sources(
    root: Path, name: str, html_env: jinja2.Environment, language: str | None = None
) -> TemplateSources:
    """Read template ``name`` (its ``language`` variant, default files where the variant
    has none) and everything it uses; resolve its layout and partials.

    Raises TemplateError listing every syntax problem found in the template's own files.
    """
    folder = root / name
    files: dict[Path, str] = {}
    problems: list[TemplateProblem] = []

    def read(path: Path, *, required: bool) -> str | None:
        if not path.is_file():
            if required:
                problems.append(TemplateProblem(path, None, "file is missing"))
            return None
        try:
            content = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            problems.append(TemplateProblem(path, None, f"not UTF-8 text ({exc.reason})"))
            return None
        files[path] = content
        return content

    def pick(base: str) -> Path:
        own = folder / variant_file(base, language)
        return own if own.is_file() else folder / base

    subject_path, body_path = pick(SUBJECT_FILE), pick(BODY_FILE)
    own_text = folder / variant_file(TEXT_FILE, language)
    # A variant's own body without its own body.txt derives its text part: the default
    # body.txt is in another language.
    text_path: Path | None = own_text
    if not own_text.is_file():
        text_path = folder / TEXT_FILE if body_path == folder / BODY_FILE else None
    subject = read(subject_path, required=True)
    body = read(body_path, required=True)
    text = read(text_path, required=False) if text_path is not None else None
    meta_source = read(folder / META_FILE, required=False)
    meta = _parse_meta(folder / META_FILE, meta_source, problems)

    if subject is not None:
        check_syntax(html_env, subject, subject_path, problems)
        if len([line for line in subject.splitlines() if line.strip()]) > 1:
            problems.append(TemplateProblem(subject_path, 2, "the subject must be a single line"))
    if text is not None and text_path is not None:
        check_syntax(html_env, text, text_path, problems)
    if body is not None:
        check_syntax(html_env, body, body_path, problems)
    if problems:
        raise TemplateError(problems[0], tuple(problems[1:]))
    assert subject is not None and body is not None

    resolver = LayoutResolver(root, html_env, files, language=language)
    segments = resolver.resolve_top(body_path, body, meta, folder / META_FILE)
    if language is not None:
        segments = _with_language(segments, language)
    variant_paths = (
        tuple(folder / variant_file(base, language) for base in (SUBJECT_FILE, BODY_FILE))
        if language is not None
        else ()
    )
    sources = TemplateSources(
        name=name,
        folder=folder,
        files=files,
        optional_files=(
            folder / TEXT_FILE,
            own_text,
            folder / META_FILE,
            *variant_paths,
            *resolver.optional,
        ),
        subject=subject.strip(),
        body=segments,
        text=text,
        meta=meta,
        language=language,
        subject_path=subject_path,
        body_path=body_path,
        text_path=text_path if text is not None else None,
    )
    sources.version = _version_of(root, files)
    return sources


def _with_language(segments: list[Segment], language: str) -> list[Segment]:
    """``segments`` with the ``<mjml>`` element's ``lang`` set to ``language`` (BCP 47), so
    the HTML tells mail clients and screen readers which language it is in."""
    tag = language.replace("_", "-")
    out = list(segments)
    for index, seg in enumerate(out):
        match = _MJML_OPEN_RE.search(seg.source) if seg.kind == "text" else None
        if match is None:
            continue
        attrs = _LANG_ATTR_RE.sub("", match.group("attrs"))
        opened = f'<mjml lang="{tag}"{attrs}>'
        out[index] = replace(
            seg, source=seg.source[: match.start()] + opened + seg.source[match.end() :]
        )
        break
    return out


def _version_of(root: Path, files: Mapping[Path, str]) -> str:
    digest = hashlib.sha256(f"{PIPELINE_VERSION};{_TOOL_VERSIONS}\0".encode())
    for path in sorted(files, key=lambda p: p.as_posix()):
        relative = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        digest.update(relative.encode() + b"\0" + files[path].encode() + b"\0")
    return digest.hexdigest()


def _parse_meta(path: Path, source: str | None, problems: list[TemplateProblem]) -> dict[str, Any]:
    if source is None:
        return {}
    try:
        meta = yaml.safe_load(source)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        problems.append(TemplateProblem(path, line, f"invalid YAML: {exc.problem}"))
        return {}
    except yaml.YAMLError as exc:
        problems.append(TemplateProblem(path, None, f"invalid YAML: {exc}"))
        return {}
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        problems.append(TemplateProblem(path, 1, "meta.yaml must be a mapping (key: value)"))
        return {}
    for key in ("preheader", "description"):
        if key in meta and not isinstance(meta[key], str):
            problems.append(TemplateProblem(path, None, f"{key} must be text"))
    return meta
