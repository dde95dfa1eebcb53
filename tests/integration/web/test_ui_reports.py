"""The reports dashboard: the funnel, cohorts and velocity of the analytics story
(tests/integration/analytics/analytics_support.py, where every figure is counted by hand),
as charts with their tables, and each table as CSV."""

from __future__ import annotations

import csv
import io
import re

import pytest

from nurture.leads.lifecycle import change_stage
from nurture.models import Lead
from nurture.platform.db import transaction
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
