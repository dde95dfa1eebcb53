"""Command: ``nurture scoring calibrate`` — points for the scoring file and the ICP, and a
readiness rule, learnt from a history's outcomes and written as *proposed* files beside
the live ones (docs/backtest.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from nurture.authoring.checks import load_config
from nurture.backtest import HistoryFileError, Model, read_history
from nurture.backtest.calibrate import Calibration, CalibrationError, Files, Options, calibrate
from nurture.backtest.report import Backtest
from nurture.backtest.thresholds import Figures, TargetError, parse_target
from nurture.cli.backtest_cmd import HISTORY_FILE, _history_path
from nurture.cli.group import runtime, valid_or_exit
from nurture.cli.scoring_cmd import scoring_group
from nurture.files.event_catalogue import event_catalogue
from nurture.files.yaml_file import FileLoad
from nurture.platform.db import utcnow
from nurture.platform.event_types import EventCatalogue
from nurture.qualification.icp_parser import load_icp_file
from nurture.qualification.readiness_parser import load_readiness_file
from nurture.scoring.parser import load_scoring_file

T = TypeVar("T")
# How many facts the table lists under "what weighs most".
_SHOWN = 12


def _file(*names: str, help: str) -> Any:
    """An option naming a file (``help`` is click's own keyword)."""
    return click.option(*names, type=click.Path(dir_okay=False, path_type=Path), help=help)


def _loaded(path: Path, load: FileLoad[T]) -> tuple[T, str]:
    return valid_or_exit(path, load), load.text


def proposed_path(source: Path, given: Path | None) -> Path:
    """Where a proposal of ``source`` goes: ``given``, or beside it as NAME.proposed.yaml."""
    return given or source.with_name(f"{source.stem}.proposed{source.suffix or '.yaml'}")


def _check_proposal(kind: str, text: str, target: Path, catalogue: EventCatalogue) -> None:
    """A proposal must load like any file the marketer edits (else: a bug, said plainly)."""
    found = load_config(kind, str(target), text, catalogue=catalogue)
    if not found.ok:
        problems = "; ".join(str(problem) for problem in found.problems)
        raise click.ClickException(f"{target}: the proposal does not validate ({problems})")


def _outputs(
    sources: dict[str, Path], given: dict[str, Path | None], live: set[Path]
) -> dict[str, Path]:
    outputs = {kind: proposed_path(path, given[kind]) for kind, path in sources.items()}
    for kind, target in outputs.items():
        if target.resolve() in live:
            raise click.ClickException(
                f"{target} is a live {kind} file: calibrate never overwrites one; give "
                f"--out-{kind} another path"
            )
    if len({target.resolve() for target in outputs.values()}) < len(outputs):
        raise click.ClickException("the three proposed files need three different paths")
    return outputs


@scoring_group.command("calibrate")
@_file(
    "--history",
    "history_file",
    help=f"The history to learn from (default: {HISTORY_FILE} in the instance folder).",
)
@_file("--scoring", help="Scoring file whose points are fitted (default: NURTURE_SCORING_FILE).")
@_file("--icp", help="ICP file whose band points are fitted (default: NURTURE_ICP_FILE).")
@_file(
    "--readiness",
    help="Readiness file the proposed rule replaces the rules of "
    "(default: NURTURE_READINESS_FILE).",
)
@click.option(
    "--target",
    default="balanced",
    show_default=True,
    help="What the readiness rule is chosen for: precision=0.8 (at least 80 % of handovers "
    "convert, catching as many converters as possible), top=20% (hand over at most a fifth "
    "of the leads) or balanced (precision and recall, F1).",
)
@click.option(
    "--held-out",
    type=click.FloatRange(0.05, 0.5),
    default=0.2,
    show_default=True,
    help="Share of the leads kept apart to judge the result on.",
)
@click.option(
    "--folds",
    type=click.IntRange(2, 10),
    default=5,
    show_default=True,
    help="Cross-validation folds on the training part.",
)
@click.option(
    "--seed",
    type=int,
    default=7,
    show_default=True,
    help="Seed of the held-out split and the folds (same seed, same result).",
)
@click.option(
    "--boosting",
    is_flag=True,
    help="Also fit gradient boosting, for its held-out AUC as a comparison.",
)
@click.option(
    "--no-replay",
    is_flag=True,
    help="Skip replaying the held-out leads through today's and the proposed files.",
)
@_file(
    "--out-scoring",
    help="Where to write the proposed scoring file (default: beside it, NAME.proposed.yaml).",
)
@_file("--out-icp", help="Where to write the proposed ICP file.")
@_file("--out-readiness", help="Where to write the proposed readiness file.")
@click.option(
    "--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option("--no-progress", is_flag=True, help="No progress bar on stderr.")
def calibrate_command(
    history_file: Path | None,
    scoring: Path | None,
    icp: Path | None,
    readiness: Path | None,
    target: str,
    held_out: float,
    folds: int,
    seed: int,
    boosting: bool,
    no_replay: bool,
    out_scoring: Path | None,
    out_icp: Path | None,
    out_readiness: Path | None,
    output: str,
    no_progress: bool,
) -> None:
    """Fit the points of the scoring file's rules and the ICP's bands to the history's
    outcomes, choose a readiness rule for --target, and write proposed files beside the
    live ones (never over them). Prints held-out figures, a calibration table and which
    facts weigh most."""
    try:
        chosen = parse_target(target)
    except TargetError as exc:
        raise click.BadParameter(str(exc), param_hint="--target") from None
    settings = runtime().settings
    catalogue = event_catalogue(settings)
    sources = {
        "scoring": scoring or settings.scoring_file,
        "icp": icp or settings.icp_file,
        "readiness": readiness or settings.readiness_file,
    }
    live = {settings.scoring_file, settings.icp_file, settings.readiness_file, *sources.values()}
    outputs = _outputs(
        sources,
        {"scoring": out_scoring, "icp": out_icp, "readiness": out_readiness},
        {path.resolve() for path in live},
    )
    scoring_model, scoring_text = _loaded(
        sources["scoring"], load_scoring_file(sources["scoring"], catalogue=catalogue)
    )
    icp_model, icp_text = _loaded(sources["icp"], load_icp_file(sources["icp"]))
    readiness_model, readiness_text = _loaded(
        sources["readiness"], load_readiness_file(sources["readiness"], catalogue=catalogue)
    )
    history_path = _history_path(history_file)
    try:
        history = read_history(history_path)
    except HistoryFileError as exc:
        raise click.ClickException(str(exc)) from None
    files = Files(
        Model(scoring_model, icp_model, readiness_model), scoring_text, icp_text, readiness_text
    )
    options = Options(chosen, held_out, folds, seed, boosting, not no_replay)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=no_progress,
        transient=True,
    ) as progress:
        task = progress.add_task("reading", total=None)

        def on_progress(step: str, done: int, total: int) -> None:
            progress.update(task, description=step, completed=done, total=total)

        try:
            result = calibrate(
                files,
                history.leads,
                options,
                made_at=utcnow(),
                source=history_path.name,
                on_progress=on_progress,
            )
        except CalibrationError as exc:
            raise click.ClickException(f"{history_path}: {exc}") from None
    _write(result, outputs, catalogue)
    if output == "json":
        data = result.as_dict()
        data["files"] = {kind: str(path) for kind, path in outputs.items()}
        click.echo(json.dumps(data, indent=2))
    else:
        _table(result, files, outputs)


def _write(result: Calibration, outputs: dict[str, Path], catalogue: EventCatalogue) -> None:
    proposed = result.proposed
    texts = {"scoring": proposed.scoring, "icp": proposed.icp, "readiness": proposed.readiness}
    for kind, text in texts.items():
        _check_proposal(kind, text, outputs[kind], catalogue)
    for kind, text in texts.items():
        outputs[kind].parent.mkdir(parents=True, exist_ok=True)
        outputs[kind].write_text(text, encoding="utf-8")


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _number(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _figure_rows(figures: Figures) -> list[tuple[str, str]]:
    return [
        ("handed over", f"{figures.handed_over} ({_share(figures.share)} of leads)"),
        ("precision", _share(figures.precision)),
        ("recall", _share(figures.recall)),
        ("lift over base rate", "–" if figures.lift is None else f"{figures.lift:.2f}×"),
    ]


def _table(result: Calibration, files: Files, outputs: dict[str, Path]) -> None:
    console = Console(width=110)
    rule = result.proposed.rule
    conditions = [f"score ≥ {rule.min_score}"] if rule.min_score is not None else []
    if rule.min_grade is not None:
        conditions.append(f"grade {rule.min_grade} or better")
    cv = result.fitted.cv_auc
    boosting = []
    if result.boosting_auc is not None:
        boosting.append(("held-out AUC (gradient boosting)", _number(result.boosting_auc)))
    summary = Table(title="Calibration", show_header=False)
    summary.add_column("")
    summary.add_column("", justify="right")
    base = result.converters / result.leads
    for label, value in [
        ("leads (converted, base rate)", f"{result.leads} ({result.converters}, {base:.1%})"),
        ("trained on / held out", f"{result.trained_on} / {result.held_out}"),
        ("cross-validated AUC (training)", f"{sum(cv) / len(cv):.3f} ± {_spread(cv):.3f}"),
        ("held-out AUC (logistic regression)", _number(result.auc)),
        *(
            [("held-out AUC (gradient boosting)", _number(result.boosting_auc))]
            if result.boosting_auc is not None
            else []
        ),
        ("target", str(result.target) + _unmet(result)),
        ("proposed readiness rule", " and ".join(conditions)),
        *[(f"held out: {label}", value) for label, value in _figure_rows(result.held_out_figures)],
    ]:
        summary.add_row(label, value)
    console.print(summary)
    if result.replays:
        _replays(console, result.replays)
    calibration = Table(title="Calibration table (held out, deciles of predicted chance)")
    for column in ("decile", "leads", "predicted", "observed", "converters"):
        calibration.add_column(column, justify="right")
    for row in result.calibration:
        calibration.add_row(
            str(row.decile),
            str(row.leads),
            _share(row.predicted),
            _share(row.observed),
            str(row.converters),
        )
    console.print(calibration)
    _weights(console, result, files)
    for note in result.notes:
        console.print(f"note: {note}", markup=False, highlight=False)
    for warning in result.warnings:
        console.print(f"warning ({warning.kind}): {warning.message}", markup=False, highlight=False)
    for kind, path in outputs.items():
        # soft_wrap: a path is printed whole, never broken across lines.
        console.print(
            f"wrote {path} (proposed {kind} file)", markup=False, highlight=False, soft_wrap=True
        )
    console.print(
        "Review and edit them, check them with `nurture scoring validate`, `nurture icp "
        "validate` and `nurture readiness validate`, backtest them with `nurture readiness "
        "backtest --scoring … --icp … --readiness …`, and only then copy them over the live "
        "files.",
        markup=False,
        highlight=False,
    )


def _unmet(result: Calibration) -> str:
    if result.choice.met:
        return ""
    chosen = result.choice.chosen_on
    return (
        f" (not reached: the best line hands over {_share(chosen.share)} of the training "
        f"leads at {_share(chosen.precision)} precision)"
    )


def _spread(values: tuple[float, ...]) -> float:
    mean = sum(values) / len(values)
    return float((sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5)


def _replays(console: Console, replays: tuple[Backtest, ...]) -> None:
    table = Table(title="Held-out leads replayed handover by handover")
    table.add_column("")
    for replay in replays:
        table.add_column(replay.name, justify="right")
    rows = [
        ("handed over", lambda r: str(r.handed_over)),
        ("precision", lambda r: _share(r.precision)),
        ("recall", lambda r: _share(r.recall)),
        ("lift over base rate", lambda r: "–" if r.lift is None else f"{r.lift:.2f}×"),
        ("median days handover → conversion", lambda r: _number(r.median_days, 1)),
    ]
    for label, cell in rows:
        table.add_row(label, *(cell(replay) for replay in replays))
    console.print(table)


def _weights(console: Console, result: Calibration, files: Files) -> None:
    table = Table(
        title="What weighs most (held out: AUC lost when shuffled; sure: share of resampled "
        "fits with the same sign)"
    )
    columns = ("fact", "direction", "sure", "std. weight", "AUC drop", "points now → proposed")
    for column in columns:
        table.add_column(column, justify="left" if column == "fact" else "right")
    points = result.proposed.points
    scoring = files.model.scoring
    for item in result.importance[:_SHOWN]:
        if item.kind == "rule":
            found = scoring.rule(item.id)
            now = f"{found.points:g}" if found else "?"
            change = f"{now} → {points.rules[item.id]}"
            fact = f"rule {item.id}"
        else:
            criterion = next(c for c in files.model.icp.criteria if c.id == item.id)
            now_best = criterion.max_points
            new_best = max(points.bands[(item.id, i)] for i in range(len(criterion.bands)))
            change = f"best band {now_best} → {new_best}"
            fact = f"criterion {item.id}" + (f": {item.strongest}" if item.direction != "0" else "")
        sure = "–" if item.direction == "0" else f"{item.agreement:.0%}"
        weight, drop = f"{item.weight:+.3f}", f"{item.auc_drop:.4f}"
        table.add_row(fact, item.direction, sure, weight, drop, change)
    console.print(table)
