"""Email and campaign results on the story of ``campaign_results_support`` (every expected
figure is counted by hand from the table in its docstring)."""

from __future__ import annotations

from datetime import date

import pytest

from nurture.analytics import FilterError, parse_filter
from nurture.analytics.campaign_results import campaign_results, campaign_results_table
from nurture.analytics.email_results import CAMPAIGN_GROUP_BY, EmailResults, parse_comparison
from nurture.reports.campaigns import campaign_email_figures
from tests.integration.analytics.campaign_results_support import Story, at, tell_story

TODAY = date(2026, 4, 15)


@pytest.fixture
def story(runtime, tmp_path) -> Story:  # type: ignore[no-untyped-def]
    return tell_story(runtime, tmp_path)


def results(runtime, compare=None, all_mail=False, **args):  # type: ignore[no-untyped-def]
    args = {"start": "2026-01-01", "end": "2026-03-01", "group_by": "campaign", **args}
    report = parse_filter(today=TODAY, groupings=CAMPAIGN_GROUP_BY, **args)
    comparison = parse_comparison(
        compare_from=(compare or {}).get("from"),
        compare_to=(compare or {}).get("to"),
        versions=(compare or {}).get("versions"),
        campaign=report.campaign,
        group_by=report.group_by,
    )
    with runtime.sessions() as session:
        return campaign_results(session, report, comparison, all_mail=all_mail)


def rows(runtime, **args):  # type: ignore[no-untyped-def]
    return {(row.campaign, row.group): row.results for row in results(runtime, **args).rows}


# alpha in the period: M1-M7 (M9 was sent in December, M10 is no campaign's).
ALPHA = EmailResults(
    sent=7,
    hard_bounced=1,  # M3
    soft_bounced=1,  # M5
    opened=4,  # M1, M4, M6, M7 (M2's open was Apple's proxy)
    machine_opened=1,  # M2
    clicked=2,  # M1, M6 (M4's click was a scanner's)
    clicks=3,  # M1 twice, M6 once
    machine_clicked=1,  # M4
    unsubscribed=1,  # M4
    complained=1,  # M6
    recipients=4,  # delivered to P1 (M1, M4), P2, P5, P6
    conversions=1,  # P6 after M7; P3 reached the goal but its only email bounced
)
# beta: M8, opened and clicked; P2 left at the goal step ``won`` after it.
BETA = EmailResults(sent=1, opened=1, clicked=1, clicks=1, recipients=1, conversions=1)


def test_per_campaign_every_figure_counted_by_hand(runtime, story):
    assert rows(runtime) == {("alpha", None): ALPHA, ("beta", None): BETA}
    assert ALPHA.delivered == 5 and ALPHA.bounced == 2
    assert ALPHA.rates() == {
        "delivery_rate": 5 / 7,
        "bounce_rate": 2 / 7,
        "open_rate": 0.8,  # 4 of 5 delivered
        "click_rate": 0.4,
        "click_to_open": 0.5,  # 2 of 4 opened
        "unsubscribe_rate": 0.2,
        "complaint_rate": 0.2,
        "conversion_rate": 0.25,  # 1 of 4 recipients
    }


def test_all_campaigns_together_and_other_mail_only_when_asked(runtime, story):
    together = EmailResults(
        **{name: getattr(ALPHA, name) + getattr(BETA, name) for name in ALPHA.__dataclass_fields__}
    )
    # P2 got a delivered email from both campaigns: one recipient in the total.
    together = EmailResults(**{**together.__dict__, "recipients": 4})
    assert rows(runtime, group_by="none") == {(None, None): together}
    # With every kind of mail, M10 (a handoff notification, no campaign) is its own row.
    found = {(r.campaign, r.group): r.results for r in results(runtime, all_mail=True).rows}
    assert found[(None, None)] == EmailResults(sent=1, recipients=1)
    assert found[("alpha", None)] == ALPHA


def test_per_version_step_and_template(runtime, story):
    assert rows(runtime, group_by="version") == {
        ("alpha", "v1"): EmailResults(
            sent=4, hard_bounced=1, opened=2, machine_opened=1, clicked=1, clicks=2,
            machine_clicked=1, unsubscribed=1, recipients=2,
        ),
        ("alpha", "v2"): EmailResults(
            sent=3, soft_bounced=1, opened=2, clicked=1, clicks=1, complained=1, recipients=2,
            conversions=1,
        ),
        ("beta", "v1"): BETA,
    }  # fmt: skip
    by_step = rows(runtime, group_by="step")
    assert list(by_step) == [
        ("alpha", "main/followup"),
        ("alpha", "main/welcome"),
        ("beta", "main/hello"),
    ]
    assert by_step[("alpha", "main/followup")] == EmailResults(
        sent=2, opened=2, machine_clicked=1, unsubscribed=1, recipients=2, conversions=1
    )  # fmt: skip
    by_template = rows(runtime, group_by="template")
    assert {key: value.sent for key, value in by_template.items()} == {
        ("alpha", "cold-five-mistakes"): 1,
        ("alpha", "warm-case-study"): 1,
        ("alpha", "welcome-guide"): 5,
        ("beta", "welcome-guide"): 1,
    }


def test_lead_filters_and_months_come_from_the_funnels_scope(runtime, story):
    # P1 and P2 came from webinar: M1, M2, M4 (alpha) and M8 (beta).
    by_source = rows(runtime, group_by="source")
    assert {key: value.sent for key, value in by_source.items()} == {
        ("alpha", "ads"): 4,
        ("alpha", "webinar"): 3,
        ("beta", "webinar"): 1,
    }
    assert {k: v.sent for k, v in rows(runtime, source="webinar", campaign="beta").items()} == {
        ("beta", None): 1
    }
    by_month = rows(runtime, group_by="month")
    assert {key: value.sent for key, value in by_month.items()} == {
        ("alpha", "2026-01"): 4,
        ("alpha", "2026-02"): 3,
        ("beta", "2026-01"): 1,
        ("beta", "2026-02"): 0,
    }


def test_comparing_two_periods(runtime, story):
    report = results(
        runtime, start="2026-02-01", end="2026-03-01", compare={"from": "2026-01", "to": "2026-02"}
    )
    found = {row.campaign: row for row in report.rows}
    # February: alpha M5-M7; January: alpha M1-M4 and beta M8.
    assert found["alpha"].results.sent == 3 and found["alpha"].baseline.sent == 4
    assert found["beta"].results == EmailResults() and found["beta"].baseline == BETA
    change = found["alpha"].as_dict()["compare"]["change"]
    assert change["sent"] == {"absolute": -1, "relative": -0.25}
    # Open rate: February 2 of 2 delivered (100 %), January 2 of 3 (66.7 %).
    assert change["rates"]["open_rate"]["points"] == pytest.approx(33.333333)
    assert change["rates"]["open_rate"]["relative"] == pytest.approx(0.5)
    # beta sent nothing in February: no rate, so no change of rate.
    beta = found["beta"].as_dict()["compare"]["change"]
    assert beta["rates"]["open_rate"] == {"points": None, "relative": None}
    assert beta["sent"] == {"absolute": -1, "relative": -1.0}


def test_comparing_two_versions_of_one_campaign(runtime, story):
    report = results(runtime, campaign="alpha", compare={"versions": "1,2"})
    [row] = report.rows
    assert (row.campaign, row.group) == ("alpha", None)
    assert row.results.sent == 3 and row.baseline is not None and row.baseline.sent == 4
    # Version 2's click-to-open 1/2 = 50 %, version 1's 1/2 = 50 %: no change.
    assert row.as_dict()["compare"]["change"]["rates"]["click_to_open"] == {
        "points": 0.0,
        "relative": 0.0,
    }
    header, table = campaign_results_table(report)
    line = dict(zip(header, table[0], strict=True))
    assert (line["sent"], line["baseline_sent"], line["change_sent"]) == (3, 4, -1)
    assert line["change_conversion_rate_points"] == 50.0  # 1/2 recipients against 0/2
    by_step = results(runtime, campaign="alpha", group_by="step", compare={"versions": "v1,v2"})
    assert [(r.group, r.results.sent, r.baseline.sent) for r in by_step.rows] == [
        ("main/followup", 1, 1),
        ("main/welcome", 2, 3),
    ]


@pytest.mark.parametrize(
    ("args", "compare", "field"),
    [
        ({"campaign": "gamma"}, None, "campaign"),
        ({}, {"versions": "1,2"}, "versions"),
        ({"campaign": "alpha"}, {"versions": "1,7"}, "versions"),
        ({"campaign": "alpha"}, {"versions": "1"}, "versions"),
        ({"campaign": "alpha", "group_by": "version"}, {"versions": "1,2"}, "by"),
        ({}, {"from": "2026-01-01"}, "compare_to"),
        ({}, {"from": "2026-02-01", "to": "2026-01-01"}, "compare_to"),
        ({}, {"from": "2026-13-01", "to": "2026-01-01"}, "compare_from"),
        ({"group_by": "month"}, {"from": "2025-11", "to": "2026-01"}, "by"),
        ({}, {"from": "2025-11", "to": "2026-01", "versions": "1,2"}, "versions"),
    ],
)
def test_bad_arguments_name_what_is_wrong(runtime, story, args, compare, field):
    with pytest.raises(FilterError) as raised:
        results(runtime, compare=compare, **args)
    assert field in raised.value.errors


def test_the_campaign_page_shows_the_same_figures(runtime, story):
    # The campaign page's step figures (nurture.reports.campaigns) and this report count
    # the same emails the same way: they must never disagree.
    by_step = rows(runtime, group_by="step", campaign="alpha")
    with runtime.sessions() as session:
        page = campaign_email_figures(session, story.campaigns["alpha"], at(1, 1), at(3, 1))
    assert set(page) == {group for _, group in by_step}
    for (_, step), ours in by_step.items():
        theirs = page[step]
        assert (ours.sent, ours.bounced, ours.delivered) == (
            theirs.sent,
            theirs.bounced,
            theirs.delivered,
        )
        assert (ours.opened, ours.clicked, ours.unsubscribed, ours.complained) == (
            theirs.opened,
            theirs.clicked,
            theirs.unsubscribed,
            theirs.complained,
        )
        assert ours.rates()["open_rate"] == theirs.open_rate
        assert ours.rates()["click_to_open"] == theirs.click_to_open


@pytest.mark.parametrize(
    "group_by", ["step", "template", "version", "source", "owner", "grade", "segment", "month"]
)
def test_every_grouping_puts_each_email_in_one_group(runtime, story, group_by):
    # Each email has one step, template, version, month and lead: the groups of a campaign
    # add up to its emails (alpha 7, beta 1), whatever the grouping.
    found = rows(runtime, group_by=group_by)
    sent = {"alpha": 0, "beta": 0}
    for (campaign, _), figures in found.items():
        sent[campaign] += figures.sent
    assert sent == {"alpha": ALPHA.sent, "beta": BETA.sent}
