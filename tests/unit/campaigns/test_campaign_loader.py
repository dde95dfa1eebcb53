"""Campaign files: YAML in, schema objects or problems with file:line out."""

import json
import os
from dataclasses import fields, is_dataclass, replace
from datetime import time, timedelta
from pathlib import Path

import pytest

from nurture.campaigns.loader import (
    CampaignError,
    Problem,
    checksum,
    describe,
    load_campaign_file,
    load_campaign_text,
    parse_campaign_data,
)
from nurture.campaigns.spec import (
    AllOf,
    AnyOf,
    AttributeCompare,
    BranchStep,
    Campaign,
    Clicked,
    EventSeen,
    ExitStep,
    FrequencyCap,
    Not,
    Opened,
    ReEntry,
    ScoreCompare,
    SendStep,
    SendWindow,
    StageIn,
    TemperatureIn,
    Track,
    Trigger,
    Unsubscribed,
    WaitStep,
)

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "campaigns"
BROKEN = FIXTURES / "broken"
EXAMPLES = ROOT / "campaigns" / "examples"


def problems_of(path: Path) -> list[str]:
    """The problems of a fixture file, with the path shortened to its name."""
    result = load_campaign_file(path)
    assert result.campaign is None
    return [f"{Path(p.path).name}:{p.line}: {p.message}" for p in result.problems]


def without_lines(value):
    """The same schema value with every ``line`` set to 0 (what a stored spec gives)."""
    if isinstance(value, tuple):
        return tuple(without_lines(item) for item in value)
    if is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: without_lines(getattr(value, f.name)) for f in fields(value)}
        if "line" in changes:
            changes["line"] = 0
        return replace(value, **changes)
    return value


# ---------------------------------------------------------------- the happy path


def test_a_full_file_gives_exactly_the_expected_campaign():
    path = FIXTURES / "valid" / "full.yaml"
    result = load_campaign_file(path)

    assert result.problems == []
    assert result.ok
    assert result.checksum == checksum(path.read_text())
    assert result.campaign == Campaign(
        id="full-example",
        name="Full example",
        description="Uses every field.",
        triggers=(
            Trigger("lead_created", line=7),
            Trigger("event", event_type="webinar.attended", line=8),
            Trigger("stage_changed", stages=frozenset({"lead", "recycled"}), line=9),
            Trigger("attribute_changed", attribute="title", line=10),
        ),
        audience=AllOf(
            (
                StageIn(frozenset({"subscriber", "lead"})),
                Not(AttributeCompare("account.industry", "in", ("gambling",))),
                AnyOf(
                    (
                        AllOf((ScoreCompare("gte", 10.0), ScoreCompare("lt", 90.0))),
                        AttributeCompare("title", "contains", "director"),
                    )
                ),
            )
        ),
        manual=False,
        re_entry=ReEntry("after_finish", timedelta(days=90)),
        send_window=SendWindow(frozenset({0, 1, 2, 4}), time(8, 30), time(18, 0), "Europe/Berlin"),
        frequency_cap=FrequencyCap(2, timedelta(days=5)),
        utm={"source": "nurture", "medium": "email", "content": "2026"},
        exit_rules=(
            ("stage is mql or sal", StageIn(frozenset({"mql", "sal"}))),
            ("looked at pricing", EventSeen("custom.pricing_page_viewed", timedelta(days=14))),
            ("unsubscribed", Unsubscribed()),
        ),
        goal=EventSeen("demo.requested"),
        tracks=(
            Track(
                "leads",
                (
                    SendStep("hello", "welcome-guide", line=33),
                    WaitStep("pause", duration=timedelta(days=3), line=35),
                    BranchStep(
                        "opened?",
                        AllOf(
                            (Opened("hello"), AttributeCompare("attributes.plan", "exists", True))
                        ),
                        then="clicked?",
                        otherwise="until-thursday",
                        line=37,
                    ),
                    WaitStep("until-thursday", weekday=3, at=time(10, 0), line=41),
                    BranchStep("clicked?", Clicked("hello", "pricing"), then="win", line=43),
                    WaitStep("later", duration=timedelta(days=2), at=time(9, 30), line=46),
                    ExitStep("stop", "nothing more to say", line=48),
                    ExitStep("win", "converted", goal=True, line=50),
                ),
                stages=frozenset({"lead"}),
                temperatures=frozenset({"warm", "hot"}),
                line=30,
            ),
            Track(
                "everyone",
                (
                    SendStep("hello", "welcome-guide", line=54),
                    ExitStep("done", "completed", line=56),
                ),
                line=52,
            ),
        ),
        source_path=str(path),
        checksum=result.checksum,
    )


def test_a_stored_spec_parses_back_to_the_same_campaign():
    result = load_campaign_file(FIXTURES / "valid" / "full.yaml")
    # What CampaignVersion.spec holds: the plain data, through JSON.
    stored = json.loads(json.dumps(result.data))

    again = parse_campaign_data(stored, result.campaign.source_path, checksum=result.checksum)

    assert again == without_lines(result.campaign)


@pytest.mark.parametrize("name", ["b2b-nurture.yaml", "recycle.yaml"])
def test_the_bundled_examples_load_without_problems(name):
    result = load_campaign_file(EXAMPLES / name)

    assert result.problems == []
    assert parse_campaign_data(json.loads(json.dumps(result.data))) == without_lines(
        replace(result.campaign, source_path=None, checksum="")
    )


def test_the_b2b_example_is_the_campaign_the_brief_describes():
    campaign = load_campaign_file(EXAMPLES / "b2b-nurture.yaml").campaign

    assert [track.id for track in campaign.tracks] == ["cold", "warm", "hot"]
    assert [t.kind for t in campaign.triggers] == ["lead_created"]
    assert campaign.audience == StageIn(frozenset({"subscriber", "lead", "recycled"}))
    assert campaign.goal == EventSeen("demo.requested")
    assert ("unsubscribed", Unsubscribed()) in campaign.exit_rules
    assert StageIn(frozenset({"mql", "sal", "sql", "opportunity", "customer"})) in [
        rule for _, rule in campaign.exit_rules
    ]
    assert campaign.send_window == SendWindow(frozenset(range(5)), time(9), time(17), None)
    assert campaign.frequency_cap == FrequencyCap(3, timedelta(days=7))
    assert campaign.templates() == {
        "welcome-guide",
        "cold-benchmark-report",
        "cold-five-mistakes",
        "warm-case-study",
        "warm-roi-checklist",
        "warm-webinar-invite",
        "hot-pricing-guide",
        "hot-demo-invite",
        "hot-customer-story",
    }
    branches = [s for t in campaign.tracks for s in t.steps if isinstance(s, BranchStep)]
    assert any(isinstance(b.condition, Opened | Clicked) for b in branches)


def test_yaml_1_1_surprises_stay_text():
    # 10:00 is 600 in YAML 1.1, NO is false, 2026-01-01 a date: here they stay as written.
    text = """
id: surprises
name: Surprises
exit:
  - attribute: { name: account.country, in: [NO, SE] }
  - attribute: { name: attributes.since, eq: 2026-01-01 }
tracks:
  all:
    steps:
      - id: later
        wait: { at: 10:00 }
"""
    result = load_campaign_text(text, "surprises.yaml")

    assert result.problems == []
    rules = [rule for _, rule in result.campaign.exit_rules]
    assert rules == [
        AttributeCompare("account.country", "in", ("NO", "SE")),
        AttributeCompare("attributes.since", "eq", "2026-01-01"),
    ]
    assert result.campaign.tracks[0].steps[0] == WaitStep("later", at=time(10, 0), line=10)


def test_several_keys_in_one_condition_must_all_hold():
    text = """
id: both
name: Both
goal: { stage: [lead], temperature: [hot] }
tracks: { all: { steps: [{ id: stop, exit: true }] } }
"""
    campaign = load_campaign_text(text).campaign

    assert campaign.goal == AllOf((StageIn(frozenset({"lead"})), TemperatureIn(frozenset({"hot"}))))
    assert campaign.tracks[0].steps == (ExitStep("stop", "completed", line=5),)


def test_exit_rules_are_named_after_their_condition_unless_given_a_reason():
    assert describe(StageIn(frozenset({"sql", "mql"}))) == "stage is mql or sql"
    assert describe(Not(Unsubscribed())) == "subscribed"
    assert describe(EventSeen("webinar.attended", timedelta(days=14))) == (
        "webinar.attended within 2w"
    )
    assert describe(AnyOf((ScoreCompare("gte", 50.0), Clicked("intro", "pricing")))) == (
        "score gte 50 or clicked pricing in intro"
    )


# ---------------------------------------------------------------- problems, with lines


def test_unknown_and_mistyped_fields_point_at_their_lines_with_suggestions():
    assert problems_of(BROKEN / "fields.yaml") == [
        "fields.yaml:2: missing field 'name' in the campaign",
        "fields.yaml:3: unknown field 'nmae' (did you mean 'name'?)",
        "fields.yaml:4: description must be text, not a list",
        "fields.yaml:6: unknown field 'trigger' (did you mean 'triggers'?)",
        "fields.yaml:8: manual must be true or false, not 'yes'",
        "fields.yaml:9: bad hours 9: use HH:MM-HH:MM, e.g. 09:00-17:00",
        "fields.yaml:10: max must be a whole number above 0, not 'three'",
        "fields.yaml:13: unknown field 'temperatures' (did you mean 'temperature'?)",
        "fields.yaml:18: unknown field 'delay' (did you mean 'wait'?)",
        "fields.yaml:19: a step needs one of send, wait, if or exit",
        "fields.yaml:20: a step does one thing: found send and wait; split it into separate steps",
        "fields.yaml:23: a step needs an id (ids keep enrolments in place when the file is edited)",
        "fields.yaml:26: unknown field 'otherwise' (did you mean 'else'?)",
        "fields.yaml:28: steps must be a list, not text",
    ]


def test_bad_durations_times_days_and_names_point_at_their_lines():
    stages = "use subscriber, lead, mql, sal, sql, opportunity, customer, recycled or disqualified"
    days = "mon, tue, wed, thu, fri, sat or sun"
    duration = "use a number and one of s, m, h, d, w (e.g. 3d)"
    assert problems_of(BROKEN / "values.yaml") == [
        f"values.yaml:6: unknown stage 'leed' (did you mean 'lead'?): {stages}",
        "values.yaml:7: unknown trigger 'lead_creatd' (did you mean 'lead_created'?): "
        "use lead_created, event, stage_changed or attribute_changed",
        "values.yaml:8: unknown temperature 'cool' (did you mean 'cold'?): use cold, warm or hot",
        "values.yaml:9: cooldown only applies to policy after_finish",
        f"values.yaml:10: unknown weekday 'fry' (did you mean 'fri'?): use {days}",
        "values.yaml:10: hours '17:00-09:00': the window must end after it starts",
        "values.yaml:10: unknown time zone 'Mars/Olympus': use lead (each lead's own) or an "
        "IANA name such as Europe/Berlin",
        f"values.yaml:11: per: bad duration '7 days': {duration}",
        f"values.yaml:13: unknown stage 'mqls' (did you mean 'mql'?): {stages}",
        "values.yaml:14: unknown score comparison 'above': use eq, ne, gt, gte, lt or lte",
        "values.yaml:15: unknown lead field 'acount.industry' (did you mean "
        "'account.industry'?): use a lead field (email, first_name, last_name, title, phone, "
        "timezone, locale, source, utm_source, utm_medium, utm_campaign, stage or "
        "temperature), attributes.NAME, account.FIELD or account.attributes.NAME",
        f"values.yaml:22: wait: bad duration '3 days': {duration}",
        "values.yaml:24: unknown weekday 'tues' (did you mean 'tue'?): until takes one day: "
        + days,
        "values.yaml:24: at: bad time of day '25:00': use HH:MM, e.g. 09:30",
        f"values.yaml:26: within: bad duration 'soon': {duration}",
    ]


def test_ids_targets_and_paths_through_tracks_are_checked():
    assert problems_of(BROKEN / "flow.yaml") == [
        "flow.yaml:10: duplicate step id 'welcome' in track 'cold' (first used on line 8)",
        "flow.yaml:13: opened: no send step 'welcom' in this campaign (did you mean 'welcome'?)",
        "flow.yaml:14: then: no step 'benchmark' in track 'cold'",
        "flow.yaml:15: else: no step 'nowhere' in track 'cold'",
        "flow.yaml:18: then: no step 'skipped' in track 'cold' "
        "(a branch can only go to a step of its own track)",
        "flow.yaml:28: step 'skipped' is unreachable: no path from the track's first step "
        "leads to it",
        "flow.yaml:32: step 'orphan' is unreachable: it follows exit step 'end' and no branch "
        "goes to it",
        "flow.yaml:39: step 'again?' loops back to 'pricing' without a wait: add a wait step "
        "inside the loop",
        "flow.yaml:44: track 'empty' has no steps",
        "flow.yaml:45: track 'late' is never used: track 'hot' comes first and takes every lead "
        "it would take (each lead goes to the first matching track)",
    ]


def test_a_campaign_without_tracks_is_a_problem():
    assert problems_of(BROKEN / "no-tracks.yaml") == [
        "no-tracks.yaml:3: a campaign needs at least one track"
    ]
    assert [str(p) for p in load_campaign_text("id: x\nname: X\n", "x.yaml").problems] == [
        "x.yaml:1: missing field 'tracks' in the campaign"
    ]


def test_yaml_syntax_errors_give_the_line_of_the_mark():
    assert problems_of(BROKEN / "syntax.yaml") == [
        "syntax.yaml:8: YAML syntax error: expected <block end>, but found "
        "'<block sequence start>' (parsing a block collection that starts on line 6)"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "f.yaml:1: the file is empty"),
        (
            "- one\n- two\n",
            "f.yaml:1: a campaign file must be a mapping of fields (id, name, entry, tracks, …), "
            "not a list",
        ),
        (
            "id: a\nname: A\nid: b\n",
            "f.yaml:3: duplicate key 'id' (first on line 1): the later one would win",
        ),
        (
            "id: a\n---\nid: b\n",
            "f.yaml:2: YAML syntax error: expected a single document in the stream, "
            "but found another document",
        ),
    ],
)
def test_files_that_are_not_a_campaign_mapping(text, expected):
    result = load_campaign_text(text, "f.yaml")
    assert result.campaign is None
    assert expected in [str(problem) for problem in result.problems]


def test_a_loop_through_a_wait_is_fine():
    text = """
id: loops
name: Loops
tracks:
  all:
    steps:
      - { id: hello, send: welcome-guide }
      - { id: pause, wait: 1d }
      - { id: again, if: { opened: hello }, else: pause }
      - { id: stop, exit: done }
"""
    assert load_campaign_text(text).problems == []


def test_opened_must_name_a_send_step_and_the_audience_cannot_use_it():
    text = """
id: refs
name: Refs
entry:
  audience: { any: [{ opened: hello }, { stage: [lead] }] }
goal: { clicked: pause }
tracks:
  all:
    steps:
      - { id: hello, send: welcome-guide }
      - { id: pause, wait: 1d }
"""
    assert [str(p) for p in load_campaign_text(text, "r.yaml").problems] == [
        "r.yaml:5: audience cannot use opened or clicked: those refer to this campaign's "
        "emails, which a lead has not had before enrolling",
        "r.yaml:6: clicked: step 'pause' sends no email; clicked needs a send step",
    ]


def test_every_problem_prints_as_file_line_message():
    assert (
        str(Problem("campaigns/a.yaml", 12, "bad duration")) == "campaigns/a.yaml:12: bad duration"
    )


def test_an_unreadable_file_is_a_problem_not_an_exception(tmp_path):
    missing = tmp_path / "missing.yaml"
    result = load_campaign_file(missing)
    assert result.campaign is None
    assert result.problems[0].message.startswith("cannot read file")

    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    assert load_campaign_file(binary).problems[0].message.startswith("not UTF-8 text")


def test_parse_campaign_data_raises_with_every_problem():
    with pytest.raises(CampaignError) as caught:
        parse_campaign_data({"id": "X", "tracks": {}}, "spec")
    assert [p.message for p in caught.value.problems] == [
        "campaign id 'X' may only use lower-case letters, digits and dashes (e.g. b2b-nurture)",
        "missing field 'name' in the campaign",
        "a campaign needs at least one track",
    ]


def test_a_file_read_again_unchanged_is_not_parsed_again_and_an_edit_is(tmp_path):
    path = tmp_path / "recycle.yaml"
    text = (EXAMPLES / "recycle.yaml").read_text()
    path.write_text(text)
    first = load_campaign_file(path)
    assert first.campaign is not None
    assert load_campaign_file(path) is first  # the same text under the same name
    # The same text under another name names that file in its problems: parsed anew.
    other = tmp_path / "copy.yaml"
    other.write_text(text)
    assert load_campaign_file(other) is not first
    assert load_campaign_file(other).path == str(other)
    # An edit (even one keeping the size and modification time) is a new text.
    stat = path.stat()
    path.write_text(text.replace("tracks:", "trakcs:", 1))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    edited = load_campaign_file(path)
    assert edited.campaign is None
    assert any("trakcs" in problem.message for problem in edited.problems)
    path.write_text(text)
    assert load_campaign_file(path).campaign == first.campaign
