"""`nurture scoring calibrate` end to end on a small history: the proposed files are written
beside the live ones (never over them) and pass the validate commands; bad input is one
clear line."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from nurture.backtest import History, write_history
from nurture.cli import cli
from tests.imports_support import run_fresh
from tests.unit.backtest.synthetic_history import ICP, READINESS, SCORING, synthetic_history


@pytest.fixture
def paths(tmp_path: Path) -> dict[str, Path]:
    found = {"history": tmp_path / "history.jsonl.gz"}
    write_history(found["history"], History(synthetic_history(1000), source="test"))
    for name, text in [("scoring", SCORING), ("icp", ICP), ("readiness", READINESS)]:
        found[name] = tmp_path / f"{name}.yaml"
        found[name].write_text(text)
    return found


def invoke(app, *args: str):
    return app.test_cli_runner().invoke(cli, ["scoring", "calibrate", "--no-progress", *args])


def files_args(paths: dict[str, Path]) -> list[str]:
    return [
        "--history", str(paths["history"]), "--scoring", str(paths["scoring"]),
        "--icp", str(paths["icp"]), "--readiness", str(paths["readiness"]), "--folds", "3",
    ]  # fmt: skip


def test_calibrate_writes_proposed_files_beside_the_live_ones_that_validate(app, paths):
    result = invoke(app, *files_args(paths), "--target", "top=20%", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    folder = paths["scoring"].parent
    written = {kind: Path(path) for kind, path in report["files"].items()}
    assert written == {
        "scoring": folder / "scoring.proposed.yaml",
        "icp": folder / "icp.proposed.yaml",
        "readiness": folder / "readiness.proposed.yaml",
    }
    # The live files are untouched.
    assert paths["scoring"].read_text() == SCORING
    assert paths["readiness"].read_text() == READINESS
    runner = app.test_cli_runner()
    for kind, path in written.items():
        checked = runner.invoke(cli, [kind, "validate", str(path)])
        assert checked.exit_code == 0, checked.output
    assert report["held_out"] == 200 and report["trained_on"] == 800
    assert report["held_out_rule"]["share_handed_over"] <= 0.3
    assert report["importance"][0]["id"] == "demo"
    assert report["warnings"] == []
    assert [r["name"] for r in report["replay_held_out"]] == ["today's files", "proposed files"]
    assert report["replay_held_out"][1]["precision"] > report["held_out_rule"]["base_rate"]
    assert len(report["calibration"]) == 10
    # The proposed files backtest like any other.
    backtest = runner.invoke(
        cli,
        ["readiness", "backtest", "--history", str(paths["history"]),
         "--scoring", str(written["scoring"]), "--icp", str(written["icp"]),
         "--readiness", str(written["readiness"]), "--format", "json"],
    )  # fmt: skip
    assert backtest.exit_code == 0, backtest.output
    assert json.loads(backtest.output)["results"][0]["by_rule"].keys() == {"calibrated"}


def test_the_table_shows_the_figures_the_calibration_table_and_the_weights(app, paths, tmp_path):
    out = tmp_path / "out"
    result = invoke(
        app, *files_args(paths), "--no-replay",
        "--out-scoring", str(out / "s.yaml"), "--out-icp", str(out / "i.yaml"),
        "--out-readiness", str(out / "r.yaml"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    for text in [
        "held-out AUC (logistic regression)",
        "proposed readiness rule",
        "Calibration table",
        "What weighs most",
        "rule demo",
        "rule unused: matched too few leads",
        f"wrote {out / 's.yaml'} (proposed scoring file)",
    ]:
        assert text in result.output
    assert "replayed handover by handover" not in result.output
    assert (out / "r.yaml").read_text().count("id: calibrated") == 1


@pytest.mark.parametrize(("extra", "message"), [
    (["--target", "recall=1"], "use precision=0.8, top=20% or balanced"),
    (["--out-scoring", "{scoring}"], "is a live scoring file: calibrate never overwrites one"),
    (["--out-icp", "{dir}/same.yaml", "--out-readiness", "{dir}/same.yaml"],
     "need three different paths"),
    (["--history", "{dir}/none.jsonl.gz"], "no history file"),
    (["--scoring", "{dir}/missing.yaml"], "missing.yaml"),
])  # fmt: skip
def test_bad_input_is_one_clear_line_and_writes_nothing(app, paths, extra, message):
    folder = paths["scoring"].parent
    extra = [a.format(scoring=paths["scoring"], dir=folder) for a in extra]
    result = invoke(app, *files_args(paths), *extra)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert not list(folder.glob("*.proposed.yaml"))
    assert paths["scoring"].read_text() == SCORING


def test_a_history_without_converters_says_so_with_its_path(app, paths):
    leads = [lead for lead in synthetic_history(300) if not lead.outcome.converted]
    write_history(paths["history"], History(tuple(leads)))
    result = invoke(app, *files_args(paths))
    assert result.exit_code == 1
    assert f"{paths['history']}: no lead in the history converted" in result.output


def test_calibrate_warns_of_a_column_that_leaks_the_outcome(app, paths):
    # A "closed" tag the CRM sets when a deal is won: present for every converter only.
    leads = tuple(
        replace(lead, fields={**lead.fields, "attributes.closed_tag": "won"})
        if lead.outcome.converted
        else lead
        for lead in synthetic_history(1000)
    )
    write_history(paths["history"], History(leads, source="test"))

    result = invoke(app, *files_args(paths), "--format", "json")

    assert result.exit_code == 0, result.output
    warnings = json.loads(result.output)["warnings"]
    assert [(w["kind"], w["fact"]) for w in warnings] == [("leakage", "attributes.closed_tag")]
    table = invoke(app, *files_args(paths))
    printed = " ".join(table.output.split())  # the console wraps long lines
    assert "warning (leakage): 'attributes.closed_tag' is filled in for 100 % of converters" in (
        printed
    )


def test_the_scoring_commands_load_scikit_learn_only_to_fit():
    # `calibrate` shares its command group with `validate` and `sync`, which load it too:
    # scikit-learn and SciPy (about a second) wait until a model is fitted.
    result, modules = run_fresh("import nurture.cli.calibrate_cmd")

    assert result.returncode == 0, result.stderr
    assert "nurture.backtest.calibrate" in modules
    assert not {name.split(".")[0] for name in modules} & {"sklearn", "scipy"}
