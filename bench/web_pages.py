"""Benchmark: every page of the web app, on a database the size of a busy instance.

    .venv/bin/python bench/web_pages.py [--leads 1000000 --accounts 100000 --events 20000000]
        [--requests 30] [--rebuild] [--compare-small] [--plans] [--analyze] [--json FILE]

Builds (or reuses, when its sizes and schema revision match) a PostgreSQL database with the
product's migrations and real configuration (bench/web_data.py), then drives the real Flask
app in this process: one test client per role, signed in through the sign-in form. Every
GET page of the ``ui_*`` blueprints is discovered from ``app.url_map``; URL arguments come
from chosen rows (SAMPLE_ARGS: a busy lead with thousands of events, a median lead, the
account with most people, the busiest campaign, an open handoff …) and the lead list gets
its sorts, searches, filters and second page. Each page is requested ``--requests`` times
after a warm-up: p50 / p95 / max server time, without network (the test client calls the
WSGI app directly). References in the same run: ``GET /healthz`` (the app's floor) and a
``SELECT 1`` round trip.

Every SQL statement a page runs is captured and EXPLAINed with its parameters; a sequential
scan of a table in SEQ_SCAN_FORBIDDEN fails the run (exit 1), naming the page, the statement
and the plan node. So does a page whose p95 reaches GOAL_P95_MS, and, with
``--compare-small``, a lead list, search or lead page more than GROWTH_LIMIT times slower
than on a database a tenth of the size.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import sqlalchemy
import web_data
import web_rows
from benchlib import git_revision, percentile, postgres_url, print_machine, verdict
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from nurture.auth import links, roles
from nurture.models import User
from nurture.reports.leads import SORTS
from nurture.web import create_app

GOAL_P95_MS = 300.0
GROWTH_LIMIT = 2.0
# Pages that must not grow with the table size (compared by --compare-small).
GROWTH_CHECKED = ("ui_leads.index", "ui_leads.show")
# A page's plan may not read these whole: they grow with every lead, email and hit.
SEQ_SCAN_FORBIDDEN = frozenset({"leads", "events", "messages", "enrollments", "tracking_hits"})
DEFAULT_DB = "nurture_bench_web"
EXPLAINABLE = re.compile(r"^\s*(SELECT|WITH|INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
NEXT_LINK = re.compile(r'href="([^"]*[?&](?:amp;)?after=[^"]*)"')
SAMPLE_ID = re.compile(r"#\d+")
CSRF_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
# Which role looks at a page that needs a permission: the one whose work the page is.
ROLE_FOR = {
    roles.SALES_OWN: "sales",
    roles.SALES_MANAGE: "sales-manager",
    roles.SETTINGS_MANAGE: "admin",
    roles.LEADS_ERASE: "admin",
}


@dataclass
class Page:
    """One URL to measure and what came of it."""

    endpoint: str
    label: str
    url: str
    role: str | None  # None: signed out (public pages)
    status: int = 0
    queries: int = 0
    ms: list[float] = field(default_factory=list)
    statements: list[tuple[str, Any]] = field(default_factory=list)
    plans: list[dict[str, Any]] = field(default_factory=list)
    scans: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.endpoint} {self.label}".strip()

    def p(self, fraction: float) -> float:
        return percentile(self.ms, fraction) if self.ms else float("nan")


@dataclass
class Run:
    """One database's measurements."""

    database: str
    sizes: web_data.Sizes
    pages: list[Page]
    not_measured: list[tuple[str, str]]
    references: dict[str, dict[str, float]]


# --------------------------------------------------------------------------- the app


class StatementLog:
    """Every statement the app's engine sends while ``capturing`` (text and parameters)."""

    def __init__(self) -> None:
        self.capturing = False
        self.statements: list[tuple[str, Any]] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if self.capturing:
            self.statements.append((statement, parameters))

    @contextmanager
    def capture(self) -> Iterator[list[tuple[str, Any]]]:
        self.statements = []
        self.capturing = True
        try:
            yield self.statements
        finally:
            self.capturing = False


def make_app(url: str, instance: Path, campaigns: int) -> tuple[Flask, StatementLog]:
    folder = instance / "campaigns"
    folder.mkdir(parents=True, exist_ok=True)
    web_data.write_campaign_files(folder, campaigns)  # the same files the build synced
    settings = web_data.bench_settings(url, instance, folder)
    app = create_app({"NURTURE_SETTINGS": settings})
    log = StatementLog()
    sqlalchemy.event.listen(app.extensions["nurture"].engine, "before_cursor_execute", log)
    return app, log


def sign_in(app: Flask, role: str | None) -> FlaskClient:
    """A client signed in as ``role``'s user through the sign-in form (None: signed out)."""
    client = app.test_client()
    if role is None:
        return client
    html = client.get("/login").get_data(as_text=True)
    match = CSRF_TOKEN.search(html)
    assert match, "no CSRF token on the sign-in page"
    form = {"email": web_data.USERS[role], "password": web_data.PASSWORD, "csrf_token": match[1]}
    answer = client.post("/login", data=form)
    if answer.status_code != 302:
        raise SystemExit(f"signing in as {role} failed: {answer.status_code}")
    return client


def role_for(app: Flask, endpoint: str) -> str | None:
    permission = getattr(app.view_functions[endpoint], "required_permission", None)
    if permission is None:
        return None
    if permission in ROLE_FOR:
        return ROLE_FOR[permission]
    for role in ("marketer", "admin"):
        if permission == "any role" or roles.may(role, permission):
            return role
    return "admin"


# --------------------------------------------------------------------------- what to measure


def sample_args(app: Flask) -> list[tuple[str, dict[str, Any]]]:
    """SAMPLE_ARGS: named rows to fill URL arguments with (each a consistent set: a lead
    and one of its messages)."""
    runtime = app.extensions["nurture"]
    with runtime.sessions() as session:

        def one(sql: str, **params: Any) -> Any:
            return session.execute(text(sql), params).scalar()

        def lead_with_message(lead_id: int) -> dict[str, Any]:
            message = one("SELECT min(id) FROM messages WHERE lead_id = :l", l=lead_id)
            return {"lead_id": lead_id, "message_id": message}

        leads = one("SELECT max(id) FROM leads")
        busy = web_rows.BUSY_EVERY * (leads // web_rows.BUSY_EVERY // 2) + 3
        if busy > leads:
            busy = 3
        middle = leads // 2
        candidates = session.execute(
            text(
                "SELECT l.id, (SELECT count(*) FROM events e WHERE e.lead_id = l.id) AS n"
                " FROM leads l WHERE l.id BETWEEN :a AND :b"
                " AND EXISTS (SELECT 1 FROM messages m WHERE m.lead_id = l.id) ORDER BY n, l.id"
            ),
            {"a": middle, "b": middle + 200},
        ).all()
        median = candidates[len(candidates) // 2][0] if candidates else middle
        marketer = session.scalars(
            sqlalchemy.select(User).where(User.email == web_data.USERS["marketer"])
        ).one()
        token = links.password_token(runtime.settings.secret_key, marketer, links.RESET)
        samples = [
            (f"busy lead #{busy}", lead_with_message(busy)),
            (f"median lead #{median}", lead_with_message(median)),
            (
                "account with most people",
                {
                    "account_id": one(
                        "SELECT account_id FROM leads WHERE account_id IS NOT NULL"
                        " GROUP BY account_id ORDER BY count(*) DESC LIMIT 1"
                    )
                },
            ),
            (
                "busiest campaign",
                {
                    "key": one(
                        "SELECT c.key FROM campaigns c JOIN enrollments e ON e.campaign_id = c.id"
                        " GROUP BY c.key ORDER BY count(*) DESC LIMIT 1"
                    )
                },
            ),
            (
                "open handoff of the rep",
                {
                    "handoff_id": one(
                        "SELECT h.id FROM handoffs h JOIN sales_reps r ON r.id = h.rep_id"
                        " WHERE r.email = :e AND h.status = 'offered' ORDER BY h.id LIMIT 1",
                        e=web_data.USERS["sales"],
                    )
                },
            ),
            ("reset link", {"token": token}),
        ]
    return [(label, args) for label, args in samples if None not in args.values()]


def query_variants(
    app: Flask, samples: dict[str, Any]
) -> dict[str, list[tuple[str, dict[str, str]]]]:
    """The query strings that matter, per endpoint (only for pages the app has)."""
    runtime = app.extensions["nurture"]
    with runtime.sessions() as session:
        lead = session.execute(
            text("SELECT email, last_name FROM leads WHERE id = :id"), {"id": samples["lead_id"]}
        ).one()
        company = session.scalar(text("SELECT name FROM accounts ORDER BY id LIMIT 1")) or ""
        campaign = samples.get("key", "")
    sorts = list(SORTS)
    leads = [(f"sort={sort}", {"sort": sort}) for sort in sorts]
    leads += [
        ("search: email prefix", {"q": lead.email[:6]}),
        ("search: name", {"q": lead.last_name}),
        ("search: company", {"q": company.split()[0] + " " + company.split()[1][:2]}),
        ("filter: stage=mql", {"stage": "mql"}),
        ("filter: grade=A, stage=lead", {"grade": "A", "stage": "lead"}),
        ("filter: temperature=hot", {"temperature": "hot"}),
        ("filter: consent=withdrawn", {"consent": "withdrawn"}),
        ("filter: source=webinar", {"source": "webinar"}),
        ("filter: campaign", {"campaign": campaign}),
        ("filter: account", {"account": str(samples.get("account_id", ""))}),
        ("filter: stage=customer, sort=score", {"stage": "customer", "sort": "score"}),
    ]
    return {
        "ui_leads.index": leads,
        "ui_accounts.index": [("search: company", {"q": company.split()[0]})],
    }


# GET endpoints of the ui_* blueprints that are not pages a person opens, with why.
NOT_PAGES = {
    "ui_settings.logo": "the brand's logo file",
    "ui_settings.brand_css": "the brand's stylesheet",
    "ui_authoring.preview_show": "one preview's HTML, made by the editor for a minute",
    "ui_leads.export_csv": "a streamed download of the whole filtered set, not a page",
    "ui_leads.export": "a download of one lead's data (JSON), not a page",
}
# Arguments that only some endpoints take from a sample: a set-password token is no preview
# token.
ONLY_FOR = {"token": {"ui_account.set_password"}}


def discover(app: Flask) -> tuple[list[Page], list[tuple[str, str]]]:
    """Every GET page of the ui_* blueprints, with arguments filled from SAMPLE_ARGS."""
    samples = sample_args(app)
    merged: dict[str, Any] = {}
    for _, args in samples:
        merged.update({k: v for k, v in args.items() if k not in merged})
    variants = query_variants(app, merged)
    pages: list[Page] = []
    missing: list[tuple[str, str]] = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        blueprint = rule.endpoint.split(".")[0]
        if not blueprint.startswith("ui_") or "GET" not in (rule.methods or ()):
            continue
        if rule.endpoint in NOT_PAGES:
            missing.append((rule.rule, NOT_PAGES[rule.endpoint]))
            continue
        role = role_for(app, rule.endpoint)
        arguments = set(rule.arguments)
        if any(rule.endpoint not in ONLY_FOR.get(name, {rule.endpoint}) for name in arguments):
            missing.append((rule.rule, "no sample row for " + ", ".join(sorted(arguments))))
            continue
        fills = (
            [(label, a) for label, a in samples if arguments <= set(a)] if arguments else [("", {})]
        )
        seen: set[tuple[Any, ...]] = set()
        for label, args in fills:
            values = {name: args[name] for name in sorted(arguments)}
            if tuple(values.values()) in seen:
                continue
            seen.add(tuple(values.values()))
            with app.test_request_context():
                url = app.url_for(rule.endpoint, **values)
            pages.append(Page(rule.endpoint, label, url, role))
            for variant, query in variants.get(rule.endpoint, []):
                pages.append(Page(rule.endpoint, variant, f"{url}?{urlencode(query)}", role))
        if not fills:
            missing.append((rule.rule, "no sample row for " + ", ".join(sorted(arguments))))
    return pages, missing


# --------------------------------------------------------------------------- measuring


def measure(app: Flask, log: StatementLog, pages: list[Page], requests: int, warmup: int) -> None:
    clients: dict[str | None, FlaskClient] = {}
    extra: list[Page] = []
    for page in pages:
        client = clients.get(page.role) or clients.setdefault(page.role, sign_in(app, page.role))
        html = ""
        for _ in range(warmup):
            answer = client.get(page.url)
            html = answer.get_data(as_text=True)
            answer.close()
        for _ in range(requests):
            with log.capture() as statements:
                started = time.perf_counter()
                answer = client.get(page.url)
                # A streamed page is timed to its last byte, and closed (its request
                # context stays pushed until then).
                answer.get_data()
                answer.close()
                page.ms.append((time.perf_counter() - started) * 1000)
            page.status = answer.status_code
            if page.status != 200:
                page.problems.append(f"answered {page.status}")
                break
        page.statements = list(statements)
        page.queries = len(statements)
        next_link = NEXT_LINK.search(html)
        if next_link and page.label.find("page 2") < 0 and "after=" not in page.url:
            url = unescape(next_link[1])
            if urlsplit(url).path == urlsplit(page.url).path:
                extra.append(
                    Page(page.endpoint, f"{page.label}, page 2".strip(", "), url, page.role)
                )
        print(f"  {page.name[:60]:<60} {page.status} p95 {page.p(0.95):7.1f} ms", flush=True)
    if extra:
        measure(app, log, extra, requests, warmup)
        pages.extend(extra)


def _short(text: str, limit: int = 160) -> str:
    # A filter can hold a list of a thousand ids: the start says which condition it is.
    return text if len(text) <= limit else text[:limit] + "…"


def reference(app: Flask, requests: int) -> dict[str, dict[str, float]]:
    client = app.test_client()
    floor: list[float] = []
    for _ in range(requests + 3):
        started = time.perf_counter()
        assert client.get("/healthz").status_code == 200
        floor.append((time.perf_counter() - started) * 1000)
    engine = app.extensions["nurture"].engine
    trip: list[float] = []
    with engine.connect() as conn:
        for _ in range(requests + 3):
            started = time.perf_counter()
            conn.exec_driver_sql("SELECT 1").scalar()
            trip.append((time.perf_counter() - started) * 1000)
    return {
        name: {"p50": percentile(v[3:], 0.5), "p95": percentile(v[3:], 0.95), "max": max(v[3:])}
        for name, v in (("GET /healthz", floor), ("SELECT 1", trip))
    }


# --------------------------------------------------------------------------- plans


def explain(app: Flask, pages: list[Page], analyze: bool) -> None:
    """EXPLAIN each page's distinct statements; note forbidden sequential scans."""
    engine = app.extensions["nurture"].engine
    options = "ANALYZE, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON"
    cache: dict[str, dict[str, Any]] = {}
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for page in pages:
            done: set[str] = set()
            for statement, parameters in page.statements:
                if statement in done or not EXPLAINABLE.match(statement):
                    continue
                done.add(statement)
                key = statement + repr(parameters)
                if key not in cache:
                    cursor.execute(f"EXPLAIN ({options}) {statement}", parameters)
                    cache[key] = cursor.fetchone()[0][0]
                    raw.rollback()  # EXPLAIN ANALYZE of a write must not keep it
                plan = cache[key]
                page.plans.append({"sql": statement, "plan": plan})
                for node in walk(plan["Plan"]):
                    if node["Node Type"] == "Seq Scan":
                        relation = node.get("Relation Name", "?")
                        page.scans.append(relation)
                        if relation in SEQ_SCAN_FORBIDDEN:
                            page.problems.append(
                                f"Seq Scan on {relation}"
                                f" (filter: {_short(node.get('Filter', '-'))})"
                                f" in: {one_line(statement)[:160]}"
                            )
    finally:
        raw.close()


def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from walk(child)


def one_line(sql: str) -> str:
    return " ".join(sql.split())


def seq_scans(plan: dict[str, Any]) -> list[str]:
    """The relations a plan (one EXPLAIN (FORMAT JSON) item) reads whole, forbidden ones."""
    return [
        node.get("Relation Name", "?")
        for node in walk(plan["Plan"])
        if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in SEQ_SCAN_FORBIDDEN
    ]


def describe(node: dict[str, Any], depth: int = 0) -> Iterator[str]:
    """A plan as indented lines: node, relation, index, rows, cost (and time with ANALYZE)."""
    parts = [node["Node Type"]]
    if "Relation Name" in node:
        parts.append(f"on {node['Relation Name']}")
    if "Index Name" in node:
        parts.append(f"using {node['Index Name']}")
    parts.append(f"rows={node.get('Plan Rows')} cost={node.get('Total Cost')}")
    if "Actual Total Time" in node:
        parts.append(f"actual {node['Actual Total Time']} ms x{node.get('Actual Loops')}")
    for key in ("Index Cond", "Filter", "Hash Cond", "Sort Key"):
        if key in node:
            parts.append(f"{key.lower()}: {node[key]}")
    yield "  " * depth + " ".join(str(p) for p in parts)
    for child in node.get("Plans", ()):
        yield from describe(child, depth + 1)


def print_plans(pages: list[Page], full: bool) -> None:
    print("\nplans (each page's distinct statements; --plans prints every node):")
    for page in pages:
        print(f"  {page.name}  [{page.url}]")
        for item in page.plans:
            nodes = [n for n in walk(item["plan"]["Plan"]) if "Relation Name" in n]
            scans = ", ".join(
                f"{n['Node Type'].replace(' Scan', '')} {n['Relation Name']}"
                + (f"({n['Index Name']})" if "Index Name" in n else "")
                for n in nodes
            )
            cost = item["plan"]["Plan"]["Total Cost"]
            print(f"    cost {cost:>10.1f}  {scans or '-'}  | {one_line(item['sql'])[:90]}")
            if full:
                for line in describe(item["plan"]["Plan"], 3):
                    print(line)


# --------------------------------------------------------------------------- a run


def prepare(name: str, sizes: web_data.Sizes, rebuild: bool) -> str:
    """The database ``name`` of ``sizes``: reused when it matches, else built."""
    if not rebuild and web_data.cached(name, sizes):
        print(f"database {name}: reused (same sizes and schema revision; --rebuild to rebuild)")
        web_data.add_missing_costs(name)
        return postgres_url(name)
    print(f"database {name}: building {sizes}", flush=True)
    return web_data.build(name, sizes, datetime.now(UTC))


def run_pages(
    url: str,
    name: str,
    sizes: web_data.Sizes,
    *,
    requests: int,
    warmup: int,
    analyze: bool,
    only: frozenset[str] = frozenset(),
) -> Run:
    """Discover, measure and EXPLAIN every page (or the endpoints in ``only``) against the
    database at ``url``."""
    with tempfile.TemporaryDirectory(prefix="nurture-bench-web-") as tmp:
        app, log = make_app(url, Path(tmp), sizes.campaigns)
        try:
            pages, missing = discover(app)
            if only:
                pages = [page for page in pages if page.endpoint in only]
            print(f"\n{len(pages)} page URLs on {name} ({requests} requests each):", flush=True)
            refs = reference(app, requests)
            measure(app, log, pages, requests, warmup)
            explain(app, pages, analyze)
        finally:
            app.extensions["nurture"].close()
    return Run(name, sizes, pages, missing, refs)


def print_run(run: Run) -> None:
    print(f"\n{run.database}: {run.sizes}")
    header = f"{'page':<58} {'role':<13} {'q':>3} {'p50':>7} {'p95':>7} {'max':>7}  verdict"
    print(header)
    print("-" * len(header))
    for name, ref in run.references.items():
        print(
            f"{'reference: ' + name:<58} {'-':<13} {'':>3} {ref['p50']:7.1f} {ref['p95']:7.1f}"
            f" {ref['max']:7.1f}"
        )
    for page in run.pages:
        ok = not page.problems and page.p(0.95) < GOAL_P95_MS
        print(
            f"{page.name[:58]:<58} {page.role or 'signed out':<13} {page.queries:>3}"
            f" {page.p(0.5):7.1f} {page.p(0.95):7.1f} {max(page.ms or [0]):7.1f}  {verdict(ok)}"
        )
        print(f"{'':<4}{page.url[:120]}")
    for rule, reason in run.not_measured:
        print(f"not measured: {rule} ({reason})")


def failures(run: Run) -> list[str]:
    found = []
    for page in run.pages:
        found += [f"{page.name} [{page.url}]: {problem}" for problem in page.problems]
        if page.ms and page.p(0.95) >= GOAL_P95_MS:
            found.append(f"{page.name} [{page.url}]: p95 {page.p(0.95):.0f} ms ≥ {GOAL_P95_MS:.0f}")
    return found


def growth(large: Run, small: Run) -> list[str]:
    """p95 large vs small per page; the lead list, search and lead page must stay within
    GROWTH_LIMIT. Leads are matched by role in the sample (busy, median), not by id."""

    def key(page: Page) -> str:
        return page.endpoint + " " + SAMPLE_ID.sub("", page.label)

    smalls = {key(page): page for page in small.pages}
    print(f"\ngrowth: p95 at {large.sizes.leads:,} leads vs {small.sizes.leads:,} leads")
    flagged = []
    for page in large.pages:
        other = smalls.get(key(page))
        if other is None or not other.ms:
            continue
        ratio = page.p(0.95) / other.p(0.95)
        checked = page.endpoint in GROWTH_CHECKED
        bad = checked and ratio > GROWTH_LIMIT
        mark = "FAIL" if bad else ("ok" if checked else "")
        print(
            f"  {page.name[:60]:<60} {other.p(0.95):7.1f} → {page.p(0.95):7.1f} ms"
            f"  ×{ratio:4.2f} {mark}"
        )
        if bad:
            flagged.append(f"{page.name}: ×{ratio:.2f} from {small.database} to {large.database}")
    return flagged


def to_json(runs: list[Run]) -> dict[str, Any]:
    return {
        "commit": git_revision(),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "goal_p95_ms": GOAL_P95_MS,
        "runs": [
            {
                "database": run.database,
                "sizes": asdict(run.sizes),
                "references": run.references,
                "not_measured": run.not_measured,
                "pages": [
                    {
                        "endpoint": p.endpoint,
                        "label": p.label,
                        "url": p.url,
                        "role": p.role,
                        "status": p.status,
                        "queries": p.queries,
                        "p50_ms": p.p(0.5),
                        "p95_ms": p.p(0.95),
                        "max_ms": max(p.ms or [0]),
                        "seq_scans": p.scans,
                        "problems": p.problems,
                    }
                    for p in run.pages
                ],
            }
            for run in runs
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=20_000_000)
    parser.add_argument("--campaigns", type=int, default=50)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--database", default=DEFAULT_DB, help="database name (and <name>_small)")
    parser.add_argument("--rebuild", action="store_true", help="build even when a match exists")
    parser.add_argument("--compare-small", action="store_true", help="also at 1/10 the size")
    parser.add_argument("--plans", action="store_true", help="print every plan node")
    parser.add_argument("--analyze", action="store_true", help="EXPLAIN ANALYZE (runs them)")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument(
        "--only", default="", help="comma-separated endpoints to measure (a quick look)"
    )
    args = parser.parse_args(argv)
    only = frozenset(filter(None, args.only.split(",")))
    sizes = web_data.Sizes(args.leads, args.accounts, args.events, args.campaigns)
    print_machine()
    print("server time: in-process Flask test client, no network; PostgreSQL on this host")
    targets = [(args.database, sizes)]
    if args.compare_small:
        targets.append((f"{args.database}_small", sizes.scaled(0.1)))
    runs = []
    for name, size in targets:
        url = prepare(name, size, args.rebuild)
        runs.append(
            run_pages(
                url,
                name,
                size,
                requests=args.requests,
                warmup=args.warmup,
                analyze=args.analyze,
                only=only,
            )
        )
    for run in runs:
        print_plans(run.pages, args.plans)
        print_run(run)
    problems = failures(runs[0])
    if args.compare_small:
        problems += growth(runs[0], runs[1])
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(to_json(runs), indent=1, default=str))
    slowest = max((p.p(0.95) for p in runs[0].pages if p.ms), default=0.0)
    print(
        f"\ngoal          every page p95 < {GOAL_P95_MS:.0f} ms, no Seq Scan on"
        f" {', '.join(sorted(SEQ_SCAN_FORBIDDEN))}: slowest p95 {slowest:.0f} ms"
        f"  {verdict(not problems)}"
    )
    for problem in problems:
        print(f"FAIL  {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
