"""Backtest speed: replay a generated history of N leads (default 100,000) through the
shipped scoring, ICP and readiness files (campaigns/*.yaml) with ``nurture.backtest``.

The history is made like a real one: most leads never convert; a hidden intent drives how
much a lead reads, whether it asks for a demo and whether it converts (with noise: some
converters never raise a hand, some demo requests never buy); firmographics and BANT
answers vary; every lead also has aggregate-only facts (visits, time on site, last
activity) and a leaked column (a "closed" tag recorded after the outcome).

Prints the time to write and read the history file, the backtest's time and figures, and a
reference measured in the same run: scoring every lead's whole history once with the same
model (``nurture.scoring.evaluate``, what a full rescore of those leads costs in Python);
then the time the warnings add (leakage and protected attributes, ``nurture.backtest
.warnings``; the bar is 2 s) and what they found (the leaked column, nothing else); last,
the shipped ``nurture readiness backtest`` on the same file, timed from its start to its
exit (start-up, reading, replay, warnings: what a user waits for; the bar is 30 s).

    PYTHONPATH=. .venv/bin/python bench/backtest.py [--leads 100000] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from nurture.backtest import (
    History,
    HistoryLead,
    Model,
    Outcome,
    backtest,
    facts_at,
    model_warnings,
    read_history,
    replay,
    write_history,
)
from nurture.qualification.icp_parser import load_icp_file
from nurture.qualification.readiness_parser import load_readiness_file
from nurture.scoring import EventFacts, evaluate
from nurture.scoring.parser import load_scoring_file

ROOT = Path(__file__).resolve().parent.parent
START = datetime(2025, 1, 1, tzinfo=UTC)
TITLES = ["VP Sales", "Head of Revenue Operations", "Sales Manager", "Analyst", "Intern", "CEO"]
INDUSTRIES = ["software", "saas", "fintech", "logistics", "retail", "media", "education"]
COUNTRIES = ["GB", "DE", "PL", "US", "FR", "BR", "IN"]
PAGES = ["/blog/a", "/blog/b", "/pricing", "/customers/x", "/careers", "/docs"]


def lead(rng: random.Random, number: int) -> HistoryLead:
    """One generated lead: intent drives events and outcome; fit drives the outcome too."""
    created = START + timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
    intent = rng.random() ** 3
    fit = rng.random()
    fields = {
        "title": rng.choice(TITLES),
        "account.industry": rng.choice(INDUSTRIES),
        "account.employees": int(20 + fit * 3000),
        "account.annual_revenue": int(fit * 80_000_000),
        "account.country": rng.choice(COUNTRIES),
        "attributes.budget": rng.choice(["yes", "no", "unknown"]),
        "attributes.history.visits": int(intent * 30 + rng.random() * 5),
        "attributes.history.time_on_site": int(intent * 3000 + rng.random() * 300),
        "attributes.history.last_activity": rng.choice(["email opened", "page viewed"]),
    }
    events: list[EventFacts] = []
    at = created
    for _ in range(int(rng.expovariate(1 / (2 + intent * 20)))):
        at += timedelta(hours=rng.expovariate(1 / 30))
        roll = rng.random()
        if roll < 0.45:
            kind, props = "email.opened", {}
        elif roll < 0.6:
            kind, props = "email.clicked", {"url": "https://x.test" + rng.choice(PAGES)}
        else:
            kind, props = "page.viewed", {"url": "https://x.test" + rng.choice(PAGES)}
        events.append(EventFacts(len(events) + 1, kind, at, props))
    if rng.random() < intent * 0.5:
        at += timedelta(hours=rng.expovariate(1 / 48))
        events.append(EventFacts(len(events) + 1, "demo.requested", at, {}))
    converts = rng.random() < 0.02 + 0.25 * intent * fit + (0.2 if intent > 0.6 else 0)
    converted_at = at + timedelta(days=rng.expovariate(1 / 20)) if converts else None
    if converts:
        fields["attributes.history.closed_tag"] = "closed-won"  # the leaked column
    return HistoryLead(
        key=f"lead-{number}",
        created_at=created,
        fields=fields,
        outcome=Outcome(
            converts, converted_at, round(rng.uniform(5_000, 60_000)) if converts else None
        ),
        events=tuple(events),
        facts_at=at,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    began = time.perf_counter()
    leads = [lead(rng, n) for n in range(args.leads)]
    events = sum(len(item.events) for item in leads)
    took = time.perf_counter() - began
    print(f"generated     {len(leads):,} leads, {events:,} events in {took:.1f} s")

    model = Model(
        scoring=load_scoring_file(ROOT / "campaigns" / "scoring.yaml").value,  # type: ignore[arg-type]
        icp=load_icp_file(ROOT / "campaigns" / "icp.yaml").value,  # type: ignore[arg-type]
        readiness=load_readiness_file(ROOT / "campaigns" / "readiness.yaml").value,  # type: ignore[arg-type]
    )
    folder = Path(tempfile.mkdtemp(prefix="nurture-bench-backtest-"))
    path = folder / "history.jsonl.gz"
    began = time.perf_counter()
    write_history(path, History(tuple(leads), source="bench"))
    wrote = time.perf_counter() - began
    del leads
    began, read_cpu = time.perf_counter(), time.process_time()
    history = read_history(path)
    read, read_cpu = time.perf_counter() - began, time.process_time() - read_cpu
    size = path.stat().st_size
    print(f"history file  written in {wrote:.1f} s, read in {read:.1f} s ({read_cpu:.1f} s of "
          f"processor time; {size / 1e6:.1f} MB)")  # fmt: skip

    began, reference_cpu = time.perf_counter(), time.process_time()
    for item in history.leads:
        evaluate(model.scoring, item.events, item.outcome.converted_at or datetime.now(UTC))
    reference = time.perf_counter() - began
    reference_cpu = time.process_time() - reference_cpu
    print(f"reference     scoring every lead's whole history once: {reference:.1f} s, "
          f"{reference_cpu:.1f} s of processor time")  # fmt: skip

    began, cpu = time.perf_counter(), time.process_time()
    result = backtest(model, history.leads)
    took, cpu = time.perf_counter() - began, time.process_time() - cpu
    print(f"backtest      {took:.1f} s, {cpu:.1f} s of processor time "
          f"({cpu / reference_cpu:.1f}× the reference's; read + replay {read + took:.1f} s, "
          f"{read_cpu + cpu:.1f} s of processor time; the bar is 30 s)")  # fmt: skip
    figures = result.as_dict(missed=0)
    print(
        f"figures       base rate {figures['base_rate']}, handed over {result.handed_over:,}, "
        f"precision {figures['precision']}, recall {figures['recall']}, lift {figures['lift']}, "
        f"median days {figures['median_days_to_conversion']}"
    )
    # The replay folds events one at a time; a full recomputation at the handover must
    # give the same facts (else the figures above are wrong, and the run exits 1).
    sample = history.leads[:5000]
    wrong = 0
    for item in sample:
        replayed = replay(model, item)
        if replayed.handed_over_at is None:
            continue
        facts, fit = facts_at(model, item, replayed.handed_over_at)
        if facts.score != replayed.score or fit.grade != replayed.fit_grade:
            wrong += 1
    print(f"check         replay = full recomputation at the handover: {wrong} differ")

    # What `nurture readiness backtest` adds for its warnings, on the same history.
    began, cpu = time.perf_counter(), time.process_time()
    findings = model_warnings(history, [model])
    took, cpu = time.perf_counter() - began, time.process_time() - cpu
    flagged = ", ".join(f"{f.kind} {f.fact}" for f in findings) or "nothing"
    print(f"warnings      {took:.2f} s, {cpu:.2f} s of processor time (the bar is 2 s); "
          f"flagged: {flagged}")  # fmt: skip

    # The shipped command on the same file, from its start (imports, settings, the
    # instance's files) to its exit: what a user waits for.
    del history
    with tempfile.TemporaryDirectory(prefix="nurture-bench-instance-") as instance:
        env = {**os.environ, "NURTURE_INSTANCE_PATH": instance}
        command = [str(Path(sys.executable).with_name("nurture")), "readiness", "backtest",
                   "--history", str(path), "--format", "json"]  # fmt: skip
        began = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        took = time.perf_counter() - began
    shutil.rmtree(folder)
    if done.returncode != 0:
        print(f"command       failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        sys.exit(1)
    shipped = json.loads(done.stdout)["results"][0]
    print(f"command       `nurture readiness backtest` {took:.1f} s from start to exit "
          f"(the bar is 30 s); handed over {shipped['handed_over']:,}")  # fmt: skip
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    if wrong:
        sys.exit(1)


if __name__ == "__main__":
    main()
