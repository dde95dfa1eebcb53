"""`nurture history import` (CSV files with hostile rows, the instance's own leads) and
`nurture readiness backtest` on what it wrote."""

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from nurture.backtest import read_history
from nurture.cli import cli
from nurture.leads.service import upsert_lead
from nurture.leads.validation import validate_lead_data
from nurture.models import Event, StageChange
from nurture.platform.db import transaction

NOW = datetime(2026, 6, 1, tzinfo=UTC)

SCORING = """name: t
half_life: 3650d
bands: { warm: 5, hot: 9 }
rules:
  - { id: pricing, event: page.viewed, when: { url: "/pricing*" }, points: 5 }
"""
ICP = """name: t
grades: { A: 75, B: 50, C: 25 }
criteria:
  - { id: visits, field: attributes.history.visits, bands: [{ gte: 5, points: 100 }] }
"""
READINESS = """name: hot
rules:
  - { id: hot, temperature: hot }
"""

LEADS = """Lead ID,Created,Won,Close date,Amount,Visits,Notes
a,2026-01-05,yes,2026-02-01,"1,200",7,x
b,2026-01-06,yes,2026-02-02,800,2,x
c,2026-01-07,no,,,9,x
d,2026-01-08,maybe,,,1,x
e,not a date,no,,,1,x
f,2026-01-09,yes,,,1,x
a,2026-01-10,no,,,1,x
g,2026-01-11,no,,
h,2026-01-12,no,,abc,1,x
"""
EVENTS = """lead,type,time,url,properties
a,page.viewed,2026-01-06T10:00,/pricing,
a,page.viewed,2026-01-07T10:00,/pricing,
c,page.viewed,2026-01-08T10:00,/pricing,
c,page.viewed,2026-01-09T10:00,/pricing,
zz,page.viewed,2026-01-09T10:00,/pricing,
b,page.viewed,yesterday,/pricing,
b,page.viewed,2026-01-09T10:00,/pricing,{not json
"""


def files(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for name, text in [
        ("scoring.yaml", SCORING),
        ("icp.yaml", ICP),
        ("readiness.yaml", READINESS),
        ("leads.csv", LEADS),
        ("events.csv", EVENTS),
    ]:
        paths[name] = tmp_path / name
        paths[name].write_text(text)
    return paths


def test_import_rejects_bad_rows_with_file_line_and_keeps_the_rest(app, tmp_path):
    paths = files(tmp_path)
    out = tmp_path / "history.jsonl.gz"
    result = app.test_cli_runner().invoke(
        cli,
        [
            "history", "import", str(paths["leads.csv"]), "--events", str(paths["events.csv"]),
            "--map", "Visits=history.visits", "--map", "Notes=-", "--out", str(out),
        ],
    )  # fmt: skip
    leads = str(paths["leads.csv"])
    events = str(paths["events.csv"])
    assert result.exit_code == 1, result.output
    for expected in [
        f"{leads}:5: converted is 'maybe': use yes or no",
        f"{leads}:6: 'not a date' is not an ISO 8601 date or time",
        f"{leads}:7: converted, but no conversion time",
        f"{leads}:8: lead 'a' repeats line 2",
        f"{leads}:9: 5 cells; the header has 7",
        f"{leads}:10: deal value 'abc' is not an amount",
        f"{events}:6: no lead 'zz' in the leads file",
        f"{events}:7: 'yesterday' is not an ISO 8601 date or time",
        f"{events}:8: properties is not a JSON object",
        "leads: 9 read, 3 kept, 6 rejected",
        "events: 7 read, 4 kept, 3 rejected",
    ]:
        assert expected in result.output
    history = read_history(out)
    by_key = {lead.key: lead for lead in history.leads}
    assert sorted(by_key) == ["a", "b", "c"]
    assert by_key["a"].outcome.deal_value == 1200
    assert by_key["a"].fields["attributes.history.visits"] == 7
    assert [e.properties["url"] for e in by_key["a"].events] == ["/pricing", "/pricing"]


def test_backtest_reports_the_figures_of_the_history(app, tmp_path):
    paths = files(tmp_path)
    out = tmp_path / "history.jsonl.gz"
    runner = app.test_cli_runner()
    runner.invoke(
        cli,
        ["history", "import", str(paths["leads.csv"]), "--events", str(paths["events.csv"]),
         "--map", "Visits=history.visits", "--out", str(out)],
    )  # fmt: skip
    result = runner.invoke(
        cli,
        ["readiness", "backtest", "--history", str(out), "--scoring", str(paths["scoring.yaml"]),
         "--icp", str(paths["icp.yaml"]), "--readiness", str(paths["readiness.yaml"]),
         "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)["results"][0]
    # a and c reach 10 points (hot) on their second pricing view; a converted, c did not.
    assert figures["handed_over"] == 2
    assert figures["precision"] == 0.5
    assert figures["recall"] == 0.5
    assert figures["missed"][0]["key"] == "b"
    assert "temperature cold" in figures["missed"][0]["unmet"]["hot"]
    table = runner.invoke(
        cli,
        ["readiness", "backtest", "--history", str(out), "--scoring", str(paths["scoring.yaml"]),
         "--icp", str(paths["icp.yaml"]), "--readiness", str(paths["readiness.yaml"]),
         "--compare", str(paths["readiness.yaml"])],
    )  # fmt: skip
    assert table.exit_code == 0, table.output
    assert "precision" in table.output and "50.0%" in table.output


def test_backtest_names_a_broken_file_at_its_line(app, tmp_path):
    paths = files(tmp_path)
    paths["readiness.yaml"].write_text("name: x\nrules:\n  - { id: hot, temprature: hot }\n")
    result = app.test_cli_runner().invoke(
        cli, ["readiness", "backtest", "--readiness", str(paths["readiness.yaml"])]
    )
    assert result.exit_code == 1
    assert f"{paths['readiness.yaml']}:3:" in result.output


def test_the_instance_history_holds_the_leads_whose_outcome_is_known(app, runtime, tmp_path):
    def add(email, stage_to=None):
        data, errors = validate_lead_data({"email": email}, default_timezone="UTC")
        assert errors == {}
        with transaction(runtime.sessions) as session:
            lead = upsert_lead(session, data, now=NOW, source="test").lead
            session.add(
                Event(lead_id=lead.id, type="page.viewed", occurred_at=NOW + timedelta(days=1),
                      recorded_at=NOW, properties={"url": "/pricing"})
            )  # fmt: skip
            if stage_to:
                session.add(
                    StageChange(lead_id=lead.id, from_stage="lead", to_stage=stage_to,
                                at=NOW + timedelta(days=5), reason="test", actor="test")
                )  # fmt: skip
                lead.stage = stage_to
            return lead.id

    won = add("won@example.com", "customer")
    lost = add("lost@example.com", "disqualified")
    add("open@example.com")
    out = tmp_path / "own.jsonl.gz"
    result = app.test_cli_runner().invoke(
        cli, ["history", "import", "--instance", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "1 lead(s) without a known outcome left out" in result.output
    history = read_history(out)
    by_key = {lead.key: lead for lead in history.leads}
    assert sorted(by_key) == sorted([str(won), str(lost)])
    assert by_key[str(won)].outcome.converted_at == NOW + timedelta(days=5)
    assert not by_key[str(lost)].outcome.converted
    assert "page.viewed" in [e.type for e in by_key[str(won)].events]
    assert "won@" not in gzip.decompress(out.read_bytes()).decode()
    assert "stage" not in by_key[str(won)].fields  # today's stage is the outcome itself
