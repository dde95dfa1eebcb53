"""Email rendering: the template library, its compile cache, and validation.

A template is a folder under ``templates/`` (see docs/templates.md). Compiling one (layout,
MJML, plain-text derivation) takes milliseconds, so it happens once per template *version*
(a sha256 of every file it uses) and the result is cached in-process; per recipient only the
cached Jinja renders, in microseconds. The compile pipeline is described in the package
docstring (``nurture.rendering``), the context contract is in ``nurture.rendering.context``.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from nurture.platform.config import Settings
from nurture.platform.i18n import best_locale
from nurture.platform.runtime import Runtime
from nurture.rendering.budget import RenderLimitExceeded, RenderLimits
from nurture.rendering.compiled import CompiledTemplate, RenderedEmail, build_compiled
from nurture.rendering.compliance import compliance_problems
from nurture.rendering.context import (
    AccountView,
    CampaignView,
    LeadView,
    SenderView,
    build_context,
    sample_context,
    sample_extras,
)
from nurture.rendering.environment import make_environments
from nurture.rendering.merge_tags import foreign_merge_tags
from nurture.rendering.mjml_compile import compile_sources
from nurture.rendering.problems import TemplateError, TemplateProblem
from nurture.rendering.sources import BODY_FILE, read_sources, template_languages

__all__ = [
    "AccountView",
    "CampaignView",
    "CompiledTemplate",
    "LeadView",
    "RenderLimitExceeded",
    "RenderLimits",
    "RenderedEmail",
    "SenderView",
    "TemplateError",
    "TemplateLibrary",
    "TemplateProblem",
    "build_context",
    "render_limits",
    "sample_context",
    "template_library",
]

# Template names are folder names; keeping them to this alphabet rules out paths
# ("../secrets") once names come from a web form.
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")

# (mtime_ns, size) of a file, or None when it does not exist.
_Stamp = tuple[int, int] | None
# A cache slot's key: the template's name and its language variant (None: the default).
_Key = tuple[str, str | None]


@dataclass
class _Entry:
    """A cache slot: the compiled template (or why it failed) and what it was built from."""

    compiled: CompiledTemplate | None
    error: TemplateError | None
    version: str | None
    # None: the failure happened before we knew every file involved; look again next time.
    stamps: dict[Path, _Stamp] | None
    checked_at: float


class TemplateLibrary:
    """The templates under ``root``, compiled on first use and cached per version.

    ``get``/``render`` are safe to call from many threads. Each call re-checks the files'
    modification times at most every ``check_interval`` seconds (0: every call), so an edited
    template is picked up by a running worker; unchanged content never compiles twice.

    Given a recipient's ``locale``, they use the template's variant in that language when
    it has one (``body.pl.mjml`` …: docs/templates.md#languages), the default files
    otherwise; each variant is a version of its own, compiled and cached on its own.
    """

    def __init__(
        self, root: Path, *, check_interval: float = 2.0, limits: RenderLimits | None = None
    ) -> None:
        self.root = Path(root)
        self.check_interval = check_interval
        self.limits = limits or RenderLimits()
        self._html_env, self._text_env = make_environments(self.limits)
        self._entries: dict[_Key, _Entry] = {}
        self._lock = threading.Lock()
        self._name_locks: dict[_Key, threading.Lock] = {}
        # name -> (when listed, the languages its folder has variants for).
        self._languages: dict[str, tuple[float, tuple[str, ...]]] = {}
        # (name, language) -> (the compiled version validated, its problems).
        self._validated: dict[_Key, tuple[CompiledTemplate, tuple[TemplateProblem, ...]]] = {}
        # (name, language) -> (the compiled version, the sender checked, its footer problems).
        self._compliance: dict[
            _Key, tuple[CompiledTemplate, tuple[str, str], tuple[TemplateProblem, ...]]
        ] = {}
        # How many MJML compiles ran (tests and metrics: each version compiles once).
        self.compile_count = 0

    # ------------------------------------------------------------ listing

    def names(self) -> list[str]:
        """The template names, sorted (folders holding body.mjml; ``_*`` folders are shared
        layouts and partials, not templates)."""
        if not self.root.is_dir():
            return []
        return sorted(
            entry.name
            for entry in self.root.iterdir()
            if entry.is_dir()
            and not entry.name.startswith(("_", "."))
            and _NAME_RE.fullmatch(entry.name)
            and (entry / BODY_FILE).is_file()
        )

    def exists(self, name: str) -> bool:
        """True when a template called ``name`` exists (whether or not it compiles)."""
        return self._valid_name(name) and (self.root / name / BODY_FILE).is_file()

    def languages(self, name: str) -> tuple[str, ...]:
        """The languages template ``name`` has a variant for (``pl`` for ``body.pl.mjml``),
        listed again at most every ``check_interval`` seconds."""
        now = time.monotonic()
        listed = self._languages.get(name)
        if listed is not None and now - listed[0] < self.check_interval:
            return listed[1]
        found = tuple(template_languages(self.root / name)) if self._valid_name(name) else ()
        with self._lock:
            self._languages[name] = (now, found)
        return found

    def language_for(self, name: str, locale: str | None) -> str | None:
        """The variant of ``name`` a recipient whose locale is ``locale`` gets (``pl-PL``
        gets ``pl``), or None for the default files."""
        if not locale:
            return None
        return best_locale(locale, self.languages(name))

    # ------------------------------------------------------------ compiling and rendering

    def get(self, name: str, locale: str | None = None) -> CompiledTemplate:
        """The compiled current version of ``name`` for a recipient whose locale is
        ``locale`` (its variant in that language, else the default); raises TemplateError
        if it is broken."""
        key = (name, self.language_for(name, locale))
        entry = self._entries.get(key)
        now = time.monotonic()
        if entry is None or now - entry.checked_at >= self.check_interval:
            entry = self._refresh(key, now)
        if entry.error is not None:
            # A fresh exception each time: re-raising the cached one would grow its
            # traceback with every failed call.
            raise TemplateError(entry.error.problem, entry.error.problems[1:])
        assert entry.compiled is not None
        return entry.compiled

    def render(
        self, name: str, context: Mapping[str, Any], locale: str | None = None
    ) -> RenderedEmail:
        """Render template ``name`` for one recipient (``context`` from ``build_context``)
        in the variant for their ``locale``."""
        return self.get(name, locale).render(context)

    def invalidate(self, name: str | None = None) -> None:
        """Forget the cached version of ``name`` (or of every template)."""
        with self._lock:
            if name is None:
                self._entries.clear()
                self._validated.clear()
                self._compliance.clear()
                self._languages.clear()
            else:
                self._languages.pop(name, None)
                for cache in (self._entries, self._validated, self._compliance):
                    for key in [key for key in cache if key[0] == name]:
                        cache.pop(key, None)

    def _refresh(self, key: _Key, now: float) -> _Entry:
        name = key[0]
        with self._lock:
            name_lock = self._name_locks.setdefault(key, threading.Lock())
        # One thread compiles a given template; others wait for its result instead of
        # compiling the same version in parallel.
        with name_lock:
            entry = self._entries.get(key)
            if entry is not None and now - entry.checked_at < self.check_interval:
                return entry
            if (
                entry is not None
                and entry.stamps is not None
                and _stamps(entry.stamps) == entry.stamps
            ):
                entry.checked_at = now
                return entry
            entry = self._load(key, entry, now)
            if entry.version is None and entry.compiled is None and not self.exists(name):
                # Not cached: names may come from a web form, and a missing template is a
                # cheap check.
                with self._lock:
                    self._entries.pop(key, None)
                return entry
            with self._lock:
                self._entries[key] = entry
            return entry

    def _load(self, key: _Key, previous: _Entry | None, now: float) -> _Entry:
        name, language = key
        if not self.exists(name):
            return _Entry(None, TemplateError(self._missing(name)), None, None, now)
        try:
            sources = read_sources(self.root, name, self._html_env, language)
        except TemplateError as error:
            # Reading is cheap: try again at the next check, whichever file gets fixed.
            return _Entry(None, error, None, None, now)
        stamps = _stamps({path: None for path in (*sources.files, *sources.optional_files)})
        if previous is not None and previous.version == sources.version:
            # Touched but unchanged (a checkout, a save without edits): keep the compile.
            return _Entry(previous.compiled, previous.error, previous.version, stamps, now)
        with self._lock:
            self.compile_count += 1
        try:
            compiled_sources = compile_sources(sources, self.root)
            compiled = build_compiled(sources, compiled_sources, self._html_env, self._text_env)
        except TemplateError as error:
            return _Entry(None, error, sources.version, stamps, now)
        return _Entry(compiled, None, sources.version, stamps, now)

    # ------------------------------------------------------------ validation

    def validate(self, name: str) -> list[TemplateProblem]:
        """Every problem with template ``name`` and each of its language variants: missing
        files, Jinja syntax, MJML, and errors rendering it for the sample leads (a full one
        and one we know nothing about).

        The sample renders are a pure function of the compiled version, so their problems
        are kept with it and found again while the template's files stay the same (the
        editor's pages check every template on every request)."""
        problems: list[TemplateProblem] = []
        for language in (None, *self.languages(name)):
            for problem in self._validate_variant(name, language):
                if problem not in problems:
                    problems.append(problem)
        return problems

    def _validate_variant(self, name: str, language: str | None) -> list[TemplateProblem]:
        try:
            compiled = self.get(name, language)
        except TemplateError as error:
            return list(error.problems)
        key = (name, language)
        kept = self._validated.get(key)
        if kept is not None and kept[0] is compiled:
            return list(kept[1])
        problems: list[TemplateProblem] = []
        # Transactional templates declare what they are rendered with (meta.yaml
        # ``context: handoff``); they are validated against samples of that too.
        kind = compiled.meta.get("context")
        for sparse in (False, True):
            context = {**sample_context(sparse=sparse), **sample_extras(kind, sparse=sparse)}
            try:
                compiled.render(context)
            except TemplateError as error:
                if error.problem not in problems:
                    problems.append(error.problem)
                if isinstance(error.__cause__, RenderLimitExceeded):
                    # A runaway template: the other sample lead would only take as long.
                    break
        problems += foreign_merge_tags(compiled.files)
        with self._lock:
            self._validated[key] = (compiled, tuple(problems))
        return problems

    def campaign_problems(
        self, name: str, *, company_name: str, postal_address: str
    ) -> list[TemplateProblem]:
        """``validate(name)``, and for a template that renders, what it lacks to be sent
        from a campaign by this sender: the unsubscribe and preferences links and the
        postal address (``nurture.rendering.compliance``; a blank address is a problem)."""
        problems = self.validate(name)
        for language in (None, *self.languages(name)):
            for problem in self._variant_compliance(
                name, language, company_name=company_name, postal_address=postal_address
            ):
                if problem not in problems:
                    problems.append(problem)
        return problems

    def _variant_compliance(
        self, name: str, language: str | None, *, company_name: str, postal_address: str
    ) -> list[TemplateProblem]:
        try:
            compiled = self.get(name, language)
        except TemplateError:
            return []
        # Kept like validate()'s: the editor's pages check every campaign on every request.
        key = (name, language)
        sender = (company_name, postal_address)
        kept = self._compliance.get(key)
        if kept is not None and kept[0] is compiled and kept[1] == sender:
            return list(kept[2])
        found: list[TemplateProblem] = [
            *compliance_problems(compiled, company_name=company_name, postal_address=postal_address)
        ]
        if compiled.body_path is not None and language is not None:
            # The checks name the default body; a variant's problem is in its own.
            default_body = compiled.folder / BODY_FILE
            found = [
                replace(problem, path=compiled.body_path)
                if problem.path == default_body
                else problem
                for problem in found
            ]
        with self._lock:
            self._compliance[key] = (compiled, sender, tuple(found))
        return found

    def validate_all(self) -> dict[str, list[TemplateProblem]]:
        """``validate`` for every template; only templates with problems are listed."""
        report = {name: self.validate(name) for name in self.names()}
        return {name: problems for name, problems in report.items() if problems}

    # ------------------------------------------------------------ helpers

    def _valid_name(self, name: str) -> bool:
        return bool(_NAME_RE.fullmatch(name)) and not name.startswith("_")

    def _missing(self, name: str) -> TemplateProblem:
        if not self._valid_name(name):
            return TemplateProblem(self.root, None, f"{name!r} is not a template name")
        folder = self.root / name
        if folder.is_dir():
            return TemplateProblem(folder / BODY_FILE, None, "file is missing")
        known = ", ".join(self.names()) or "none"
        return TemplateProblem(folder, None, f"no template named {name!r} (known: {known})")


def _stamps(paths: Mapping[Path, _Stamp]) -> dict[Path, _Stamp]:
    stamps: dict[Path, _Stamp] = {}
    for path in paths:
        try:
            stat = os.stat(path)
        except OSError:
            stamps[path] = None
        else:
            stamps[path] = (stat.st_mtime_ns, stat.st_size)
    return stamps


def render_limits(settings: Settings) -> RenderLimits:
    """What one render may do, from the ``NURTURE_RENDER_MAX_*`` settings."""
    return RenderLimits(
        max_chars=settings.render_max_chars,
        max_steps=settings.render_max_steps,
        max_seconds=settings.render_max_cpu,
    )


def template_library(rt: Runtime) -> TemplateLibrary:
    """The runtime's shared TemplateLibrary (one compile cache per process)."""
    key = "nurture.rendering.TemplateLibrary"
    library = rt._cache.get(key)
    if not isinstance(library, TemplateLibrary):
        library = TemplateLibrary(rt.settings.templates_path, limits=render_limits(rt.settings))
        rt._cache[key] = library
    return library
