"""An import decides per batch (one enrolment decision per campaign for the whole batch,
multi-row inserts) with exactly the results of deciding row by row.

The reference is the per-row path as it was: batches of one row, the creation trigger
enrolling each new lead on its own (``enrol_on_trigger`` → ``enrol_lead``, a query and a
flush per lead), kept here by replacing ``triggers.leads_created`` for that run, and each
lead inserted ungraded and then graded as an object (``regrade_leads``) instead of graded
before its insert (``grading.grade_new_leads``) or from plain columns (``regrade_batch``).
The same mixed file goes through both paths, each in an empty database
with the bundled ICP, sales team and a readiness definition that hands strong fits to
sales, and everything the import writes is compared: leads (their fit scores, grades,
reasons and what is missing), accounts, enrolments and their history, events (``fit.changed``
too), handoffs, the audit log, the summary and the rejects file.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update

from nurture.campaigns import enrolment, triggers
from nurture.consent.suppression import suppress
from nurture.leads.csv_import import import_leads_csv
from nurture.models import Account, Base, Campaign, Enrollment, EnrollmentHistory, Event, Lead
from nurture.models.handoff import Handoff
from nurture.platform.db import transaction
from nurture.qualification import regrade_leads, service, subscriptions
from nurture.qualification.versions import sync_file
from tests.integration.engine_support import FIXTURES, T0, sync_fixture_campaigns
from tests.integration.handoff_support import BUNDLED_TEAM, PROJECT, sync_team_file

HEADER = (
    "email,first_name,title,company,consent_status,lawful_basis,plan,stage,"
    "industry,employees,country\n"
)
# The firmographics of the accounts firma0..firma4 (firma4 has none: fit data missing).
FIRMS = (",software,1500,US", ",retail,40,PL", ",logistics,300,DE", ",fintech,80,BR", ",,,")
# The bundled readiness rules and one that a strong fit meets on its own, so that an import
# hands leads to sales.
STRONG_FIT_RULE = """
  - id: strong-fit
    description: a strong fit on its own
    min_grade: B
"""
# Columns whose values are the database's own (keys, the clock of the test run) or random
# (a handoff's and a message's token).
VOLATILE = {"id", "key_id", "checksum", "token"}
# A new lead graded after its insert was stamped by that UPDATE with the clock of the run;
# graded before it, its row is written once, at the import's time (checked on its own).
VOLATILE_COLUMNS = {("leads", "updated_at")}
# Rows the migrations write, which a fresh database has before either run.
SEEDED = {"email_rollup_state"}
_DAY = timedelta(days=1)


def _campaigns(tmp_path: Path) -> Path:
    """The fixture drip (every new lead at a marketing stage), one for the pro plan only,
    and one that a changed title starts."""
    folder = tmp_path / "campaigns"
    folder.mkdir()
    drip = (FIXTURES / "drip.yaml").read_text(encoding="utf-8")
    (folder / "drip.yaml").write_text(drip, encoding="utf-8")
    pro = drip.replace("id: test-drip", "id: pro-drip").replace(
        "    stage: [subscriber, lead, recycled]",
        "    attribute: { name: attributes.plan, in: [pro] }",
    )
    (folder / "pro.yaml").write_text(pro, encoding="utf-8")
    title = drip.replace("id: test-drip", "id: title-drip").replace(
        "    - lead_created", "    - attribute_changed: title"
    )
    (folder / "title.yaml").write_text(title, encoding="utf-8")
    return folder


def _existing() -> str:
    rows = [HEADER]
    for i in range(12):
        consent = "granted,consent" if i % 3 else ","
        plan = "pro" if i % 4 == 0 else "basic"
        firm = FIRMS[i % 3]
        rows.append(
            f"old{i}@firma{i % 3}.pl,Old{i},Analyst,Firma {i % 3},{consent},{plan},{firm}\n"
        )
    return "".join(rows)


def _mixed() -> str:
    """New leads (mailable or not, two plans, company and free-mail domains), updates that
    fix consent, change a title or a plan or a stage, repeats, bad rows, a blank line, a
    suppressed and an erased address."""
    rows = [HEADER]
    for i in range(40):
        consent = ("granted,consent", ",", "withdrawn,consent", ",legitimate_interest")[i % 4]
        plan = "pro" if i % 5 == 0 else "basic"
        domain = "gmail.com" if i % 7 == 3 else f"firma{i % 5}.pl"
        title = ("Director", "Sales Director", "CFO", "Intern")[i % 4]
        firm = FIRMS[i % 5] if i % 6 else ",,,"  # some rows leave the account's data alone
        rows.append(f"new{i}@{domain},New{i},{title},Firma {i % 5},{consent},{plan},{firm}\n")
        if i % 9 == 4:
            rows.append(f"bad-{i}@@example,X,,,,,,,,,\n")
        if i % 10 == 6:
            rows.append(",,,,,,,,,,\n")
    for i in range(12):
        change = (
            "Head of Sales,Firma {c},granted,consent,basic,",
            "Analyst,Firma {c},,,pro,",
            "Analyst,Firma {c},,,basic,lead",
            "CFO,Firma {c},,,,",
        )[i % 4].format(c=i % 3)
        # A grown account regrades its people who are not in the file too.
        firm = ",software,2500,US" if i == 1 else ",,,"
        rows.append(f"old{i}@firma{i % 3}.pl,Old{i},{change}{firm}\n")
    rows.append("new5@firma0.pl,Repeat,Manager,Firma 0,granted,consent,pro,,,,\n")
    rows.append("new8@firma3.pl,Again,Director,Firma 3,,,basic,,,,\n")
    rows.append("gone@firma1.pl,Gone,CEO,Firma 1,granted,consent,pro,,,,\n")
    rows.append("quiet@firma2.pl,Quiet,CEO,Firma 2,granted,consent,pro,,,,\n")
    return "".join(rows)


def _import(runtime: Any, tmp_path: Path, name: str, text: str, now: datetime, size: int):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    summary = import_leads_csv(
        runtime.sessions,
        path,
        now=now,
        progress=False,
        batch_size=size,
        extra_columns="attributes",
        rejects_path=tmp_path / f"{name}.rejects.csv",
    )
    rejects = tmp_path / f"{name}.rejects.csv"
    return summary, rejects.read_text(encoding="utf-8") if rejects.exists() else None


def _rows(session: Any, table: Any) -> list[str]:
    """Every row of a table without its keys, in a stable order."""
    columns = [
        c
        for c in table.columns
        if c.name not in VOLATILE
        and (table.name, c.name) not in VOLATILE_COLUMNS
        and not c.name.endswith("_id")
    ]
    if not columns:
        # Keys only (a queue of lead ids): how many rows it holds.
        return [repr(session.scalar(select(func.count()).select_from(table)))]
    found = session.execute(select(*columns)).all()
    return sorted(repr(tuple(map(_stable, row))) for row in found)


def _stable(value: Any) -> Any:
    # Times the test gives are around T0; any other is the clock of the run (a campaign's
    # sync time), which differs between the two runs.
    if isinstance(value, datetime) and abs(value.replace(tzinfo=T0.tzinfo) - T0) > _DAY:
        return "<clock>"
    if isinstance(value, dict):
        # Keys of rows named in JSON (an event's ``handoff_id``, a handoff's snapshot of its
        # lead): PostgreSQL's sequences go on counting after the first run's rows are deleted.
        return {k: _stable(v) for k, v in value.items() if k != "id" and not k.endswith("_id")}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def _snapshot(runtime: Any) -> dict[str, Any]:
    with transaction(runtime.sessions) as session:
        tables = {table.name: _rows(session, table) for table in Base.metadata.sorted_tables}
        enrolled = session.execute(
            select(
                Lead.email,
                Campaign.key,
                Enrollment.entry_number,
                Enrollment.track,
                EnrollmentHistory.action,
                EnrollmentHistory.detail,
            )
            .join(Enrollment, Enrollment.lead_id == Lead.id)
            .join(Campaign, Campaign.id == Enrollment.campaign_id)
            .join(EnrollmentHistory, EnrollmentHistory.enrollment_id == Enrollment.id)
        ).all()
        events = [
            (email, kind, _stable(properties))
            for email, kind, properties in session.execute(
                select(Lead.email, Event.type, Event.properties).join(
                    Lead, Lead.id == Event.lead_id
                )
            )
        ]
        accounts = session.execute(
            select(Lead.email, Account.domain).join(Account, Account.id == Lead.account_id)
        ).all()
        fits = session.execute(select(Lead.email, Lead.fit_grade, Lead.fit_score)).all()
        handoffs = session.execute(
            select(Lead.email, Handoff.fit_grade, Handoff.qualification_rule).join(
                Lead, Lead.id == Handoff.lead_id
            )
        ).all()
    return {
        "tables": tables,
        "enrolled": sorted(map(repr, enrolled)),
        "campaigns_entered": sorted({row.key for row in enrolled}),
        "events": sorted(map(repr, events)),
        "accounts": sorted(accounts),
        "handoffs": sorted(map(repr, handoffs)),
        "fits": sorted(map(repr, fits)),
    }


def _run(runtime: Any, campaigns: Path, tmp_path: Path, size: int) -> dict[str, Any]:
    tmp_path.mkdir()
    sync_fixture_campaigns(runtime, campaigns)
    readiness = tmp_path.parent / "readiness.yaml"  # one path: the versions record it
    bundled = (PROJECT / "campaigns" / "readiness.yaml").read_text(encoding="utf-8")
    readiness.write_text(bundled.rstrip() + "\n" + STRONG_FIT_RULE, encoding="utf-8")
    sync_team_file(runtime, BUNDLED_TEAM, T0)
    with transaction(runtime.sessions) as session:
        assert sync_file(session, "icp", PROJECT / "campaigns" / "icp.yaml", now=T0).ok
        assert sync_file(session, "readiness", readiness, now=T0).ok
    with transaction(runtime.sessions) as session:
        suppress(session, "quiet@firma2.pl", reason="manual", source="test", now=T0)
        suppress(session, "gone@firma1.pl", reason="erased", source="test", now=T0)
    first = _import(runtime, tmp_path, "existing.csv", _existing(), T0, size)
    later = T0 + timedelta(hours=2)
    second = _import(runtime, tmp_path, "mixed.csv", _mixed(), later, size)
    summaries = [
        {k: v for k, v in vars(summary).items() if k not in ("seconds", "path", "rejects_path")}
        for summary, _ in (first, second)
    ]
    snapshot = _snapshot(runtime)
    with transaction(runtime.sessions) as session:
        snapshot["new_leads_written_once"] = session.scalar(
            select(func.count())
            .select_from(Lead)
            .where(Lead.created_at == later, Lead.updated_at == Lead.created_at)
        )
    snapshot["summaries"] = summaries
    snapshot["rejects"] = [rejects for _, rejects in (first, second)]
    return snapshot


def _empty(runtime: Any) -> None:
    with transaction(runtime.sessions) as session:
        # A campaign and its active version name each other.
        session.execute(update(Campaign).values(active_version_id=None))
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in SEEDED:
                session.execute(delete(table))


def test_a_batched_import_writes_what_the_row_by_row_import_wrote(runtime, tmp_path, monkeypatch):
    campaigns = _campaigns(tmp_path)
    with monkeypatch.context() as patch:

        def one_by_one(session: Any, leads: Any, now: datetime) -> None:
            for lead in leads:
                enrolment.enrol_on_trigger(session, lead, now, kind="lead_created")

        def as_objects(
            session: Any, ids: Any, now: datetime, *, reason: str = "data", graded: Any = None
        ) -> Any:
            assert not graded, "the reference grades nothing before the insert"
            return regrade_leads(session, list(ids), now, reason=reason)

        patch.setattr(triggers, "leads_created", one_by_one)
        patch.setattr(subscriptions, "grade_new_leads", lambda session, new, now: {})
        patch.setattr(service, "regrade_batch", as_objects)
        per_row = _run(runtime, campaigns, tmp_path / "per-row", size=1)
    _empty(runtime)
    batched = _run(runtime, campaigns, tmp_path / "batched", size=7)

    summary = batched["summaries"][1]
    # The file is as mixed as it says, and both paths saw all of it.
    assert summary["created"] >= 30 and summary["updated"] >= 9
    assert summary["duplicates"] == 2 and summary["rejected"] == 5 and summary["blank"] == 4
    assert summary["not_mailable"]
    assert len(batched["enrolled"]) >= 20
    assert batched["campaigns_entered"] == ["pro-drip", "test-drip", "title-drip"]
    # Leads were graded in every grade, some changed grade on the way, and the strong fits
    # were handed to sales.
    grades = {row.split(", ")[1] for row in batched["fits"]}
    assert {"'B'", "'C'", "'D'"} <= grades, batched["fits"]
    assert len(batched["handoffs"]) >= 4, batched["handoffs"]
    assert sum("'fit.changed'" in event for event in batched["events"]) >= 40
    for part in ("summaries", "rejects", "accounts", "enrolled", "events", "handoffs", "fits"):
        assert batched[part] == per_row[part], part
    for name, rows in per_row["tables"].items():
        assert batched["tables"][name] == rows, name
    # The batched import wrote each new lead once, its fit with it: no UPDATE stamped it
    # after its INSERT, except a lead that was handed to sales (an MQL now) or whose
    # account's data the file changed later.
    assert batched["new_leads_written_once"] >= summary["created"] - len(batched["handoffs"])
    assert per_row["new_leads_written_once"] == 0
