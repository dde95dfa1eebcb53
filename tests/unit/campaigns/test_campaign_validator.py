"""Checks against templates and other files, and the rules for editing a live campaign."""

from datetime import timedelta
from pathlib import Path

from nurture.campaigns.editing import remap_position, version_changes
from nurture.campaigns.loader import load_campaign_text
from nurture.campaigns.spec import Campaign, ExitStep, SendStep, Track, WaitStep
from nurture.campaigns.validator import (
    campaign_files,
    check_directory,
    check_edit,
    validate_campaign,
    validate_directory,
)

TEMPLATES = {"welcome-guide", "cold-five-mistakes", "cold-benchmark-report"}

CAMPAIGN = """\
id: templates
name: Templates
tracks:
  cold:
    when: { temperature: [cold] }
    steps:
      - id: welcome
        send: welcome-guide
      - id: typo
        send: cold-five-mistake
      - id: unknown
        send: brand-new-email
  warm:
    steps:
      - id: welcome
        send: welcome-guide
"""


def load(text: str = CAMPAIGN, path: str = "templates.yaml") -> Campaign:
    result = load_campaign_text(text, path)
    assert result.problems == []
    return result.campaign


def exists(name: str) -> bool:
    return name in TEMPLATES


# ---------------------------------------------------------------- templates


def test_unknown_templates_are_reported_at_their_send_step_with_a_suggestion():
    problems = validate_campaign(load(), template_exists=exists, known_templates=TEMPLATES)

    assert [str(p) for p in problems] == [
        "templates.yaml:9: unknown template 'cold-five-mistake' (did you mean "
        "'cold-five-mistakes'?)",
        "templates.yaml:11: unknown template 'brand-new-email'",
    ]


def test_a_template_that_does_not_render_is_reported_once_at_its_first_send():
    calls = []

    def render_problems(name):
        calls.append(name)
        return ["'lead.frist_name' is undefined"] if name == "welcome-guide" else []

    problems = validate_campaign(
        load(), template_exists=lambda name: True, template_problems=render_problems
    )

    assert [str(p) for p in problems] == [
        "templates.yaml:7: template 'welcome-guide' does not render: 'lead.frist_name' is undefined"
    ]
    assert sorted(calls) == ["brand-new-email", "cold-five-mistake", "welcome-guide"]


def test_a_template_check_that_crashes_is_reported_not_raised():
    def broken(name):
        raise RuntimeError("mjml binary missing")

    problems = validate_campaign(load(), template_exists=lambda n: True, template_problems=broken)

    assert problems[0].message == (
        "template 'welcome-guide' does not render: could not be checked "
        "(RuntimeError: mjml binary missing)"
    )


# ---------------------------------------------------------------- folders


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


SIMPLE = """\
id: {key}
name: Simple
tracks:
  all:
    steps:
      - id: welcome
        send: welcome-guide
"""


def test_a_folder_reports_every_file_and_two_files_with_one_id(tmp_path):
    first = write(tmp_path, "a.yaml", SIMPLE.format(key="same"))
    second = write(tmp_path, "b.yml", SIMPLE.format(key="same"))
    fine = write(tmp_path, "c.yaml", SIMPLE.format(key="other"))
    write(tmp_path, "notes.txt", "not a campaign")
    write(tmp_path, ".hidden.yaml", "id: [")

    report = validate_directory(tmp_path, template_exists=exists)

    assert list(report) == [first, second, fine]
    assert [str(p) for p in report[first]] == [
        f"{first}:1: campaign id 'same' is also used by b.yml: each campaign needs its own id"
    ]
    assert [str(p) for p in report[second]] == [
        f"{second}:1: campaign id 'same' is also used by a.yaml: each campaign needs its own id"
    ]
    assert report[fine] == []


def test_a_folder_check_includes_loader_and_template_problems(tmp_path):
    broken = write(tmp_path, "broken.yaml", SIMPLE.format(key="broken").replace("send:", "sned:"))
    unknown = write(
        tmp_path, "unknown.yaml", SIMPLE.format(key="unknown").replace("welcome-guide", "nope")
    )

    checked = {item.path: item for item in check_directory(tmp_path, template_exists=exists)}

    assert [p.message for p in checked[broken].problems] == [
        "unknown field 'sned' (did you mean 'send'?)"
    ]
    assert checked[broken].campaign is None
    assert [p.message for p in checked[unknown].problems] == ["unknown template 'nope'"]
    assert checked[unknown].load.campaign is not None and not checked[unknown].ok


def test_a_file_path_is_checked_on_its_own(tmp_path):
    path = write(tmp_path, "one.yaml", SIMPLE.format(key="one"))
    assert campaign_files(path) == [path]


# ---------------------------------------------------------------- editing a live campaign


def campaign(*tracks: Track) -> Campaign:
    return Campaign(id="c", name="C", tracks=tracks)


OLD = campaign(
    Track(
        "cold",
        (
            SendStep("welcome", "welcome-guide"),
            WaitStep("pause", duration=timedelta(days=3)),
            SendStep("tips", "cold-five-mistakes"),
            WaitStep("pause-2", duration=timedelta(days=2)),
            SendStep("report", "cold-benchmark-report"),
            ExitStep("done"),
        ),
    ),
    Track("warm", (SendStep("case", "warm-case-study"),)),
)


def test_an_enrolment_stays_at_its_step_id_when_the_step_still_exists():
    new = campaign(
        Track(
            "cold",
            (
                SendStep("welcome", "welcome-guide"),
                SendStep("new-email", "cold-benchmark-report"),
                WaitStep("pause", duration=timedelta(days=5)),
                SendStep("tips", "cold-five-mistakes"),
            ),
        ),
        OLD.tracks[1],
    )
    assert remap_position(OLD, new, "cold", "pause") == ("cold", "pause")
    assert remap_position(OLD, new, "warm", "case") == ("warm", "case")


def test_a_removed_step_continues_at_the_first_following_step_that_still_exists():
    new = campaign(
        Track(
            "cold",
            (
                SendStep("welcome", "welcome-guide"),
                SendStep("report", "cold-benchmark-report"),
                ExitStep("done"),
            ),
        )
    )
    # "pause", "tips" and "pause-2" are gone: the next survivor in the old order is "report".
    assert remap_position(OLD, new, "cold", "pause") == ("cold", "report")
    assert remap_position(OLD, new, "cold", "pause-2") == ("cold", "report")


def test_a_removed_step_with_nothing_after_it_left_completes_the_enrolment():
    new = campaign(Track("cold", (SendStep("welcome", "welcome-guide"),)))
    assert remap_position(OLD, new, "cold", "tips") == ("cold", None)


def test_a_removed_track_sends_the_lead_to_the_track_that_matches_it_now():
    new = campaign(OLD.tracks[0])
    assert remap_position(OLD, new, "warm", "case") == (None, None)


def test_an_enrolment_that_has_not_started_begins_at_the_first_step_of_the_new_version():
    new = campaign(Track("cold", (WaitStep("warm-up", duration=timedelta(days=1)),)))
    assert remap_position(OLD, new, "cold", None) == ("cold", "warm-up")


def test_version_changes_say_where_enrolments_on_removed_steps_go():
    new = campaign(
        Track(
            "cold",
            (SendStep("welcome", "welcome-guide"), SendStep("report", "cold-benchmark-report")),
        )
    )
    changes = version_changes(OLD, new)

    assert changes.removed_tracks == ("warm",)
    assert changes.describe() == [
        "track 'warm' removed: its enrolments move to the track matching each lead",
        "step cold/pause removed: enrolments there continue at 'report'",
        "step cold/tips removed: enrolments there continue at 'report'",
        "step cold/pause-2 removed: enrolments there continue at 'report'",
        "step cold/done removed: enrolments there complete",
    ]
    assert not version_changes(OLD, OLD)


def test_an_edited_text_is_checked_as_if_saved_among_its_folder(tmp_path) -> None:
    (tmp_path / "a.yaml").write_text("id: shared\nname: A\n")
    (tmp_path / "b.yaml").write_text("id: other\nname: B\n")
    text = "# b, renamed\nid: shared\nname: B\ntracks: {}\n"

    checked = check_edit(tmp_path / "b.yaml", text, template_exists=lambda name: True)

    (tmp_path / "b.yaml").write_text(text)
    saved = {
        item.path.name: item
        for item in check_directory(tmp_path, template_exists=lambda name: True)
    }
    assert [str(p) for p in checked.problems] == [str(p) for p in saved["b.yaml"].problems]
    assert any("also used by a.yaml" in p.message and p.line == 2 for p in checked.problems)
