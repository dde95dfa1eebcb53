"""Calibration speed and quality: ``nurture scoring calibrate``'s work on a generated history
of N leads (default 100,000), made by ``bench/backtest.py``'s generator (most leads never
convert; a hidden intent drives reading, demo requests and conversion, with noise;
firmographics, aggregate facts and a leaked "closed" column).

Times reading the history file and calibrating the shipped files (campaigns/*.yaml) on it
(describing the leads, cross-validated fit, proposal, readiness rule, explanation), then
prints, on the held-out leads: the base rate; the calibrated rule at its threshold as
chosen (at each lead's cut-off); and both the hand-written shipped files and the proposed
ones replayed through ``nurture.backtest`` handover by handover; last, the shipped
``nurture scoring calibrate`` on the same file, timed from its start to its exit
(``--no-command`` skips it).

    PYTHONPATH=. .venv/bin/python bench/calibrate.py [--leads 100000] [--seed 7]
        [--target balanced] [--boosting]

``--example FOLDER`` writes N generated leads as the CSV files of docs/backtest.md's
calibration example instead (``--leads 500 --example docs/backtest`` made them).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from backtest import ROOT, lead  # the generator, shared with the backtest benchmark

from nurture.backtest import History, HistoryLead, Model, read_history, write_history
from nurture.backtest.calibrate import Files, Options, calibrate, proposed_facts
from nurture.backtest.fitting import split
from nurture.backtest.thresholds import Target, choose_rule, figures, parse_target
from nurture.qualification.icp_parser import load_icp_file
from nurture.qualification.readiness_parser import load_readiness_file
from nurture.scoring.parser import load_scoring_file


def share(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def minute(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M}"


def write_example(folder: Path, leads: list[HistoryLead]) -> None:
    """The leads as a CRM export would give them: one CSV of leads, one of events."""
    folder.mkdir(parents=True, exist_ok=True)
    columns = {
        "Title": "title",
        "Industry": "account.industry",
        "Employees": "account.employees",
        "Annual revenue": "account.annual_revenue",
        "Country": "account.country",
        "Budget": "attributes.budget",
        "Visits": "attributes.history.visits",
    }
    with (folder / "calibrate-leads.csv").open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["Lead ID", "Created", *columns, "Won", "Close date", "Amount"])
        for item in leads:
            outcome = item.outcome
            writer.writerow([
                item.key, minute(item.created_at),
                *(item.fields.get(name, "") for name in columns.values()),
                "yes" if outcome.converted else "no",
                minute(outcome.converted_at) if outcome.converted_at else "",
                f"{outcome.deal_value:.0f}" if outcome.deal_value else "",
            ])  # fmt: skip
    with (folder / "calibrate-events.csv").open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["Lead", "Type", "Time", "URL"])
        for item in leads:
            for event in item.events:
                url = str(event.properties.get("url", ""))
                writer.writerow([item.key, event.type, minute(event.occurred_at), url])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--target", default="balanced")
    parser.add_argument("--boosting", action="store_true")
    parser.add_argument("--example", type=Path, metavar="FOLDER")
    parser.add_argument("--no-command", action="store_true", help="skip timing the shipped command")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    if args.example:
        write_example(args.example, [lead(rng, n) for n in range(args.leads)])
        return
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    leads = [lead(rng, n) for n in range(args.leads)]
    print(f"generated     {len(leads):,} leads, {sum(len(x.events) for x in leads):,} events")
    scoring = load_scoring_file(ROOT / "campaigns" / "scoring.yaml")
    icp = load_icp_file(ROOT / "campaigns" / "icp.yaml")
    readiness = load_readiness_file(ROOT / "campaigns" / "readiness.yaml")
    assert scoring.value and icp.value and readiness.value
    files = Files(
        Model(scoring.value, icp.value, readiness.value), scoring.text, icp.text, readiness.text
    )
    folder = Path(tempfile.mkdtemp(prefix="nurture-bench-calibrate-"))
    path = folder / "history.jsonl.gz"
    write_history(path, History(tuple(leads), source="bench"))
    del leads
    began, cpu = time.perf_counter(), time.process_time()
    history = read_history(path)
    read, read_cpu = time.perf_counter() - began, time.process_time() - cpu
    print(f"read          {read:.1f} s ({read_cpu:.1f} s of processor time)")

    # When each step began, wall and processor time (the callback names the step it is in).
    steps: dict[str, tuple[float, float]] = {}
    began, cpu = time.perf_counter(), time.process_time()

    def on_progress(step: str, done: int, total: int) -> None:
        steps.setdefault(step, (time.perf_counter(), time.process_time()))

    result = calibrate(
        files,
        history.leads,
        Options(target=parse_target(args.target), boosting=args.boosting),
        made_at=datetime.now(UTC),
        source="bench",
        on_progress=on_progress,
    )
    took, cpu_took = time.perf_counter() - began, time.process_time() - cpu
    names = list(steps)
    ends = [steps[name] for name in names[1:]] + [(began + took, cpu + cpu_took)]
    for name, end in zip(names, ends, strict=True):
        start = steps[name]
        print(
            f"  {name:<30} {end[0] - start[0]:6.1f} s, {end[1] - start[1]:5.1f} s of processor time"
        )
    replay = 0.0
    if "replaying the held-out leads" in steps:
        replay = began + took - steps["replaying the held-out leads"][0]
    print(f"calibrate     {took:.1f} s, {cpu_took:.1f} s of processor time (of which the replay "
          f"of the held-out leads twice {replay:.1f} s; read + calibrate without the replay "
          f"{read + took - replay:.1f} s; the goal is 60 s)")  # fmt: skip
    cv = result.fitted.cv_auc
    boosting = f", gradient boosting {result.boosting_auc:.3f}" if result.boosting_auc else ""
    folds = ", ".join(f"{a:.3f}" for a in cv)
    print(f"model         cross-validated AUC {sum(cv) / len(cv):.3f} (folds {folds}), "
          f"held-out AUC {result.auc:.3f}{boosting}")  # fmt: skip
    rule = result.proposed.rule
    chosen = result.held_out_figures
    print(f"held out      {result.held_out:,} leads, base rate {share(chosen.base_rate)}")
    print(f"calibrated    rule min_score {rule.min_score}, min_grade {rule.min_grade or '–'} "
          f"({result.target}): at the cut-off handed over {chosen.handed_over:,}, precision "
          f"{share(chosen.precision)}, recall {share(chosen.recall)}, lift "
          f"{chosen.lift or 0:.2f}")  # fmt: skip
    for replayed in result.replays:
        print(f"replayed      {replayed.name:<14} handed over {replayed.handed_over:,}, precision "
              f"{share(replayed.precision)}, recall {share(replayed.recall)}, lift "
              f"{replayed.lift or 0:.2f}, median days {replayed.median_days or 0:.1f}")  # fmt: skip
    if result.replays:
        # The fair comparison: the calibrated points handing over as many leads as the
        # shipped files do (the readiness line chosen for that share on the training part).
        today = result.replays[0]
        options = Options()
        train, test = split(result.table.converted, options.held_out, options.seed)
        scores, grades = proposed_facts(result.table, result.proposed.points, files.model.icp)
        same = choose_rule(
            scores[train], grades[train], result.table.converted[train],
            Target("top", today.handed_over / today.leads),
        )  # fmt: skip
        held = figures(same.selects(scores[test], grades[test]), result.table.converted[test])
        print(f"same volume   calibrated points with min_score {same.min_score}, min_grade "
              f"{same.min_grade or '–'} (at most {today.handed_over / today.leads:.1%} of leads, "
              f"as today's files): handed over {held.handed_over:,}, precision "
              f"{share(held.precision)}, recall {share(held.recall)}, "
              f"lift {held.lift or 0:.2f}")  # fmt: skip
    print("weighs most   " + ", ".join(
        f"{item.kind} {item.id} ({item.direction}, AUC drop {item.auc_drop:.3f})"
        for item in result.importance[:6]
    ))  # fmt: skip
    if not args.no_command:
        del history, result
        shipped_command(folder, path, args)
    shutil.rmtree(folder)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


def shipped_command(folder: Path, path: Path, args: argparse.Namespace) -> None:
    """Time ``nurture scoring calibrate`` on the same history file from its start to its
    exit, as a user runs it (the bundled files; proposed files written into ``folder``)."""
    command = [
        str(Path(sys.executable).with_name("nurture")), "scoring", "calibrate",
        "--history", str(path), "--no-progress", "--format", "json", "--target", args.target,
        "--out-scoring", str(folder / "scoring.proposed.yaml"),
        "--out-icp", str(folder / "icp.proposed.yaml"),
        "--out-readiness", str(folder / "readiness.proposed.yaml"),
        *(["--boosting"] if args.boosting else []),
    ]  # fmt: skip
    env = {**os.environ, "NURTURE_INSTANCE_PATH": str(folder / "instance")}
    began = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - began
    if done.returncode != 0:
        print(f"command       failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        sys.exit(1)
    report = json.loads(done.stdout)
    print(f"command       `nurture scoring calibrate` {took:.1f} s from start to exit (the goal "
          f"is 60 s); held-out AUC {report['held_out_auc']}")  # fmt: skip


if __name__ == "__main__":
    main()
