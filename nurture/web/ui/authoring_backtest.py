"""The backtest beside the scoring, ICP and readiness editors (docs/web/authoring.md#backtest).

- ``POST /authoring/backtest/<kind>``: the editor's "Backtest" button. The edited text is
  checked like "Check" does (problems: the editor with them, no backtest); then the
  history is replayed through the saved files and through the files with this text in
  place of the saved one (``nurture.backtest.runs``). A history of up to
  ``INLINE_LEADS`` leads is replayed in the request; a larger one in a thread of the web
  process, like an import. Nothing is saved but the run's results.
- ``GET /authoring/backtest``: the last run side by side (or its progress), kept until
  the next run; ``/status``: its progress as JSON for ``progress.js``;
  ``/missed.csv``: every converter either side missed, and why.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import abort, current_app, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from nurture.auth import roles
from nurture.authoring.checks import check_config
from nurture.authoring.files import config_path, normalise, read_text
from nurture.backtest.report import Window
from nurture.backtest.runs import (
    INLINE_LEADS,
    KINDS,
    HistorySource,
    RunRequest,
    RunState,
    SavedFilesInvalid,
    begin,
    current,
    execute,
    history_source,
    load_history,
    missed_rows,
    models,
    read_results,
)
from nurture.files.event_catalogue import event_catalogue
from nurture.platform.csv_safety import safe_row
from nurture.platform.db import transaction, utcnow
from nurture.web.ui.authoring import MAX_TEXT, _config_page, bp
from nurture.web.ui.background import start_thread
from nurture.web.ui.backtest_warnings import warning_notes
from nurture.web.ui.downloads import csv_download
from nurture.web.ui.formatting import number_text
from nurture.web.ui.render import page
from nurture.web.ui.security import requires, runtime

# Missed converters listed on the page per side (all of them are in the CSV).
MISSED_SHOWN = 10
# The Flask config key that lowers the inline limit (tests; a slow machine).
INLINE_CONFIG = "NURTURE_BACKTEST_INLINE_LEADS"


@dataclass(frozen=True)
class Panel:
    """What the editor's backtest box says: the history a run would use, the last run."""

    source: HistorySource
    last: RunState | None
    inline_limit: int


def _inline_limit() -> int:
    return int(current_app.config.get(INLINE_CONFIG, INLINE_LEADS))


def _source() -> HistorySource:
    with transaction(runtime().sessions) as session:
        return history_source(runtime().settings.instance_path, session)


@bp.app_template_global("backtest_panel")
def backtest_panel(kind: str) -> Panel | None:
    """The editor's backtest box, for the files a backtest replays."""
    if kind not in KINDS:
        return None
    return Panel(_source(), current(runtime().settings.instance_path, utcnow()), _inline_limit())


def _day(name: str) -> date | None:
    value = request.form.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _window() -> tuple[Window | None, str | None]:
    start, end = _day("from"), _day("to")
    for name, day in (("from", start), ("to", end)):
        if request.form.get(name, "").strip() and day is None:
            return None, _("Write the dates as on a calendar, e.g. 2026-01-31.")
    if start and end and start > end:
        return None, _("The first day must not be after the last day.")
    # Leads created from the start of the first day to the end of the last day.
    window = Window(
        datetime.combine(start, time(), UTC) if start else None,
        datetime.combine(end + timedelta(days=1), time(), UTC) if end else None,
    )
    return window, None


@bp.post("/authoring/backtest/<kind>")
@requires(roles.CAMPAIGNS_EDIT, audit_changes=False)
def backtest_run(kind: str) -> Any:
    """Backtest the edited text against the saved files (nothing is saved)."""
    if kind not in KINDS:
        abort(404)
    settings = runtime().settings
    path = config_path(settings, kind)
    text = request.form.get("text", "")
    if len(text) > MAX_TEXT:
        abort(413)
    base = request.form.get("base", "")
    shown = normalise(text, on_disk=read_text(path))
    catalogue = event_catalogue(settings)
    result = check_config(kind, path, shown, catalogue=catalogue)

    def editor(status: int, **context: Any) -> Any:
        return _config_page(kind, path, text, None, result, base=base, status=status, **context)

    if not result.ok:
        return editor(422, checked=True)
    window, error = _window()
    if window is None:
        return editor(422, backtest_error=error)
    source = _source()
    if source.empty:
        return editor(422, backtest_error=_("There is no history to replay yet."))
    paths = {name: config_path(settings, name) for name in KINDS}
    try:
        saved, edited = models(paths, kind, shown, catalogue)
    except SavedFilesInvalid as invalid:
        return editor(
            409,
            backtest_error=_("A saved file has problems, so there is nothing to compare with:"),
            saved_problems=[str(problem) for problem in invalid.problems],
        )
    background = source.leads > _inline_limit()
    run = RunRequest(kind, path.name, text, base, window, background)
    state = begin(settings.instance_path, run, utcnow())
    if state is None:
        return editor(
            409, backtest_error=_("A backtest is already running; wait for it to finish.")
        )
    sessions, instance = runtime().sessions, settings.instance_path

    def work() -> None:
        def load() -> Any:
            with transaction(sessions) as session:
                return history_source(instance, session), load_history(instance, session, utcnow())

        execute(instance, state, load=load, saved=saved, edited=edited, clock=utcnow)

    if background:
        start_thread(f"nurture-backtest-{state.id}", work)
    else:
        work()
    return redirect(url_for("ui_authoring.backtest"), code=303)


# ---------------------------------------------------------------- the results


@dataclass(frozen=True)
class Figure:
    """One row of the comparison: the saved and edited values, and the difference."""

    label: str
    saved: float | None
    edited: float | None
    style: str  # number, percent, days, times
    # +1 when more is better, -1 when less is, 0 when neither (more handovers are not
    # better in themselves): how the page colours the difference.
    better: int = 0

    @property
    def delta(self) -> float | None:
        if self.saved is None or self.edited is None:
            return None
        return self.edited - self.saved

    @property
    def arrow(self) -> str:
        """↑ or ↓ for a change, nothing when both sides are the same."""
        delta = self.delta
        if not delta:
            return ""
        return "↑" if delta > 0 else "↓"

    @property
    def tone(self) -> str:
        """good, bad or plain: whether the difference is an improvement."""
        delta = self.delta
        if not delta or not self.better:
            return "plain"
        return "good" if delta * self.better > 0 else "bad"


def figures(results: Mapping[str, Any]) -> list[Figure]:
    """The figures of both sides, in the order the page shows them."""
    saved, edited = results["saved"], results["edited"]
    rows = [
        (_("Leads replayed"), "leads", "number", 0),
        (_("Converted (all leads)"), "converters", "number", 0),
        (_("Base rate"), "base_rate", "percent", 0),
        (_("Handed over"), "handed_over", "number", 0),
        (_("Handed over and converted"), "handed_over_converted", "number", 1),
        (_("Precision"), "precision", "percent", 1),
        (_("Recall"), "recall", "percent", 1),
        (_("Lift over the base rate"), "lift", "times", 1),
        (_("Median days from handover to conversion"), "median_days_to_conversion", "days", 0),
        (_("Converters missed"), "missed_converters", "number", -1),
        (_("Deal value caught"), "deal_value_caught", "number", 1),
        (_("Deal value missed"), "deal_value_missed", "number", -1),
    ]
    return [
        Figure(label, saved[key], edited[key], style, better) for label, key, style, better in rows
    ]


@dataclass(frozen=True)
class MonthRow:
    month: date
    saved: tuple[int, int]
    edited: tuple[int, int]

    @property
    def delta(self) -> int:
        return self.edited[0] - self.saved[0]


def months(results: Mapping[str, Any]) -> list[MonthRow]:
    """Handed over (and converted) per month, both sides, every month either has."""
    sides = {
        side: {m["month"]: (m["handed_over"], m["converted"]) for m in results[side]["months"]}
        for side in ("saved", "edited")
    }
    keys = sorted(set(sides["saved"]) | set(sides["edited"]))
    return [
        MonthRow(
            date.fromisoformat(f"{key}-01"),
            sides["saved"].get(key, (0, 0)),
            sides["edited"].get(key, (0, 0)),
        )
        for key in keys
    ]


def signed(value: float | None, digits: int = 0) -> str:
    """A difference with its sign (+3, −1.5, ±0), in the reader's locale."""
    if value is None:
        return number_text(None)
    if round(value, digits) == 0:
        return "±" + number_text(0, digits)
    return ("+" if value > 0 else "−") + number_text(abs(value), digits)


bp.add_app_template_filter(signed, "signed")


def status_text(state: RunState) -> str:
    """A run's progress in words, as the page and its JSON status say it."""
    if state.total == 0:
        return _("Reading the history…")
    return _(
        "%(done)s of %(total)s leads replayed",
        done=number_text(state.done),
        total=number_text(state.total),
    )


bp.add_app_template_global(status_text, "backtest_status_text")


@bp.get("/authoring/backtest")
@requires(roles.CAMPAIGNS_VIEW)
def backtest() -> Any:
    """The last backtest: both sides and their difference, or its progress."""
    instance = runtime().settings.instance_path
    state = current(instance, utcnow())
    results = read_results(instance, state) if state else None
    return page(
        "ui/authoring/backtest.html",
        state=state,
        results=results,
        source=_source(),
        figures=figures(results) if results else [],
        months=months(results) if results else [],
        warnings=warning_notes(results) if results else [],
        period=_period(state) if state else None,
        missed_shown=MISSED_SHOWN,
        can_run=current_user.may(roles.CAMPAIGNS_EDIT),
        editor_url=url_for("ui_authoring.config_file", kind=state.kind) if state else None,
    )


def _period(state: RunState) -> tuple[date | None, date | None] | None:
    """The first and last day of the run's period (its window ends the day after)."""
    window = state.window
    if window.start is None and window.end is None:
        return None
    last = window.end - timedelta(days=1) if window.end else None
    return (window.start.date() if window.start else None, last.date() if last else None)


@bp.get("/authoring/backtest/status")
@requires(roles.CAMPAIGNS_VIEW)
def backtest_status() -> Any:
    """The last run's progress as JSON (``progress.js`` polls it while it runs)."""
    state = current(runtime().settings.instance_path, utcnow())
    if state is None:
        response = jsonify(id=None, status="none", open=False, done=0, total=0, percent=None)
    else:
        response = jsonify(
            id=state.id,
            status=state.status,
            open=state.is_open,
            done=state.done,
            total=state.total,
            percent=state.percent,
            text=status_text(state),
        )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/authoring/backtest/missed.csv")
@requires(roles.CAMPAIGNS_VIEW)
def backtest_missed() -> Any:
    """Every converter either side missed and why (none before a run has finished); safe
    to open in a spreadsheet."""
    instance = runtime().settings.instance_path
    state = current(instance, utcnow())
    results = read_results(instance, state) if state else None
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(safe_row(["side", "key", "converted_at", "deal_value", "why"]))
    for row in missed_rows(results) if results else ():
        writer.writerow(safe_row(row))
    # utf-8-sig: Excel reads a UTF-8 CSV right only when it starts with a BOM.
    return csv_download("\ufeff" + buffer.getvalue(), "backtest-missed.csv")
