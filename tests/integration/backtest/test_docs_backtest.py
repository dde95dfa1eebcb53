"""docs/backtest.md's worked example: its commands work as written, on a fresh instance,
and the figures the page shows are the ones the backtest prints."""

import json
import re
import shlex
from pathlib import Path

from nurture.cli import cli

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "backtest.md"


def example_commands() -> list[list[str]]:
    section = DOC.read_text().split("## Worked example", 1)[1]
    block = re.search(r"^```sh\n(.*?)^```", section, re.S | re.M)
    assert block is not None
    lines = [line for line in block[1].splitlines() if line.strip()]
    assert all(line.startswith("nurture ") for line in lines)
    return [shlex.split(line)[1:] for line in lines]


def shown_row(label: str) -> list[str]:
    """The cells of the doc's comparison table row ``label`` (after the label)."""
    row = re.search(rf"^\| {re.escape(label)} \|(.*)\|$", DOC.read_text(), re.M)
    assert row is not None, label
    return [cell.strip() for cell in row[1].split("|")]


def test_the_worked_example_runs_and_shows_what_the_page_says(app, monkeypatch):
    monkeypatch.chdir(ROOT)
    runner = app.test_cli_runner()
    for args in example_commands():
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, (args, result.output)
    compare = runner.invoke(
        cli,
        ["readiness", "backtest", "--compare",
         "docs/backtest/readiness-hand-raisers-only.yaml", "--format", "json"],
    )  # fmt: skip
    assert compare.exit_code == 0, compare.output
    results = json.loads(compare.output)["results"]

    def percent(value: float) -> str:
        return f"{value:.1%}".replace("%", " %")

    assert shown_row("handed over") == [str(r["handed_over"]) for r in results]
    assert shown_row("precision") == [percent(r["precision"]) for r in results]
    assert shown_row("recall") == [percent(r["recall"]) for r in results]
    assert shown_row("lift over base rate") == [f"{r['lift']:.2f}×" for r in results]
    assert shown_row("median days handover → conversion") == [
        f"{r['median_days_to_conversion']:.1f}" for r in results
    ]
    missed = {m["key"]: m["unmet"] for m in results[0]["missed"]}
    assert missed["L02"]["hot-and-fit"] == "engagement is not hot (temperature warm)"
    assert missed["L08"]["hot-and-fit"] == "fit grade C (54) is below B"
