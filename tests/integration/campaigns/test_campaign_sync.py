"""Campaign files into versioned rows, the spec cache, and the ``nurture campaigns`` commands."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from nurture.campaigns.loader import load_campaign_file
from nurture.campaigns.sync import (
    active_campaigns,
    campaign_spec_for_version,
    clear_spec_cache,
    sync_campaigns,
)
from nurture.cli import (
    campaigns_cmd,  # noqa: F401  (registers the commands)
    cli,
)
from nurture.models import Campaign, CampaignVersion, Enrollment, Lead
from nurture.platform.db import transaction

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[3]
TEMPLATES = {"welcome-guide", "cold-five-mistakes", "cold-benchmark-report"}

DRIP = """\
id: drip
name: Drip
entry:
  triggers: [lead_created]
tracks:
  cold:
    steps:
      - id: welcome
        send: welcome-guide
      - id: pause
        wait: 3d
      - id: tips
        send: cold-five-mistakes
"""


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "campaigns"
    path.mkdir()
    return path


@pytest.fixture(autouse=True)
def _fresh_spec_cache():
    clear_spec_cache()
    yield
    clear_spec_cache()


def sync(runtime, folder, now=NOW):
    with transaction(runtime.sessions) as session:
        return sync_campaigns(
            session,
            folder,
            now=now,
            template_exists=lambda name: name in TEMPLATES,
            known_templates=TEMPLATES,
        )


def campaign_row(runtime, key="drip") -> Campaign:
    with runtime.sessions() as session:
        return session.scalars(select(Campaign).where(Campaign.key == key)).one()


def versions(runtime, key="drip") -> list[int]:
    with runtime.sessions() as session:
        return list(
            session.scalars(
                select(CampaignVersion.number)
                .join(Campaign, Campaign.id == CampaignVersion.campaign_id)
                .where(Campaign.key == key)
                .order_by(CampaignVersion.number)
            )
        )


def active_number(runtime, key="drip") -> int | None:
    with runtime.sessions() as session:
        row = session.scalars(select(Campaign).where(Campaign.key == key)).one()
        return row.active_version.number if row.active_version else None


# ---------------------------------------------------------------- versions


def test_a_new_valid_file_creates_the_campaign_and_its_first_version(runtime, folder):
    path = folder / "drip.yaml"
    path.write_text(DRIP)

    report = sync(runtime, folder)

    assert [(e.action, e.key, e.version) for e in report.entries] == [("created", "drip", 1)]
    assert str(report) == "1 created, 0 updated, 0 unchanged, 0 failed, 0 archived"
    row = campaign_row(runtime)
    assert (row.name, row.status, row.source_path) == ("Drip", "active", str(path.resolve()))
    with runtime.sessions() as session:
        version = session.get(CampaignVersion, row.active_version_id)
        assert version.number == 1
        assert version.source == DRIP
        assert version.checksum == load_campaign_file(path).checksum
        # The spec is the plain YAML data, exactly as written.
        assert version.spec["tracks"]["cold"]["steps"][1] == {"id": "pause", "wait": "3d"}
        assert version.created_at == NOW


def test_an_unchanged_file_creates_nothing(runtime, folder):
    (folder / "drip.yaml").write_text(DRIP)
    sync(runtime, folder)

    report = sync(runtime, folder, NOW + timedelta(hours=1))

    assert [(e.action, e.version) for e in report.entries] == [("unchanged", 1)]
    assert versions(runtime) == [1]


def test_an_edit_becomes_the_next_active_version_and_says_where_enrolments_go(runtime, folder):
    path = folder / "drip.yaml"
    path.write_text(DRIP)
    sync(runtime, folder)

    path.write_text(DRIP.replace("      - id: pause\n        wait: 3d\n", ""))
    report = sync(runtime, folder)

    (entry,) = report.entries
    assert (entry.action, entry.version) == ("updated", 2)
    assert entry.notes == ("step cold/pause removed: enrolments there continue at 'tips'",)
    assert versions(runtime) == [1, 2]
    assert active_number(runtime) == 2


def test_a_broken_edit_keeps_the_previous_version_active_and_records_the_error(runtime, folder):
    path = folder / "drip.yaml"
    path.write_text(DRIP)
    sync(runtime, folder)

    path.write_text(DRIP.replace("wait: 3d", "wait: 3 days"))
    later = NOW + timedelta(minutes=5)
    report = sync(runtime, folder, later)

    (entry,) = report.entries
    assert entry.action == "failed" and not report.ok
    assert entry.notes == ("version 1 stays active",)
    assert [str(p) for p in entry.problems] == [
        f"{path}:11: wait: bad duration '3 days': use a number and one of s, m, h, d, w (e.g. 3d)"
    ]
    row = campaign_row(runtime)
    assert row.last_error == str(entry.problems[0])
    assert row.last_error_at == later
    assert versions(runtime) == [1]
    assert active_number(runtime) == 1

    # Fixing the file clears the error and creates the next version.
    path.write_text(DRIP.replace("wait: 3d", "wait: 4d"))
    assert [e.action for e in sync(runtime, folder).entries] == ["updated"]
    row = campaign_row(runtime)
    assert (row.last_error, row.last_error_at) == (None, None)
    assert active_number(runtime) == 2


def test_an_unknown_template_fails_the_file_like_any_other_problem(runtime, folder):
    path = folder / "drip.yaml"
    path.write_text(DRIP.replace("cold-five-mistakes", "cold-five-mistake"))

    report = sync(runtime, folder)

    (entry,) = report.entries
    assert entry.action == "failed"
    assert entry.problems[0].message == (
        "unknown template 'cold-five-mistake' (did you mean 'cold-five-mistakes'?)"
    )


def test_a_broken_new_file_creates_no_campaign(runtime, folder):
    (folder / "drip.yaml").write_text("id: drip\nname: [\n")

    report = sync(runtime, folder)

    (entry,) = report.entries
    assert entry.action == "failed"
    assert entry.notes == ("not created: fix the problems and sync again",)
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_a_file_too_broken_to_name_its_campaign_is_matched_by_its_path(runtime, folder):
    path = folder / "drip.yaml"
    path.write_text(DRIP)
    sync(runtime, folder)

    path.write_text("id: drip\n  name: broken indentation\n")
    report = sync(runtime, folder)

    assert [e.action for e in report.entries] == ["failed"]
    row = campaign_row(runtime)
    assert row.status == "active" and row.last_error.startswith(f"{path.resolve()}:2: YAML")
    assert active_number(runtime) == 1


def test_reverting_a_file_reactivates_the_matching_old_version(runtime, folder):
    path = folder / "drip.yaml"
    path.write_text(DRIP)
    sync(runtime, folder)
    path.write_text(DRIP.replace("3d", "5d"))
    sync(runtime, folder)

    path.write_text(DRIP)
    (entry,) = sync(runtime, folder).entries

    assert (entry.action, entry.version) == ("updated", 1)
    assert "the file matches version 1 again: restored it" in entry.notes
    assert versions(runtime) == [1, 2]
    assert active_number(runtime) == 1


def test_two_files_with_one_id_both_fail_and_change_nothing(runtime, folder):
    (folder / "a.yaml").write_text(DRIP)
    sync(runtime, folder)
    (folder / "b.yaml").write_text(DRIP.replace("3d", "1d"))

    report = sync(runtime, folder)

    assert [e.action for e in report.entries] == ["failed", "failed"]
    assert "is also used by b.yaml" in report.entries[0].problems[0].message
    assert versions(runtime) == [1]
    assert campaign_row(runtime).status == "active"


# ---------------------------------------------------------------- removed files


def add_enrolment(runtime, status="active"):
    with transaction(runtime.sessions) as session:
        campaign = session.scalars(select(Campaign).where(Campaign.key == "drip")).one()
        lead = Lead(email=f"{status}@acme.example")
        session.add(lead)
        session.flush()
        session.add(
            Enrollment(
                lead_id=lead.id,
                campaign_id=campaign.id,
                version_id=campaign.active_version_id,
                track="cold",
                step="pause",
                status=status,
            )
        )


def test_a_removed_file_archives_its_campaign_and_says_what_stops(runtime, folder):
    path = folder / "drip.yaml"
    path.write_text(DRIP)
    sync(runtime, folder)
    add_enrolment(runtime)
    add_enrolment(runtime, status="completed")

    path.unlink()
    report = sync(runtime, folder)

    (entry,) = report.archived
    assert entry.key == "drip"
    assert entry.notes == (
        "its file is gone from the folder: archived; its 1 active enrolment(s) are no longer "
        "processed",
    )
    assert campaign_row(runtime).status == "archived"
    with runtime.sessions() as session:
        assert active_campaigns(session) == []

    # The file coming back makes it active again, with the same version.
    path.write_text(DRIP)
    (entry,) = sync(runtime, folder).entries
    assert (entry.action, entry.version) == ("updated", 1)
    assert entry.notes == ("its file is back: active again",)
    assert campaign_row(runtime).status == "active"


def test_syncing_one_file_or_another_folder_archives_nothing(runtime, folder, tmp_path):
    (folder / "drip.yaml").write_text(DRIP)
    (folder / "other.yaml").write_text(DRIP.replace("id: drip", "id: other"))
    sync(runtime, folder)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    assert sync(runtime, folder / "drip.yaml").archived == []
    assert sync(runtime, elsewhere).entries == []
    assert campaign_row(runtime, "other").status == "active"


def test_a_missing_folder_is_an_error_not_an_empty_folder(runtime, tmp_path):
    with pytest.raises(FileNotFoundError):
        sync(runtime, tmp_path / "typo")


# ---------------------------------------------------------------- specs for the engine


def test_active_campaigns_returns_parsed_specs_and_caches_them_per_version(runtime, folder):
    path = folder / "drip.yaml"
    path.write_text(DRIP)
    sync(runtime, folder)

    with runtime.sessions() as session:
        ((row, spec),) = active_campaigns(session)
        ((_, again),) = active_campaigns(session)
        by_version = campaign_spec_for_version(session, row.active_version_id)

    assert row.key == "drip"
    assert spec.id == "drip" and [t.id for t in spec.tracks] == ["cold"]
    assert spec.tracks[0].step_ids() == ("welcome", "pause", "tips")
    assert spec.checksum == load_campaign_file(path).checksum
    assert again is spec and by_version is spec


def test_an_older_version_stays_readable_for_enrolments_still_on_it(runtime, folder):
    path = folder / "drip.yaml"
    path.write_text(DRIP)
    sync(runtime, folder)
    first = campaign_row(runtime).active_version_id
    path.write_text(DRIP.replace("3d", "5d"))
    sync(runtime, folder)

    with runtime.sessions() as session:
        old = campaign_spec_for_version(session, first)
        ((_, new),) = active_campaigns(session)

    assert old.tracks[0].steps[1].duration == timedelta(days=3)
    assert new.tracks[0].steps[1].duration == timedelta(days=5)
    with runtime.sessions() as session, pytest.raises(LookupError):
        campaign_spec_for_version(session, 9999)


def test_the_bundled_examples_sync_against_the_real_templates(runtime):
    examples = ROOT / "campaigns" / "examples"
    with transaction(runtime.sessions) as session:
        report = sync_campaigns(
            session,
            examples,
            now=NOW,
            template_exists=lambda name: (ROOT / "templates" / name / "body.mjml").is_file(),
        )
    assert [(e.action, e.key) for e in report.entries] == [
        ("created", "b2b-nurture"),
        ("created", "recycle"),
    ], report.lines()


# ---------------------------------------------------------------- commands


def invoke(app, *args):
    return app.test_cli_runner().invoke(cli, ["campaigns", *args])


def test_validate_prints_every_problem_as_file_line_message_and_exits_1(app):
    path = ROOT / "tests" / "fixtures" / "campaigns" / "broken" / "flow.yaml"

    result = invoke(app, "validate", str(path))

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"{path}:10: duplicate step id 'welcome' in track 'cold' (first used on line 8)" in lines
    assert f"{path}:44: track 'empty' has no steps" in lines
    assert lines[-1].startswith("1 file checked, 0 valid, 10 problems;")
    assert "Traceback" not in result.output


def test_validate_a_folder_of_valid_campaigns_exits_0(app):
    # The bundled examples against the real templates: rendered through the template
    # library when it is installed, else checked for body.mjml.
    result = invoke(app, "validate", str(ROOT / "campaigns" / "examples"))

    assert result.exit_code == 0, result.output
    assert "2 files checked, 2 valid, 0 problems;" in result.output


def test_validate_a_missing_path_is_a_clean_error(app, tmp_path):
    result = invoke(app, "validate", str(tmp_path / "nope"))

    assert result.exit_code == 1
    assert "no campaign file or folder at" in result.output


def test_sync_and_list_commands(app, tmp_path):
    folder = tmp_path / "campaigns"
    folder.mkdir()
    (folder / "drip.yaml").write_text(DRIP)
    (folder / "broken.yaml").write_text(DRIP.replace("id: drip", "id: broken").replace("3d", "x"))

    result = invoke(app, "sync", str(folder))

    assert result.exit_code == 1  # one file failed; the other was still stored
    assert "created   drip (version 1)" in result.output
    assert "failed    broken" in result.output
    assert "1 created, 0 updated, 0 unchanged, 1 failed, 0 archived" in result.output

    listed = invoke(app, "list")
    assert listed.exit_code == 0, listed.output
    assert "drip" in listed.output and "active" in listed.output
    assert "broken" not in listed.output  # never valid, so never created
