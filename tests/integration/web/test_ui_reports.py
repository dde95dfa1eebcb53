"""The reports dashboard: the funnel, cohorts and velocity of the analytics story
(tests/integration/analytics/analytics_support.py, where every figure is counted by hand),
as charts with their tables, and each table as CSV."""

from __future__ import annotations

import csv
import io
import re

import pytest

from nurture.analytics.feedback import feedback_report
from nurture.analytics.filters import FilterError, parse_filter
from nurture.leads.lifecycle import change_stage
from nurture.models import Lead
from nurture.platform.db import transaction
from nurture.web.ui.report_extra import _or_problem
from tests.integration.analytics.analytics_support import Story, at, tell_story
from tests.integration.web.ui_support import signed_in_client

PERIOD = "from=2026-01-01&to=2026-04-01"


@pytest.fixture
def story(app, tmp_path) -> Story:  # type: ignore[no-untyped-def]
    return tell_story(app.extensions["nurture"], tmp_path)


def bar_figures(html: str, section: str) -> dict[str, str]:
    part = html[html.index(f'id="{section}"') :]
    part = part[: part.index("</section>")]
    pattern = r'<span class="bar-label">([^<]+)</span>.*?<span class="bar-figure">([^<]+)<'
    return dict(re.findall(pattern, part))


def test_the_dashboard_draws_the_funnel_of_the_period_with_its_rates(app, story):
    client = signed_in_client(app, "viewer")
    response = client.get(f"/reports?{PERIOD}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    figures = bar_figures(html, "funnel")
    # The story's period view: 4 new, 5 MQL, 3 SAL, 2 SQL, 1 opportunity, 1 won, 1 lost.
    assert figures["New leads"] == "4"
    assert figures["MQL"] == "5 · 125.0% of the stage before"
    assert figures["SAL"] == "3 · 60.0% of the stage before"
    assert figures["Won"] == "1 · 100.0% of the stage before"
    assert figures["Lost"] == "1"
    # The bars are as long as their counts, against the longest (MQL).
    assert re.search(r'MQL</span><svg[^>]*>.*?<rect class="fill" width="100.0"', html)
    assert re.search(r'SAL</span><svg[^>]*>.*?<rect class="fill" width="60.0"', html)


def test_grouped_tables_keep_the_whole_funnel_as_the_chart(app, story):
    client = signed_in_client(app, "marketer")
    html = client.get(f"/reports?{PERIOD}&by=source").get_data(as_text=True)
    assert bar_figures(html, "funnel")["New leads"] == "4"
    funnel = html[html.index('id="funnel"') : html.index('id="cohorts"')]
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td class="num">(\d+)</td>', funnel)
    # New leads by source: webinar L1, L2; ads L3, L4 (erased: no source any more).
    assert dict(rows) == {"webinar": "2", "ads": "1", "—": "1", "partner": "0"}
    assert "Funnel by Source" in funnel


def test_the_cohort_table_shades_each_share_and_velocity_gives_its_spread(app, story):
    client = signed_in_client(app, "viewer")
    html = client.get("/reports?from=2026-01-01&to=2026-03-01").get_data(as_text=True)
    cohorts = html[html.index('id="cohorts"') : html.index('id="velocity"')]
    january = re.search(r'<th scope="row">2026-01</th>(.*?)</tr>', cohorts)
    assert january is not None
    cells = re.findall(r'<td class="num heat-(\d)">([^<]+)</td>', january.group(1))
    # January's two leads (L1, L2): both MQL (100 %), both SAL, L1 won (50 %).
    assert cells[0] == ("5", "2 (100.0%)")
    assert ("3", "1 (50.0%)") in cells
    velocity = html[html.index('id="velocity"') :]
    assert "Sales cycle (first touch → won)" in velocity
    assert "none in the period" in velocity or "median" in velocity


def test_bad_filters_are_shown_on_their_fields_and_nothing_is_drawn(app, story):
    client = signed_in_client(app, "viewer")
    response = client.get("/reports?from=2026-13-01&campaign=nope&by=planet")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "is not a date of the calendar" in html
    assert "unknown grouping" in html
    assert 'id="funnel"' not in html
    response = client.get(f"/reports?{PERIOD}&campaign=nope")
    assert response.status_code == 400
    assert "no campaign has the key" in response.get_data(as_text=True)


def test_each_table_downloads_as_the_clis_csv_safe_for_spreadsheets(app, story):
    runtime = app.extensions["nurture"]
    with transaction(runtime.sessions) as session:
        lead = session.get(Lead, story.leads["L1"])
        assert lead is not None
        lead.source = "=HYPERLINK(1)"
    client = signed_in_client(app, "viewer")
    response = client.get(f"/reports/funnel.csv?{PERIOD}&by=source")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "nurture-funnel-2026-01-01-2026-04-01.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:3] == ["group", "leads", "mql"]
    groups = {row[0]: row[1] for row in rows[1:]}
    assert groups["'=HYPERLINK(1)"] == "1"
    assert client.get("/reports/velocity.csv?by=cohort").status_code == 200
    assert client.get("/reports/funnel.csv?by=cohort").status_code == 400
    assert client.get("/reports/nothing.csv").status_code == 404


def test_a_change_today_does_not_rewrite_last_quarters_chart(app, story):
    client = signed_in_client(app, "viewer")
    before = bar_figures(client.get(f"/reports?{PERIOD}").get_data(as_text=True), "funnel")
    runtime = app.extensions["nurture"]
    with transaction(runtime.sessions) as session:
        lead = session.get(Lead, story.leads["L3"])
        assert lead is not None
        change_stage(
            session, lead, "disqualified", now=at(4, 10), actor="user:m@example.com", reason="test"
        )
    after = bar_figures(client.get(f"/reports?{PERIOD}").get_data(as_text=True), "funnel")
    assert after == before


def test_the_overview_also_draws_volume_costs_clv_and_revenue_by_touch(app, story):
    client = signed_in_client(app, "viewer")
    html = client.get(f"/reports?{PERIOD}").get_data(as_text=True)
    for key, title in (
        ("volume", "New leads"),
        ("costs", "Cost per lead"),
        ("clv", "Customer lifetime value"),
        ("attribution", "Revenue by touch"),
        ("roi", "Return on marketing spend"),
    ):
        assert f'<h2 id="{key}-h">{title}</h2>' in html
    # A quarter is drawn per week: the story's four new leads came in four different weeks
    # (L1 Jan 5, L2 Jan 20, L3 Feb 3, L4 Feb 15), so four full columns among empty ones.
    volume = html[html.index('id="volume"') : html.index('id="costs"')]
    pattern = r'<rect class="fill" x="\d+" y="[\d.]+" width="8" height="([\d.]+)"'
    heights = re.findall(pattern, volume)
    assert sorted(set(heights)) == ["0.0", "100.0"] and heights.count("100.0") == 4
    assert "New leads per week" in volume and "highest: 1" in volume
    # L1's deal (1,000) is the period's won revenue, all of it credited somewhere.
    revenue = html[html.index('id="attribution"') :]
    revenue = revenue[: revenue.index("</section>")]
    credited = re.findall(r'<span class="bar-figure">([\d,.]+)</span>', revenue)
    assert sum(float(v.replace(",", "")) for v in credited) == 1000.0


def test_the_campaign_and_feedback_pages_show_their_reports_figures(app, story):
    client = signed_in_client(app, "marketer")
    response = client.get(f"/reports/feedback?{PERIOD}&by=source")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    report = parse_filter(
        today=at(4, 15).date(),
        start="2026-01-01",
        end="2026-04-01",
        group_by="source",
        groupings=("source",),
    )
    with app.extensions["nurture"].sessions() as session:
        expected = feedback_report(session, report)
    assert len(expected.rows) >= 2  # the story's sources that had an offer
    section = html[html.index('id="feedback"') : html.index('id="reasons"')]
    for row in expected.rows:
        figure = "—" if row.acceptance_rate is None else f"{row.acceptance_rate * 100:.1f}%"
        assert f'<span class="bar-label">{row.group or "—"}</span>' in section
        assert figure in section
    # The story's one lost deal is not a rejection: the reasons table is empty, and says so.
    reasons = html[html.index('id="reasons"') :]
    assert "Why sales gave leads back" in reasons and "Nothing in this period." in reasons
    campaigns = client.get(f"/reports/campaigns?{PERIOD}")
    assert campaigns.status_code == 200
    assert "Email and campaign results" in campaigns.get_data(as_text=True)
    for name in (
        "volume",
        "costs",
        "clv",
        "attribution",
        "campaigns",
        "feedback",
        "feedback-reasons",
    ):
        download = client.get(f"/reports/{name}.csv?{PERIOD}")
        assert download.status_code == 200, name
        assert download.mimetype == "text/csv"


def test_a_report_that_cannot_run_says_why_in_its_section_and_the_page_stays(app, story):
    def mismatched(session, report):  # type: ignore[no-untyped-def]
        raise FilterError({"currency": "the costs are in EUR, the revenue in USD"})

    section = _or_problem(mismatched, "roi", "Return on marketing spend")
    with app.extensions["nurture"].sessions() as session:
        drawn = section(session, parse_filter(today=at(4, 15).date(), start=None, end=None))
    assert drawn.problem and drawn.caption == "the costs are in EUR, the revenue in USD"
    client = signed_in_client(app, "viewer")
    assert client.get(f"/reports?{PERIOD}").status_code == 200
