"""docs/backtest.md's calibration example: its commands work as written, from a copy of the
project folder's docs and campaigns, and the figures the page quotes are the ones printed."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from nurture.cli import cli

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "backtest.md"


def section() -> str:
    return DOC.read_text().split("## Calibrating points and the readiness line", 1)[1]


def example_commands() -> list[list[str]]:
    block = re.search(r"^```sh\n(.*?)^```", section(), re.S | re.M)
    assert block is not None
    lines = [line for line in block[1].splitlines() if line.strip()]
    assert all(line.startswith("nurture ") for line in lines)
    return [shlex.split(line)[1:] for line in lines]


def shown_row(label: str) -> list[str]:
    row = re.search(rf"^\| {re.escape(label)} \|(.*)\|$", section(), re.M)
    assert row is not None, label
    return [cell.strip() for cell in row[1].split("|")]


def percent(value: float) -> str:
    return f"{value:.1%}".replace("%", " %")


def test_the_calibration_example_runs_and_shows_what_the_page_says(app, tmp_path, monkeypatch):
    # The proposed files land in the current folder: a folder of links to the project's.
    for name in ("docs", "campaigns"):
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    runner = app.test_cli_runner()
    for args in example_commands():
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, (args, result.output)
    calibrate_args = next(
        args for args in example_commands() if args[:2] == ["scoring", "calibrate"]
    )
    again = runner.invoke(cli, [*calibrate_args, "--format", "json", "--no-progress"])
    assert again.exit_code == 0, again.output
    report = json.loads(again.output)
    assert (report["leads"], report["converters"], report["held_out"]) == (500, 37, 100)
    assert f"**`min_score: {report['proposed_rule']['min_score']}`**" in section()
    assert report["proposed_rule"]["min_grade"] is None
    today, proposed = report["replay_held_out"]
    assert shown_row("handed over") == [str(today["handed_over"]), str(proposed["handed_over"])]
    assert shown_row("precision") == [percent(today["precision"]), percent(proposed["precision"])]
    assert shown_row("recall") == [percent(today["recall"]), percent(proposed["recall"])]
    top = [item["id"] for item in report["importance"][:3]]
    assert top == ["budget", "department", "demo-request"]
    points = report["points"]["band"]
    assert points["budget: budget approved"]["points"] == -30
    assert points["budget: no budget"]["points"] == 20
    folds = report["cross_validation_auc"]
    assert f"ranges from {min(folds):.2f} to {max(folds):.2f}" in section()
    assert "rule job-seeker: the history turns its sign (-10 → 9)" in " ".join(report["notes"])
    backtest = runner.invoke(
        cli,
        ["readiness", "backtest", "--scoring", "proposed/scoring.yaml", "--icp",
         "proposed/icp.yaml", "--readiness", "proposed/readiness.yaml", "--format", "json"],
    )  # fmt: skip
    whole = json.loads(backtest.output)["results"][0]
    caught = whole["handed_over_converted"]
    assert (
        f"hands over {whole['handed_over']} leads (precision "
        f"{percent(caught / whole['handed_over'])}, recall {percent(caught / whole['converters'])})"
    ) in " ".join(section().split())
    today_whole = json.loads(
        runner.invoke(cli, ["readiness", "backtest", "--format", "json"]).output
    )
    live = today_whole["results"][0]
    caught = live["handed_over_converted"]
    assert (
        f"where today's hand over {live['handed_over']} "
        f"({percent(caught / live['handed_over'])}, {percent(caught / live['converters'])})"
    ) in " ".join(section().split())
