"""Benchmark: tracking pixel hits per second captured durably, against a trivial ceiling.

    .venv/bin/python bench/tracking_throughput.py [--db sqlite|postgresql|both]
        [--rounds 5] [--seconds 8] [--connections 16] [--clicks 40]
        [--pg-database nurture_bench_tracking]

For each database: migrate a fresh one, create a lead and a sent message, then under the
same gunicorn configuration (``bench/tracking_server.py``, as ``nurture serve``) and the same
load generator (wrk), measure in interleaved rounds (the verdict takes the median round)

1. a trivial Flask app returning the same GIF (the ceiling of server + framework),
2. the real open-pixel endpoint served by ``nurture serve`` exactly as users start it (its
   access log written to a file, the hit processor in its own process at nice +10;
   ``--server nurture``: the same app from tracking_server.py with the access log off).
   The endpoint is answered in front of Flask by ``tracking.fast_path``: signature check +
   one durable INSERT per hit, committed by the process's group commit,

then count the rows: every 2xx response wrk saw must be a row (0 lost), and time how long the
processor takes to turn the burst's backlog into events. Finally, a human
click to updated score: sequential clicks on fresh leads' pricing links through the real
server, timing from the request to the lead's new score in the database.
Goals (issues 3 and 14): real ≥ 0.6 × trivial on PostgreSQL and ≥ 0.5 × on SQLite (the
shipped server), p99 < 25 ms, 0 lost, click → score p95 < 1 s.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import (
    ROOT,
    SECRET,
    free_port,
    migrate,
    percentile,
    print_machine,
    recreate_postgres_database,
    verdict,
)
from sqlalchemy import func, select

from nurture.models import Lead, Message, TrackingHit
from nurture.platform.config import Settings
from nurture.platform.db import transaction, utcnow
from nurture.platform.runtime import Runtime
from nurture.rendering.compiled import RenderedEmail
from nurture.scoring import sync_scoring
from nurture.tracking.links import LinkSigner, track_links
from nurture.tracking.tokens import MessageSigner, new_message_token

PYTHON = sys.executable
# The share of the trivial pixel's throughput the shipped server must reach (issue 14).
GOAL_RATIO = {"postgresql": 0.6, "sqlite": 0.5}
SCORING = ROOT / "tests" / "fixtures" / "tracking" / "scoring.yaml"
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0"


def wrk(url: str, seconds: int, connections: int, script: Path) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            "-H",
            f"User-Agent: {UA}",
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if "requests in" not in out or "50%" not in out:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
        "p99": _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
        "ok": total - (int(non2xx.group(1)) if non2xx else 0),
        "total": total,
        "errors": errors.group(1) if errors else "none",
    }


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return (
        float(match.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[match.group(2)]
    )


NURTURE = Path(PYTHON).with_name("nurture")


class Served:
    """One server process for the duration of a ``with`` block: ``shipped`` is ``nurture
    serve`` itself (its access log written to ``log``, as a service manager keeps a
    server's output), ``trivial`` and ``nurture`` the two apps of tracking_server.py."""

    def __init__(
        self,
        which: str,
        env: dict[str, str],
        threads: int,
        workers: int = 2,
        log: Path | None = None,
    ) -> None:
        self.port = free_port()
        self.log = open(log, "wb") if log is not None else None  # noqa: SIM115 (closed in __exit__)
        if which == "shipped":
            command = [str(NURTURE), "serve", "--port", str(self.port)]
            command += ["--workers", str(workers), "--threads", str(threads)]
        else:
            server = str(ROOT / "bench" / "tracking_server.py")
            command = [PYTHON, server, which, str(self.port), str(workers), str(threads)]
        self.process = subprocess.Popen(command, env=env, stdout=self.log, stderr=self.log)

    def __enter__(self) -> Served:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                conn.request("GET", "/t/o/warmup.gif")
                conn.getresponse().read()
                conn.close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(20)
        if self.log is not None:
            self.log.close()


def sent_message(runtime: Runtime, email: str) -> tuple[int, str]:
    token = new_message_token()
    with transaction(runtime.sessions) as session:
        lead = Lead(email=email, consent_status="granted")
        session.add(lead)
        session.flush()
        session.add(
            Message(
                lead_id=lead.id, template="t", to_address=email, message_id=f"{token}@bench",
                token=token, status="sent", sent_at=utcnow().replace(year=2025),
            )
        )  # fmt: skip
        return lead.id, token


def hit_rows(runtime: Runtime) -> int:
    with transaction(runtime.sessions) as session:
        return session.scalar(select(func.count()).select_from(TrackingHit)) or 0


def drain_seconds(runtime: Runtime, timeout: float = 300.0) -> float:
    """Seconds until the processor has turned every captured hit into an event."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        with transaction(runtime.sessions) as session:
            pending = session.scalar(
                select(func.count())
                .select_from(TrackingHit)
                .where(TrackingHit.processed.is_(False))
            )
        if not pending:
            return time.perf_counter() - started
        time.sleep(0.05)
    raise RuntimeError(f"{pending} hits still unprocessed after {timeout:.0f} s")


def click_latency(runtime: Runtime, port: int, clicks: int) -> list[float]:
    """Seconds from sending a human click to seeing the lead's new score in the database."""
    with transaction(runtime.sessions) as session:
        sync_scoring(session, SCORING, now=utcnow())
    signer = LinkSigner(SECRET)
    times = []
    for i in range(clicks):
        lead_id, token = sent_message(runtime, f"clicker{i}@bench.example")
        html = '<body><a href="https://brightpath.example/pricing">p</a></body>'
        path = (
            track_links(
                RenderedEmail("t", "v", "s", html, ""), token=token, signer=signer, public_url=""
            )
            .html.split('href="')[2]
            .split('"')[0]
        )
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", path, headers={"User-Agent": UA})
        assert conn.getresponse().status == 302
        conn.close()
        while True:
            with runtime.sessions() as session:
                if (session.get(Lead, lead_id).score_value or 0) > 0:
                    break
            time.sleep(0.002)
        times.append(time.perf_counter() - started)
    return times


def pixel_script(runtime: Runtime, workdir: Path, messages: int) -> Path:
    """A wrk script cycling through the pixels of ``messages`` sent messages (hits spread
    over many leads, as real opens are)."""
    signer = MessageSigner(SECRET)
    paths = [
        f"/t/o/{signer.sign(sent_message(runtime, f'reader{i}@bench.example')[1])}.gif"
        for i in range(messages)
    ]
    script = workdir / "pixels.lua"
    script.write_text(
        "local paths = {" + ",".join(f'"{p}"' for p in paths) + "}\n"
        "local i = math.random(#paths)\n"
        "request = function()\n  i = i % #paths + 1\n"
        '  return wrk.format("GET", paths[i])\nend\n'
    )
    return script


def run(
    db: str,
    seconds: int,
    connections: int,
    clicks: int,
    threads: int,
    workers: int,
    rounds: int,
    server: str = "shipped",
    pg_database: str = "nurture_bench_tracking",
) -> bool:
    workdir = Path(tempfile.mkdtemp(prefix="nurture-tracking-bench-"))
    url = (
        f"sqlite:///{workdir / 'nurture.db'}"
        if db == "sqlite"
        else recreate_postgres_database(pg_database)
    )
    migrate(url)
    settings = Settings.from_env(env={"NURTURE_SECRET_KEY": SECRET}, instance_path=workdir)
    settings = settings.with_overrides(database_url=url)
    runtime = Runtime.from_settings(settings)
    print(f"\n=== {db} ===")
    print_machine(runtime.engine)
    script = pixel_script(runtime, workdir, 1000)
    env = {
        **os.environ,
        "NURTURE_SECRET_KEY": SECRET,
        "NURTURE_DATABASE_URL": url,
        "NURTURE_INSTANCE_PATH": str(workdir),
    }
    processing = not os.environ.get("BENCH_NO_PROCESSOR")
    print(
        f"gunicorn gthread {workers} workers x {threads} threads;"
        f" wrk -t2 -c{connections} -d{seconds}s over 1000 messages' pixels;"
        f" {rounds} rounds, trivial then tracking"
    )
    ratios, p99s, answered, stored, drains = [], [], 0, 0, []
    with (
        Served("trivial", env, threads, workers) as trivial,
        Served(server, env, threads, workers, log=workdir / "serve.log") as real,
    ):
        trivial_url = f"http://127.0.0.1:{trivial.port}/"
        real_url = f"http://127.0.0.1:{real.port}/"
        wrk(trivial_url, 2, connections, script)  # warm-up
        wrk(real_url, 2, connections, script)
        if processing:
            drain_seconds(runtime)
        # Interleaved rounds: the machine's speed drifts by tens of per cent over minutes
        # (other tenants), so each ratio compares two runs a few seconds apart, and the
        # verdict takes the median round. The hit processor has finished the previous
        # round's backlog before the trivial endpoint is measured, so it never slows the
        # ceiling down.
        for number in range(1, rounds + 1):
            ceiling = wrk(trivial_url, seconds, connections, script)
            before = hit_rows(runtime)
            measured = wrk(real_url, seconds, connections, script)
            time.sleep(0.5)
            rows = hit_rows(runtime) - before
            answered += measured["ok"]
            stored += rows
            ratio = measured["rps"] / ceiling["rps"]
            ratios.append(ratio)
            p99s.append(measured["p99"])
            print(
                f"round {number}: trivial {ceiling['rps']:6.0f} req/s"
                f" (p99 {ceiling['p99']:5.1f} ms)"
                f"  tracking {measured['rps']:6.0f} req/s (p50 {measured['p50']:5.1f},"
                f" p99 {measured['p99']:5.1f} ms)  ratio {ratio:.2f}"
                f"  rows {rows} for {measured['ok']} answers"
                f"  errors {measured['errors']}/{ceiling['errors']}"
            )
            if processing:
                drains.append(drain_seconds(runtime) + 0.5)
        latencies = click_latency(runtime, real.port, clicks) if clicks else []
    runtime.close()
    logged = sum(
        1 for line in (workdir / "serve.log").read_bytes().splitlines() if b"/t/o/" in line
    )
    print(f"access log: {logged} pixel lines written for {answered} answered hits")
    lost = max(0, answered - stored)
    ratio, p99 = percentile(ratios, 0.5), percentile(p99s, 0.5)
    print(f"rows: {stored} hits stored for {answered} 2xx responses; lost {lost}")
    if drains:
        print(
            "processor: every hit of a round processed "
            + ", ".join(f"{d:.1f}" for d in drains)
            + " s after wrk stopped"
        )
    goal = GOAL_RATIO[db]
    ok = ratio >= goal and p99 < 25 and lost == 0
    print(
        f"median ratio {ratio:.2f} x ceiling (goal >= {goal}), median p99 {p99:.1f} ms"
        f" (goal < 25 ms), 0 lost: {verdict(ok)}"
    )
    if latencies:
        p50, p95 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.95) * 1000
        fine = p95 < 1000
        print(
            f"human click -> score updated: n={len(latencies)}  p50 {p50:.0f} ms  p95 {p95:.0f} ms"
            f"  max {max(latencies) * 1000:.0f} ms  (goal p95 < 1 s): {verdict(fine)}"
        )
        ok = ok and fine
    shutil.rmtree(workdir, ignore_errors=True)
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--clicks", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved trivial/tracking runs")
    parser.add_argument(
        "--threads",
        type=int,
        default=16,
        help="gunicorn threads per process (nurture serve default)",
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="gunicorn processes (nurture serve default)"
    )
    parser.add_argument(
        "--server",
        choices=("shipped", "nurture"),
        default="shipped",
        help="shipped: `nurture serve` as users start it (access log included);"
        " nurture: the same app in tracking_server.py, access log off",
    )
    parser.add_argument(
        "--pg-database", default="nurture_bench_tracking", help="PostgreSQL database (rebuilt)"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")
    dbs = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    results = [
        run(
            db,
            args.seconds,
            args.connections,
            args.clicks,
            args.threads,
            args.workers,
            args.rounds,
            args.server,
            args.pg_database,
        )
        for db in dbs
    ]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
