"""Reading one template version: its files, meta.yaml, syntax checks and version hash."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
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


def read_sources(root: Path, name: str, html_env: jinja2.Environment) -> TemplateSources:
    """Read template ``name`` and everything it uses; resolve its layout and partials.

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

    subject = read(folder / SUBJECT_FILE, required=True)
    body = read(folder / BODY_FILE, required=True)
    text = read(folder / TEXT_FILE, required=False)
    meta_source = read(folder / META_FILE, required=False)
    meta = _parse_meta(folder / META_FILE, meta_source, problems)

    if subject is not None:
        check_syntax(html_env, subject, folder / SUBJECT_FILE, problems)
        if len([line for line in subject.splitlines() if line.strip()]) > 1:
            problems.append(
                TemplateProblem(folder / SUBJECT_FILE, 2, "the subject must be a single line")
            )
    if text is not None:
        check_syntax(html_env, text, folder / TEXT_FILE, problems)
    if body is not None:
        check_syntax(html_env, body, folder / BODY_FILE, problems)
    if problems:
        raise TemplateError(problems[0], tuple(problems[1:]))
    assert subject is not None and body is not None

    resolver = LayoutResolver(root, html_env, files)
    segments = resolver.resolve_top(folder / BODY_FILE, body, meta, folder / META_FILE)
    sources = TemplateSources(
        name=name,
        folder=folder,
        files=files,
        optional_files=(folder / TEXT_FILE, folder / META_FILE),
        subject=subject.strip(),
        body=segments,
        text=text,
        meta=meta,
    )
    sources.version = _version_of(root, files)
    return sources


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
