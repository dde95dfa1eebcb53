"""The sales feedback loop on the story of ``feedback_support`` (every expected figure
counted by hand from the table in its docstring), through the query, the command and the
API."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest

from nurture.analytics import FilterError, parse_filter
from nurture.analytics.definitions import Reach
from nurture.analytics.feedback import feedback_report
from nurture.analytics.feedback_rules import FEEDBACK_GROUP_BY, FeedbackRow
from nurture.auth.apikeys import create_api_key
from nurture.cli import cli
from nurture.platform.db import transaction, utcnow
from tests.integration.analytics.feedback_support import (
    NOTES,
    FeedbackStory,
    tell_feedback_story,
)

TODAY = date(2026, 4, 15)


def back(by_now: int, d30: int, d60: int, d90: int) -> Reach:
    return Reach(by_now=by_now, within={30: d30, 60: d60, 90: d90})


NEVER = back(0, 0, 0, 0)


@pytest.fixture
def story(runtime, tmp_path) -> FeedbackStory:  # type: ignore[no-untyped-def]
    return tell_feedback_story(runtime, tmp_path)


def feedback(runtime, notes: bool = False, **args):  # type: ignore[no-untyped-def]
    report = parse_filter(
        today=TODAY,
        groupings=FEEDBACK_GROUP_BY,
        **{"start": "2026-01-01", "end": "2026-03-01", **args},
    )
    with runtime.sessions() as session:
        return feedback_report(session, report, notes=notes)


def rows(runtime, **args):  # type: ignore[no-untyped-def]
    return {row.group: row for row in feedback(runtime, **args).rows}


def test_offers_verdicts_sla_and_comebacks_of_the_period(runtime, story):
    [row] = rows(runtime).values()
    # Offers Jan 1 - Mar 1: F1, F2, F5, F3, F4 and F2's second = 6. Accepted: F1 and F2's
    # second; rejected: F2, F5 (erased since: still counted), F3; waiting: F4.
    # Acceptance 2 / (2 + 3). Only F1 was answered within its hour: 1 of 5 decided.
    # Recycled: F2, F5, F3; F2 back as MQL 40 days later (within 60 and 90, not 30).
    assert row == FeedbackRow(
        None, offered=6, accepted=2, rejected=3, waiting=1, decided_with_sla=5,
        decided_in_sla=1, recycled=3, back_as_mql=back(1, 0, 1, 1),
    )  # fmt: skip
    assert (row.acceptance_rate, row.sla_rate, row.comeback_rate) == (
        0.4,
        0.2,
        pytest.approx(1 / 3),
    )


def test_rejection_reasons_are_counted_by_month_of_decision_with_their_share(runtime, story):
    reasons = [(r.month, r.reason, r.label, r.count, r.share) for r in feedback(runtime).reasons]
    # January: F2 no-budget (Jan 12) and F5 bad-timing (Jan 21), half each; February: F3.
    assert reasons == [
        ("2026-01", "bad-timing", "Bad timing (not buying now)", 1, 0.5),
        ("2026-01", "no-budget", "No budget", 1, 0.5),
        ("2026-02", "bad-timing", "Bad timing (not buying now)", 1, 1.0),
    ]


def test_notes_are_only_given_when_asked_and_the_erased_persons_is_gone(runtime, story):
    assert feedback(runtime).notes is None
    notes = [
        (n.decided_at.date().isoformat(), n.reason, n.campaign, n.rule_version, n.note)
        for n in feedback(runtime, notes=True).notes
    ]
    # F5's rejection counts above, but its note went with the person.
    assert notes == [
        ("2026-01-12", "no-budget", "test-drip", "engaged-a-fit v2", NOTES["F2"]),
        ("2026-02-03", "bad-timing", None, "engaged-a-fit v3", NOTES["F3"]),
    ]


def test_by_rule_version_old_handoffs_are_an_unknown_version(runtime, story):
    found = rows(runtime, group_by="rule")
    assert list(found) == [
        "engaged-a-fit (unknown version)",
        "engaged-a-fit v2",
        "engaged-a-fit v3",
    ]
    # F4 (no version recorded) waits; v2: F1 accepted, F2 and F5 rejected, both recycled,
    # F2 came back; v3: F3 rejected (recycled, never back) and F2's second offer accepted.
    unknown, v2, v3 = found.values()
    assert (unknown.offered, unknown.waiting, unknown.acceptance_rate) == (1, 1, None)
    assert (v2.offered, v2.accepted, v2.rejected, v2.recycled, v2.back_as_mql) == (
        3, 1, 2, 2, back(1, 0, 1, 1),
    )  # fmt: skip
    assert (v3.offered, v3.accepted, v3.rejected, v3.recycled, v3.back_as_mql) == (
        2, 1, 1, 1, NEVER,
    )  # fmt: skip
    reasons = [
        (r.group, r.month, r.reason, r.share) for r in feedback(runtime, group_by="rule").reasons
    ]
    assert reasons == [
        ("engaged-a-fit v2", "2026-01", "bad-timing", 0.5),
        ("engaged-a-fit v2", "2026-01", "no-budget", 0.5),
        ("engaged-a-fit v3", "2026-02", "bad-timing", 1.0),
    ]


def test_by_campaign_month_owner_and_source_what_the_handoff_recorded(runtime, story):
    campaigns = rows(runtime, group_by="campaign")
    # test-drip: F1, F2 and F2's second offer; none: F3, F4, F5.
    assert [(g, r.offered, r.accepted, r.rejected, r.waiting, r.recycled) for g, r in
            campaigns.items()] == [("test-drip", 3, 2, 1, 0, 1), (None, 3, 0, 2, 1, 2)]  # fmt: skip
    months = rows(runtime, group_by="month")
    # January's offers F1, F2, F5 (recycled: F2, F5); February's F3, F4, F2's second (F3).
    assert [(g, r.offered, r.accepted, r.rejected, r.waiting, r.recycled, r.back_as_mql.by_now)
            for g, r in months.items()] == [
        ("2026-01", 3, 1, 2, 0, 2, 1),
        ("2026-02", 3, 1, 1, 1, 1, 0),
    ]  # fmt: skip
    owners = rows(runtime, group_by="owner")
    assert [(g, r.offered, r.accepted, r.rejected, r.waiting) for g, r in owners.items()] == [
        ("ann@sales.example", 4, 2, 1, 1),
        ("ben@sales.example", 2, 0, 2, 0),
    ]
    # The erased F5 lost its source with its identity, but its handoff kept "partner".
    sources = rows(runtime, group_by="source")
    assert [(g, r.offered, r.rejected) for g, r in sources.items()] == [
        ("ads", 3, 2),
        ("partner", 1, 1),
        ("webinar", 2, 0),
    ]


def test_filters_narrow_what_is_counted(runtime, story):
    [row] = rows(runtime, source="partner").values()
    assert (row.offered, row.rejected, row.recycled) == (1, 1, 1)
    [row] = rows(runtime, owner="BEN@sales.example").values()
    assert (row.offered, row.rejected, row.recycled, row.back_as_mql) == (2, 2, 2, NEVER)
    # Grade A now: F1 (accepted), F3 (rejected), F4 (waiting).
    [row] = rows(runtime, grade="a").values()
    assert (row.offered, row.accepted, row.rejected, row.waiting, row.recycled) == (3, 1, 1, 1, 1)
    [row] = rows(runtime, campaign="test-drip").values()
    assert (row.offered, row.recycled, row.back_as_mql) == (3, 1, back(1, 0, 1, 1))


def test_an_empty_period_has_one_row_of_zeros_and_no_rates(runtime, story):
    report = feedback(runtime, start="2025-01-01", end="2025-06-01")
    assert report.rows == [FeedbackRow(None)] and report.reasons == []
    assert report.rows[0].acceptance_rate is None and report.rows[0].comeback_rate is None


def test_filters_naming_nothing_are_refused_with_every_reason(runtime, story):
    with pytest.raises(FilterError) as caught:
        feedback(runtime, source="tv", campaign="nope", owner="x@y.example")
    assert set(caught.value.errors) == {"source", "campaign", "owner"}


@pytest.fixture
def invoke(app):  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, ["report", "feedback", *args], env={"COLUMNS": "200"})

    return run


PERIOD = ("--from", "2026-01", "--to", "2026-03")


def test_the_command_as_json_csv_and_a_table(invoke, story):
    result = invoke(*PERIOD, "--format", "json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    [row] = body["rows"]
    assert (row["offered"], row["acceptance_rate"], row["back_as_mql"]["within_60d"]) == (6, 0.4, 1)
    assert "notes" not in body

    result = invoke(*PERIOD, "--by", "month", "--format", "csv")
    assert result.exit_code == 0, result.output
    table = list(csv.DictReader(io.StringIO(result.output)))
    assert [
        (r["group"], r["offered"], r["acceptance_rate"], r["back_as_mql_30d"]) for r in table
    ] == [
        ("2026-01", "3", str(1 / 3), "0"),
        ("2026-02", "3", "0.5", "0"),
    ]

    result = invoke(*PERIOD, "--format", "csv", "--reasons")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "group,month,reason,label,count,share"
    assert ",2026-02,bad-timing,Bad timing (not buying now),1,1.0" in result.output

    result = invoke(*PERIOD, "--format", "csv", "--notes")
    assert result.exit_code == 0, result.output
    assert [r["note"] for r in csv.DictReader(io.StringIO(result.output))] == [
        NOTES["F2"],
        NOTES["F3"],
    ]

    result = invoke(*PERIOD, "--notes")
    assert result.exit_code == 0, result.output
    for expected in ("40.0%", "1/5", "1 (0/1/1)", "no-budget", "50.0%", NOTES["F3"]):
        assert expected in result.output, expected
    assert NOTES["F5"] not in result.output


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--by", "colour"], "--by: unknown grouping 'colour'"),
        (["--source", "tv"], "--source: no lead or handoff has the source 'tv'"),
        (["--from", "2026-13"], "--from: '2026-13' is not a date"),
        (["--format", "csv", "--notes", "--reasons"], "a CSV holds one table"),
        (["--reasons"], "--reasons: only with --format csv"),
    ],
)
def test_bad_arguments_are_usage_errors(invoke, story, args, words):
    result = invoke(*args)
    assert result.exit_code == 2
    assert words in result.output and "Traceback" not in result.output


def test_the_api_answers_the_commands_json(client, runtime, story, invoke):
    with transaction(runtime.sessions) as session:
        _, key = create_api_key(session, "reports", now=utcnow())
    headers = {"Authorization": f"Bearer {key}"}
    path = "/api/v1/reports/feedback?from=2026-01&to=2026-03"
    assert client.get(path).status_code == 401
    response = client.get(f"{path}&by=rule&notes=1", headers=headers)
    assert response.status_code == 200
    command = invoke(*PERIOD, "--by", "rule", "--notes", "--format", "json")
    assert response.get_json() == json.loads(command.output)
    assert [n["note"] for n in response.get_json()["notes"]] == [NOTES["F2"], NOTES["F3"]]
    assert "notes" not in client.get(f"{path}&notes=0", headers=headers).get_json()
    for query, field in (("by=colour", "by"), ("notes=maybe", "notes"), ("limit=1", "limit")):
        response = client.get(f"{path}&{query}", headers=headers)
        assert response.status_code == 400, query
        assert response.get_json()["error"] == "bad_request"
        assert field in response.get_json()["errors"]
