"""Each lead's first enrolment in each campaign (``campaign_entries``) follows every
enrolment written, by the import's bulk insert as by ``enrol_lead``, equals a full
recomputation from the enrolments, is filled by its migration from enrolments already
recorded, and is checked and rebuilt by ``nurture db rebuild-rollups``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from nurture.analytics import campaign_entries
from nurture.leads.csv_import import import_leads_csv
from nurture.models import Campaign, CampaignEntry, Enrollment, Lead
from nurture.platform.db import transaction
from tests.integration.analytics.rollup_support import rows, stored_value
from tests.integration.engine_support import add_lead, enrol, sync_fixture_campaigns

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
HEADER = "email,first_name,consent_status,lawful_basis\n"


def imported(runtime, tmp_path: Path, count: int) -> list[int]:  # type: ignore[no-untyped-def]
    """``count`` new leads through the CSV import, which enrols them in the fixture drip
    (its trigger is the lead's creation) by its bulk insert."""
    path = tmp_path / "leads.csv"
    lines = [f"i{n}@import.example,I{n},granted,consent\n" for n in range(count)]
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    import_leads_csv(runtime.sessions, path, now=NOW, progress=False)
    with runtime.sessions() as session:
        found = session.scalars(select(Lead.id).where(Lead.email.like("%@import.example")))
        return sorted(found)


def entries(runtime) -> set[tuple[int, str, datetime]]:  # type: ignore[no-untyped-def]
    statement = select(CampaignEntry.lead_id, Campaign.key, CampaignEntry.created_at).join(
        Campaign, Campaign.id == CampaignEntry.campaign_id
    )
    return rows(runtime, statement)


@pytest.fixture
def history(runtime, tmp_path) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Leads imported (enrolled by the import), one enrolled by hand in two campaigns and
    re-entered in one, one never enrolled."""
    sync_fixture_campaigns(runtime, now=NOW - timedelta(days=30))
    leads = imported(runtime, tmp_path, 3)
    by_hand = add_lead(runtime, "hand@example.com", created_at=NOW - timedelta(days=2))
    first = enrol(runtime, by_hand, now=NOW)
    with transaction(runtime.sessions) as session:
        # Finished, so the lead may enter the drip again (a second entry, not a new pair).
        session.execute(
            update(Enrollment)
            .where(Enrollment.id == first)
            .values(status="completed", next_due_at=None, finished_at=NOW)
        )
    again = enrol(runtime, by_hand, now=NOW + timedelta(days=400))
    never = add_lead(runtime, "never@example.com")
    return {"imported": leads, "by_hand": by_hand, "again": again, "never": never}


def test_the_imports_bulk_insert_and_each_enrolment_add_one_row_per_lead_and_campaign(
    runtime, history
):
    with runtime.sessions() as session:
        created = {i: c for i, c in session.execute(select(Lead.id, Lead.created_at))}
        assert session.get(Enrollment, history["again"]).entry_number == 2
    leads = [*history["imported"], history["by_hand"]]
    assert len(history["imported"]) == 3
    assert entries(runtime) == {(lead, "test-drip", stored_value(created[lead])) for lead in leads}


def test_the_table_equals_a_full_recomputation_from_the_enrolments(runtime, history):
    stored = rows(runtime, campaign_entries.stored_entries())
    assert stored == rows(runtime, campaign_entries.recomputed_entries())
    assert len(stored) == 4
    with runtime.sessions() as session:
        assert campaign_entries.count_differences(session) == 0


def test_deleting_a_lead_takes_its_rows_away(runtime, history):
    with transaction(runtime.sessions) as session:
        session.execute(delete(Lead).where(Lead.id == history["by_hand"]))
    assert {row[0] for row in entries(runtime)} == set(history["imported"])
    with runtime.sessions() as session:
        assert campaign_entries.count_differences(session) == 0


def test_the_migration_fills_the_table_from_enrolments_already_recorded(
    runtime, history, migrate_again
):
    before = entries(runtime)
    migrate_again("9790")
    assert entries(runtime) == before
    with runtime.sessions() as session:  # the days too (migration 9860)
        assert campaign_entries.count_differences(session) == 0
    # The triggers came back with the table: a new enrolment adds its row.
    later = add_lead(runtime, "later@example.com")
    enrol(runtime, later, now=NOW)
    assert len(entries(runtime)) == len(before) + 1


def test_the_rebuild_command_puts_a_damaged_table_right(runtime, history, db_command):
    right = entries(runtime)
    with transaction(runtime.sessions) as session:
        session.execute(
            delete(CampaignEntry).where(CampaignEntry.lead_id == history["imported"][0])
        )
        session.execute(
            update(CampaignEntry)
            .where(CampaignEntry.lead_id == history["imported"][1])
            .values(created_at=NOW + timedelta(days=9))
        )
    checked = db_command("rebuild-rollups", "--check")
    assert checked.exit_code == 1
    # One row missing (1, on the enrolments' side), one with another creation (1 + 1).
    assert "campaign_entries: 3 rows differ" in checked.output

    rebuilt = db_command("rebuild-rollups")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "campaign_entries: 4 rows recomputed" in rebuilt.output
    assert "(3 differed before)" in rebuilt.output
    assert entries(runtime) == right
    assert "campaign_entries: 0 rows differ" in db_command("rebuild-rollups", "--check").output


def test_each_row_keeps_the_utc_day_of_its_leads_creation_as_a_number(runtime, history):
    sync_fixture_campaigns(runtime, now=NOW - timedelta(days=30))
    late = datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=UTC)
    last_instant = add_lead(runtime, "late@example.com", created_at=late)
    next_day = late + timedelta(microseconds=1)
    first_instant = add_lead(runtime, "early@example.com", created_at=next_day)
    for lead in (last_instant, first_instant):
        enrol(runtime, lead, now=NOW)
    days = dict(rows(runtime, select(CampaignEntry.lead_id, CampaignEntry.created_day)))
    assert (days[last_instant], days[first_instant]) == (20260131, 20260201)
    with runtime.sessions() as session:
        assert campaign_entries.count_differences(session) == 0


def test_the_check_finds_a_wrong_day_and_the_rebuild_puts_it_right(runtime, history, db_command):
    right = rows(runtime, campaign_entries.stored_entries())
    with transaction(runtime.sessions) as session:
        session.execute(
            update(CampaignEntry)
            .where(CampaignEntry.lead_id == history["by_hand"])
            .values(created_day=CampaignEntry.created_day + 1)
        )
    checked = db_command("rebuild-rollups", "--check")
    assert checked.exit_code == 1
    assert "campaign_entries: 2 rows differ" in checked.output
    assert db_command("rebuild-rollups").exit_code == 0
    assert rows(runtime, campaign_entries.stored_entries()) == right
