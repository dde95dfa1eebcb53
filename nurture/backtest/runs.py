"""A backtest run of the web app's editor: the saved files and an edited, unsaved text
replayed through the same history, kept in the instance folder (docs/web/authoring.md).

- ``history_source``: which history a run would replay and how large it is, cheaply (the
  history file's header line, or a count of the instance's leads), so the editor can say
  it on every page and choose between running in the request and in the background.
- ``begin``: one run at a time per instance. The run's state file is created only when no
  other run holds the lock file; a run whose process died, or that has not reported
  progress for ``STALE``, is interrupted and no longer holds it.
- ``execute``: load the history, replay every lead of the window through both models, and
  write the figures of both. Progress is written every ``PROGRESS_EVERY`` leads.
- ``current``: the last run's state as written (the run in hand, or the last one);
  ``read_results``: a finished run's figures, kept until the next run replaces them.

The state is a small JSON file (the editor reads it on every page), the results another
(every missed converter: large for a large history); each is replaced whole (written
beside it, then renamed over it), so a reader always sees what some writer finished: what
the import's committed batches are to its progress page. Nothing the backtest does is
saved anywhere else.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import Session

from nurture.authoring.checks import load_config
from nurture.backtest.history import History, HistoryFileError, as_utc, read_header, read_history
from nurture.backtest.instance import read_instance_history, with_known_outcome
from nurture.backtest.replay import Model, replay
from nurture.backtest.report import Window, summarise
from nurture.backtest.warnings import model_warnings
from nurture.files.problems import Problem
from nurture.models import Lead
from nurture.platform.event_types import EventCatalogue

HISTORY_FILE = "history.jsonl.gz"
FOLDER = "backtest"
STATE_FILE = "web-run.json"
RESULTS_FILE = "web-run-results.json"
LOCK_FILE = "web-run.lock"
# Up to this many history leads a run is done in the request that asks for it: both
# models take 6.2 s for 5,000 generated leads (21.1 s for 20,000) on this project's
# 2-core machine shared by six sessions, about a quarter of that on a quiet one
# (docs/web/authoring.md#backtest). A larger history runs in the background with its
# progress shown.
INLINE_LEADS = 5_000
PROGRESS_EVERY = 1_000
# A run that has written nothing for this long is taken for dead (progress is written
# every ``PROGRESS_EVERY`` leads, a fraction of a second apart).
STALE = timedelta(minutes=10)

FILE_SOURCE = "file"
INSTANCE_SOURCE = "instance"


@dataclass(frozen=True)
class HistorySource:
    """The history a run replays: the imported file when there is one, else the instance's
    leads. ``leads`` is the file's count, or for the instance an upper bound (its leads;
    only those whose outcome is known are replayed). ``leads == 0`` means nothing to run."""

    kind: str
    leads: int
    imported_at: datetime | None = None

    @property
    def empty(self) -> bool:
        return self.leads == 0


@dataclass(frozen=True)
class RunState:
    """One run, as its state file holds it. ``status``: running, done, failed or
    interrupted (its figures are in the results file, ``read_results``)."""

    id: str
    status: str
    kind: str
    file: str
    started_at: str
    updated_at: str
    pid: int
    start: str | None = None
    end: str | None = None
    text: str = ""
    base: str = ""
    background: bool = False
    done: int = 0
    total: int = 0
    source: dict[str, Any] = field(default_factory=dict)
    finished_at: str | None = None
    error: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status == "running"

    @property
    def percent(self) -> int | None:
        return min(100, self.done * 100 // self.total) if self.total else None

    @property
    def window(self) -> Window:
        return Window(_moment(self.start), _moment(self.end))


def _moment(text: str | None) -> datetime | None:
    return None if text is None else as_utc(datetime.fromisoformat(text))


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


# ---------------------------------------------------------------- the history


def history_path(instance_path: Path) -> Path:
    """Where `nurture history import` writes the history by default."""
    return instance_path / HISTORY_FILE


def history_source(instance_path: Path, session: Session) -> HistorySource:
    """Which history a run would replay, and its size, without reading it."""
    path = history_path(instance_path)
    if path.is_file():
        try:
            header = read_header(path)
        except HistoryFileError:
            header = {"leads": 1}  # damaged: the run says why, with file:line
        imported = header.get("imported_at")
        return HistorySource(
            FILE_SOURCE, int(header.get("leads") or 0), _moment(imported) if imported else None
        )
    known = session.scalar(with_known_outcome([func.count(Lead.id)]))
    return HistorySource(INSTANCE_SOURCE, int(known or 0))


def load_history(instance_path: Path, session: Session, now: datetime) -> History:
    """The history file when there is one, else the instance's leads whose outcome is
    known. Raises HistoryFileError (with file:line) for a damaged file."""
    path = history_path(instance_path)
    if path.is_file():
        return read_history(path)
    return read_instance_history(session, now).history


def describe(source: HistorySource, history: History, window: Window) -> dict[str, Any]:
    """What a run's page says of its history: which, how many leads, first and last."""
    created = [lead.created_at for lead in history.leads if window.holds(lead)]
    return {
        "kind": source.kind,
        "leads": len(history.leads),
        "in_window": len(created),
        "converters": sum(1 for lead in history.leads if lead.outcome.converted),
        "first": _iso(min(created, default=None)),
        "last": _iso(max(created, default=None)),
        "imported_at": _iso(history.imported_at) if source.kind == FILE_SOURCE else None,
    }


# ---------------------------------------------------------------- the two models

# The files a run replays through, in the order a Model takes them.
KINDS = ("scoring", "icp", "readiness")


class SavedFilesInvalid(Exception):
    """A saved file has problems (changed on disk since it was saved): there is nothing
    to compare the edited text with. Carries the problems as ``path:line: message``."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems


def models(
    paths: dict[str, Path], kind: str, text: str, catalogue: EventCatalogue
) -> tuple[Model, Model]:
    """The saved files' model, and the same with the ``kind`` file's text replaced by
    ``text`` (which the caller has checked). Raises SavedFilesInvalid."""
    saved: dict[str, Any] = {}
    for name in KINDS:
        path = paths[name]
        try:
            on_disk = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SavedFilesInvalid([Problem(str(path), 0, f"cannot be read ({exc})")]) from None
        load = load_config(name, str(path), on_disk, catalogue=catalogue)
        if not load.ok:
            raise SavedFilesInvalid(load.problems)
        saved[name] = load.value
    edited = dict(saved)
    load = load_config(kind, str(paths[kind]), text, catalogue=catalogue)
    if not load.ok:
        raise ValueError(f"the edited {kind} text has problems; check it first")
    edited[kind] = load.value
    return Model(*(saved[name] for name in KINDS)), Model(*(edited[name] for name in KINDS))


# ---------------------------------------------------------------- the state file


def _folder(instance_path: Path) -> Path:
    return instance_path / FOLDER


def _replace(instance_path: Path, name: str, run_id: str, data: dict[str, Any]) -> None:
    folder = _folder(instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f"{name}.{run_id}.partial"
    partial.write_text(json.dumps(data), encoding="utf-8")
    partial.replace(folder / name)


def _write(instance_path: Path, state: RunState) -> None:
    _replace(instance_path, STATE_FILE, state.id, asdict(state))


def read_results(instance_path: Path, state: RunState) -> dict[str, Any] | None:
    """The figures of ``state``'s run per side (``saved``, ``edited``: the report's plain
    data with every missed converter), or None unless it finished."""
    if state.status != "done":
        return None
    try:
        data = json.loads((_folder(instance_path) / RESULTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("id") == state.id else None


def _read(instance_path: Path) -> RunState | None:
    try:
        data = json.loads((_folder(instance_path) / STATE_FILE).read_text(encoding="utf-8"))
        return RunState(**data)
    except (OSError, ValueError, TypeError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def current(instance_path: Path, now: datetime) -> RunState | None:
    """The last run (running, or finished with its results), or None before the first;
    a run whose process is gone or that stopped writing is marked interrupted."""
    state = _read(instance_path)
    if state is None or not state.is_open:
        return state
    stale = now - as_utc(datetime.fromisoformat(state.updated_at)) > STALE
    if stale or not _alive(state.pid):
        state = replace(state, status="interrupted", updated_at=now.isoformat())
        _write(instance_path, state)
        _release(instance_path, state.id)
    return state


def _lock(instance_path: Path, run_id: str) -> bool:
    folder = _folder(instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        handle = os.open(folder / LOCK_FILE, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(handle, "w") as stream:
        stream.write(run_id)
    return True


def _release(instance_path: Path, run_id: str) -> None:
    lock = _folder(instance_path) / LOCK_FILE
    with contextlib.suppress(OSError):
        if lock.read_text() == run_id:
            lock.unlink()


@dataclass(frozen=True)
class RunRequest:
    """What a run is asked to replay: the edited ``text`` of the ``kind`` file."""

    kind: str
    file: str
    text: str
    base: str
    window: Window
    background: bool


def begin(instance_path: Path, request: RunRequest, now: datetime) -> RunState | None:
    """Start a run (its state written, the lock held), or None while another one runs."""
    running = current(instance_path, now)
    run_id = uuid.uuid4().hex
    if not _lock(instance_path, run_id):
        if running is not None and running.is_open:
            return None
        # A lock left by a run that is no longer running (its process stopped between
        # writing its last state and releasing the lock).
        with contextlib.suppress(OSError):
            (_folder(instance_path) / LOCK_FILE).unlink()
        if not _lock(instance_path, run_id):
            return None
    state = RunState(
        id=run_id,
        status="running",
        kind=request.kind,
        file=request.file,
        started_at=now.isoformat(),
        updated_at=now.isoformat(),
        pid=os.getpid(),
        start=_iso(request.window.start),
        end=_iso(request.window.end),
        text=request.text,
        base=request.base,
        background=request.background,
    )
    _write(instance_path, state)
    return state


# ---------------------------------------------------------------- the run


def execute(
    instance_path: Path,
    state: RunState,
    *,
    load: Callable[[], tuple[HistorySource, History]],
    saved: Model,
    edited: Model,
    clock: Callable[[], datetime],
) -> RunState:
    """Replay the history ``load`` returns through ``saved`` and ``edited`` and write the
    figures of both (or why it could not: a damaged history file's ``file:line``)."""
    try:
        source, history = load()
        window = state.window
        leads = [lead for lead in history.leads if window.holds(lead)]
        state = replace(state, total=len(leads), source=describe(source, history, window))
        _write(instance_path, state)
        replays: dict[str, list[Any]] = {"saved": [], "edited": []}
        for number, lead in enumerate(leads, start=1):
            replays["saved"].append(replay(saved, lead, until=window.end))
            replays["edited"].append(replay(edited, lead, until=window.end))
            if number % PROGRESS_EVERY == 0:
                state = replace(state, done=number, updated_at=clock().isoformat())
                _write(instance_path, state)
        results: dict[str, Any] = {"id": state.id}
        for side, model in (("saved", saved), ("edited", edited)):
            figures = summarise(iter(replays[side]), model.readiness.name)
            results[side] = figures.as_dict(missed=len(figures.missed))
        results["warnings"] = [f.as_dict() for f in model_warnings(leads, [saved, edited])]
        _replace(instance_path, RESULTS_FILE, state.id, results)
        now = clock().isoformat()
        state = replace(
            state,
            status="done",
            done=len(leads),
            updated_at=now,
            finished_at=now,
        )
    except HistoryFileError as exc:
        state = _failed(state, str(exc), clock)
    except Exception:
        # Whatever else stopped the run is in the server's log; the page says it failed
        # rather than leaving the run "running" until it is taken for dead.
        _write(instance_path, _failed(state, "", clock))
        _release(instance_path, state.id)
        raise
    _write(instance_path, state)
    _release(instance_path, state.id)
    return state


def _failed(state: RunState, error: str, clock: Callable[[], datetime]) -> RunState:
    now = clock().isoformat()
    return replace(state, status="failed", error=error, updated_at=now, finished_at=now)


def missed_rows(results: dict[str, Any]) -> Iterator[list[Any]]:
    """Every converter a side missed: side, key, converted at, deal value, why."""
    for side in ("saved", "edited"):
        for missed in results.get(side, {}).get("missed", ()):
            unmet = missed["unmet"].items()
            why = "; ".join(f"{rule}: {text}" for rule, text in unmet) or "never asked"
            yield [side, missed["key"], missed["converted_at"], missed["deal_value"], why]
