"""Shared fixtures.

The suite runs once per database backend. ``NURTURE_TEST_BACKEND=sqlite`` (default) uses a
fresh SQLite file per test, copied from one migrated template; ``postgresql`` uses the server
at ``NURTURE_TEST_POSTGRES_URL`` (a database created for the run, migrated once, emptied after
every test). Schema always comes from the Alembic migrations, never from ``create_all``.

Under pytest-xdist (``scripts/test`` runs two workers) each worker is a process of its own
with its own template database; on PostgreSQL each has a database of its own, named after
``NURTURE_TEST_POSTGRES_URL``'s with the worker's id (``nurture_test_gw0``).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import ForeignKeyConstraint, create_engine, text
from sqlalchemy.engine import Engine, make_url

from nurture import wiring
from nurture.demo.brand import DEMO_BRAND
from nurture.platform import migrate
from nurture.platform.config import Settings
from nurture.platform.db import Base, make_engine
from nurture.platform.runtime import Runtime
from nurture.web import create_app

BACKEND = os.environ.get("NURTURE_TEST_BACKEND", "sqlite")


def _worker_database_url(url: str, worker: str | None) -> str:
    """``url`` for one pytest-xdist worker: its database name with the worker's id
    (``nurture_test_gw0``), so workers never empty each other's tables. Unchanged
    without xdist."""
    if not worker:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


# The database the PostgreSQL pass uses, created and dropped by the suite: a run split
# over xdist workers (scripts/test) uses one per worker. Tests that make databases of
# their own name them after this one, so they are per worker too.
POSTGRES_URL = _worker_database_url(
    os.environ.get(
        "NURTURE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/nurture_test"
    ),
    os.environ.get("PYTEST_XDIST_WORKER"),
)


@pytest.fixture(autouse=True, scope="session")
def _wired() -> None:
    """Every entry point connects the features' subscriptions (``nurture.wiring``); so does
    the suite, once, before any test runs a use case."""
    wiring.connect()


def pytest_report_header(config: pytest.Config) -> str:
    return f"nurture database backend: {BACKEND}"


# Tests that start worker or sender processes of their own and give them seconds to finish
# (SIGKILL mid-send, a database outage, two workers racing), or hold a render or an idle
# connection to a wall-clock limit: scripts/test runs them after the xdist workers are
# done, alone on the machine, so a busy neighbour cannot make them miss a deadline.
_SERIAL = (
    "tests/unit/rendering/test_render_budget.py",
    "tests/integration/sending/test_smtp.py",
    "tests/integration/worker/test_workers.py",
    "tests/integration/worker/test_worker_faults.py",
    "tests/integration/demo/test_demo_command.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.partition("::")[0] in _SERIAL:
            item.add_marker(pytest.mark.serial)
    # Tests that need PostgreSQL features (SKIP LOCKED across workers) run in the PostgreSQL
    # pass; `make test` runs that pass whenever a server is reachable and CI always does.
    if BACKEND == "postgresql":
        return
    skip = pytest.mark.skip(reason="PostgreSQL-only: runs in the PostgreSQL pass of make test")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def _template_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database to start every test from; yields its URL (on PostgreSQL, this
    worker's database, dropped at the end of the run)."""
    if BACKEND == "postgresql":
        url = make_url(POSTGRES_URL)
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
        engine = make_engine(POSTGRES_URL)
        migrate.upgrade(engine)
        engine.dispose()
        try:
            yield POSTGRES_URL
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            admin.dispose()
        return
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    yield str(path)


@pytest.fixture(scope="session")
def _postgres_engine(_template_database: str) -> Iterator[Engine | None]:
    """On PostgreSQL, one engine for the suite's own housekeeping (emptying the tables)."""
    if BACKEND != "postgresql":
        yield None
        return
    engine = make_engine(_template_database)
    yield engine
    engine.dispose()


def _empty_every_table() -> str:
    """SQL that empties every table and restarts every sequence, in one round trip: a
    DELETE per table, the tables that refer to others first, then each sequence back at
    its start (what ``TRUNCATE … RESTART IDENTITY`` did). TRUNCATE gives every table and
    index new files, which cost more than most tests; the few rows a test leaves are
    deleted in milliseconds."""
    tables = Base.metadata.sorted_tables
    # A foreign key that closes a cycle (campaigns.active_version_id → campaign_versions,
    # whose rows point back at campaigns) is created after both tables (use_alter) and
    # left out of that order: it is cleared first, so no DELETE trips over it.
    unlink = [
        f'UPDATE "{table.name}" SET '
        + ", ".join(f'"{column.name}" = NULL' for column in constraint.columns)
        for table in tables
        for constraint in table.constraints
        if isinstance(constraint, ForeignKeyConstraint) and constraint.use_alter
    ]
    deletes = [f'DELETE FROM "{table.name}"' for table in reversed(tables)]
    restart = (
        "SELECT setval(format('%I.%I', schemaname, sequencename), start_value, false)"
        " FROM pg_sequences WHERE schemaname = current_schema()"
    )
    return ";\n".join([*unlink, *deletes, restart])


@pytest.fixture
def database_url(
    _template_database: str, _postgres_engine: Engine | None, tmp_path: Path
) -> Iterator[str]:
    """A migrated, empty database for one test."""
    if _postgres_engine is not None:
        yield _template_database
        with _postgres_engine.begin() as conn:
            conn.execute(text(_empty_every_table()))
        return
    path = tmp_path / "nurture.db"
    shutil.copy(_template_database, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings for one test: its own database and instance folder, the local outbox."""
    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    return Settings(
        instance_path=instance,
        database_url=database_url,
        secret_key="test-secret-key-not-for-production",
        public_url="http://nurture.test",
        default_timezone="UTC",
        # An instance has no brand until it is given one; the suite's is the demo company.
        **DEMO_BRAND,
    )


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime.from_settings(settings)
    yield rt
    rt.close()


@pytest.fixture
def app(settings: Settings):  # type: ignore[no-untyped-def]

    flask_app = create_app({"NURTURE_SETTINGS": settings, "TESTING": True})
    yield flask_app
    flask_app.extensions["nurture"].close()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


# ---------------------------------------------------------------- a real SMTP server


@dataclass
class SmtpSink:
    """An in-process aiosmtpd server that keeps what it receives and can be told to fail."""

    host: str
    port: int
    received: list[EmailMessage] = field(default_factory=list)
    # The bytes as they arrived (signatures are checked on these, not on a re-serialisation).
    raw: list[bytes] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    # Reply codes to give to the next DATA commands, e.g. ["451 4.3.0 try later"].
    fail_next: list[str] = field(default_factory=list)
    # Replies to RCPT TO for some recipients, e.g. {"ghost@x.example": "550 5.1.1 …"}.
    refuse_rcpt: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    async def handle_RCPT(self, server, session, envelope, address, options):  # type: ignore[no-untyped-def]
        refusal = self.refuse_rcpt.get(address)
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        with self.lock:
            if self.fail_next:
                return self.fail_next.pop(0)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.raw.append(envelope.original_content)
            self.received.append(
                message_from_bytes(envelope.original_content, policy=policy.default)  # type: ignore[arg-type]
            )
        return "250 2.0.0 OK queued"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A real SMTP server on 127.0.0.1 for the duration of one test."""
    from aiosmtpd.controller import Controller

    sink = SmtpSink(host="127.0.0.1", port=_free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
