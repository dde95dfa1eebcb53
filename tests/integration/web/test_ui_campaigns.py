"""The campaign pages with the Flask test client, over a campaign the engine ran."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from nurture.campaigns.services import sync_campaign_files
from nurture.models import AuditLog, Campaign, Enrollment, Lead
from nurture.platform.db import transaction, utcnow
from tests.integration.campaign_figures_support import build_story
from tests.integration.engine_support import add_lead
from tests.integration.web.ui_support import csrf_token, signed_in_client

SHOW = "/campaigns/test-drip"


def _runtime(app):
    return app.extensions["nurture"]


def _campaign(app) -> Campaign:
    with transaction(_runtime(app).sessions) as session:
        campaign = session.scalar(select(Campaign).where(Campaign.key == "test-drip"))
        session.expunge(campaign)
        return campaign


def _audit(app, action):
    with transaction(_runtime(app).sessions) as session:
        return session.scalars(select(AuditLog).where(AuditLog.action == action)).all()


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_the_list_shows_each_campaign_with_its_week(app):
    build_story(app)
    client = signed_in_client(app, "viewer")
    response = client.get("/campaigns")
    assert response.status_code == 200
    html = _text(response)
    assert "Test drip" in html and 'href="/campaigns/test-drip"' in html
    # 2 live enrolments, 4 sent, 1 of 4 opened and clicked (25.0 %), 1 unsubscribe.
    cells = [c.split("</td>")[0] for c in html.split('<td class="num">')[1:]]
    assert cells == ["1", "2", "4", "25.0%", "25.0%", "1", "0"]
    assert "Test drip" not in _text(client.get("/campaigns?status=paused"))
    assert client.get("/campaigns?status=%3Cscript%3E").status_code == 200


def test_the_campaign_page_draws_the_flow_with_each_steps_figures(app):
    build_story(app)
    client = signed_in_client(app, "viewer")
    html = _text(client.get(SHOW))
    assert 'id="step-cold-welcome"' in html and 'id="step-warm-roi"' in html
    assert "<q>opened welcome</q>" in html and 'href="#step-cold-report"' in html
    # The figures table: cold/welcome entered 2, here now 0, sent 2, opened 1 (50.0%),
    # clicked 1, 1 unsubscribe; cold/pause: one left there, unsubscribed.
    row = html.split('<th scope="row">cold / welcome</th>')[1].split("</tr>")[0]
    assert [c.split("</td>")[0] for c in row.split('<td class="num">')[1:]] == [
        "2",
        "0",
        "2",
        "1",
        "50.0%",
        "1",
        "50.0%",
        "1",
        "0",
    ]
    pause = html.split('<th scope="row">cold / pause</th>')[1].split("</tr>")[0]
    assert "1 · unsubscribed or no longer mailable" in pause
    # Viewers see no buttons that change anything.
    assert "Pause campaign" not in html
    assert client.get(SHOW + "?period=7").status_code == 200
    assert client.get(SHOW + "?period=%00").status_code == 200


def test_a_marketer_pauses_and_resumes_and_both_are_audited(app):
    build_story(app)
    client = signed_in_client(app, "marketer")
    assert "Pause campaign" in _text(client.get(SHOW))
    token = csrf_token(client, SHOW)
    response = client.post(SHOW + "/pause", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith(SHOW)
    page = _text(client.get(SHOW))
    assert "Paused. 2 live enrolments hold their place" in page
    assert "Resume campaign" in page and "This campaign is paused" in page
    assert _campaign(app).status == "paused"
    assert len(_audit(app, "app.ui_campaigns.pause")) == 1
    assert _audit(app, "campaign.paused")[0].actor.startswith("user:")
    client.post(SHOW + "/resume", data={"csrf_token": token})
    assert _campaign(app).status == "active"
    assert "Resumed. 2 live enrolments continue" in _text(client.get(SHOW))
    assert len(_audit(app, "campaign.resumed")) == 1


def test_a_pause_without_a_csrf_token_changes_nothing(app):
    build_story(app)
    client = signed_in_client(app, "marketer")
    assert client.post(SHOW + "/pause").status_code == 400
    assert _campaign(app).status == "active"


def test_roles_without_campaigns_get_403(app):
    build_story(app)
    # (A sales rep lands on the sales inbox after signing in, a page of another area.)
    client = signed_in_client(app, "sales-manager")
    for path in ("/campaigns", SHOW, SHOW + "/enrolments", SHOW + "/versions", SHOW + "/enrol"):
        assert client.get(path).status_code == 403, path


def test_a_viewer_may_not_pause_or_enrol(app):
    build_story(app)
    client = signed_in_client(app, "viewer")
    token = csrf_token(client, SHOW + "/enrolments")
    assert client.get(SHOW + "/enrol").status_code == 403
    assert client.post(SHOW + "/pause", data={"csrf_token": token}).status_code == 403
    assert client.post(SHOW + "/enrol/lead", data={"csrf_token": token}).status_code == 403
    assert _campaign(app).status == "active"


@pytest.mark.parametrize(
    "path",
    [
        "/campaigns/nope",
        "/campaigns/99999999999999999999",
        "/campaigns/%00",
        "/campaigns/" + "x" * 5000,
        "/campaigns/%3Cscript%3E/enrolments",
        "/campaigns/nope/versions",
        "/campaigns/nope/enrol",
    ],
)
def test_unknown_or_hostile_campaign_keys_are_404(app, path):
    build_story(app)
    client = signed_in_client(app, "marketer")
    assert client.get(path).status_code == 404


def test_posts_to_an_unknown_campaign_are_404(app):
    client = signed_in_client(app, "marketer")
    token = csrf_token(client, "/campaigns")
    for action in ("pause", "resume", "enrol/lead", "enrol/set"):
        data = {"csrf_token": token, "one-email": "a@b.example", "stage": "lead"}
        assert client.post(f"/campaigns/nope/{action}", data=data).status_code == 404, action


def test_enrolments_are_listed_filtered_and_hostile_filters_refused(app):
    build_story(app)
    client = signed_in_client(app, "viewer")
    html = _text(client.get(SHOW + "/enrolments"))
    assert all(f"{name}@acme.example" in html for name in ("ada", "bob", "cat"))
    exited = _text(client.get(SHOW + "/enrolments?state=exited"))
    assert "bob@acme.example" in exited and "ada@acme.example" not in exited
    assert "unsubscribed or no longer mailable" in exited
    one = _text(client.get(SHOW + "/enrolments?email=ADA@acme.example"))
    assert "ada@acme.example" in one and "cat@acme.example" not in one
    bad = client.get(SHOW + "/enrolments?state=%3Cscript%3E&track=nope&email=not-an-address")
    assert bad.status_code == 400
    html = _text(bad)
    assert "Choose a state from the list." in html and "This campaign has no such track." in html
    assert "This is not a valid email address." in html and "<script>" not in html
    assert client.get(SHOW + "/enrolments?email=%00").status_code == 400
    unknown = client.get(SHOW + "/enrolments?email=nobody@acme.example")
    assert unknown.status_code == 400 and "No lead has this address." in _text(unknown)
    odd = client.get(SHOW + "/enrolments?after=99999999999999999999")
    assert odd.status_code == 200 and "That page link is not valid" in _text(odd)


def test_enrolments_page_by_keyset(app):
    build_story(app)
    runtime = _runtime(app)
    for number in range(55):
        add_lead(runtime, f"p{number}@acme.example")
    client = signed_in_client(app, "marketer")
    token = csrf_token(client, SHOW + "/enrol")
    done = client.post(SHOW + "/enrol/set", data={"csrf_token": token, "stage": "lead"})
    assert done.status_code == 302
    first = _text(client.get(SHOW + "/enrolments"))
    assert first.count("<tr>") == 51  # the header row and 50 enrolments
    next_url = (
        first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    )
    second = _text(client.get(next_url))
    assert second.count("<tr>") == 1 + 55 + 3 - 50
    assert "ada@acme.example" in second and 'rel="prev"' in second


def test_enrol_one_lead_and_errors_beside_the_field(app):
    build_story(app)
    runtime = _runtime(app)
    add_lead(runtime, "eve@acme.example")
    client = signed_in_client(app, "marketer")
    token = csrf_token(client, SHOW + "/enrol")
    post = lambda email: client.post(  # noqa: E731
        SHOW + "/enrol/lead", data={"csrf_token": token, "one-email": email}
    )
    response = post("EVE@acme.example")
    assert response.status_code == 302
    assert "Enrolled eve@acme.example" in _text(client.get(SHOW))
    for email, status, message in [
        ("", 400, "This field is required."),
        ("<script>alert(1)</script>", 400, "This is not a valid email address."),
        ("x" * 400 + "@a.example", 400, "Field cannot be longer than 320 characters."),
        ("nobody@acme.example", 422, "No lead has this address."),
        ("ada@acme.example", 422, "Not enrolled: already enrolled."),
        ("dan@acme.example", 422, "may not be mailed"),
    ]:
        response = post(email)
        html = _text(response)
        assert response.status_code == status, email
        assert 'id="one-email-error"' in html and message in html, email
        assert "<script>alert" not in html
    with transaction(runtime.sessions) as session:
        dan = session.scalar(select(Lead.id).where(Lead.email == "dan@acme.example"))
        assert session.scalars(select(Enrollment).where(Enrollment.lead_id == dan)).all() == []
    assert len(_audit(app, "app.ui_campaigns.enrol_lead")) == 1


def test_enrol_a_filtered_set_after_a_preview(app):
    build_story(app)
    runtime = _runtime(app)
    add_lead(runtime, "eve@acme.example", temperature="warm")
    client = signed_in_client(app, "marketer")
    preview = client.get(SHOW + "/enrol?temperature=warm")
    html = _text(preview)
    assert preview.status_code == 200
    assert "1 of 2 matching leads would be enrolled." in html and "already enrolled" in html
    with transaction(runtime.sessions) as session:
        assert len(session.scalars(select(Enrollment)).all()) == 3  # nothing yet
    token = csrf_token(client, SHOW + "/enrol")
    done = client.post(SHOW + "/enrol/set", data={"csrf_token": token, "temperature": "warm"})
    assert done.status_code == 302
    page = _text(client.get(SHOW))
    assert "1 of 2 leads enrolled." in page and "1 not enrolled: already enrolled." in page
    with transaction(runtime.sessions) as session:
        assert len(session.scalars(select(Enrollment)).all()) == 4
    # No filter, or a hostile one: errors beside the fields, nothing enrolled.
    empty = client.get(SHOW + "/enrol?stage=")
    assert empty.status_code == 400 and "Choose at least one filter." in _text(empty)
    hostile = client.get(SHOW + "/enrol?stage=%3Cscript%3E&account_domain=a%00b")
    assert hostile.status_code == 400 and "Not a valid choice" in _text(hostile)
    refused = client.post(SHOW + "/enrol/set", data={"csrf_token": token, "source": "x" * 500})
    assert refused.status_code == 400 and "Field cannot be longer than 100 characters." in _text(
        refused
    )
    with transaction(runtime.sessions) as session:
        assert len(session.scalars(select(Enrollment)).all()) == 4


def test_versions_page_shows_the_diff(app, tmp_path):
    from tests.integration.engine_support import FIXTURES

    build_story(app)
    runtime = _runtime(app)
    text = (FIXTURES / "drip.yaml").read_text().replace("wait: 3d", "wait: 4d")
    (tmp_path / "drip.yaml").write_text(text)
    assert sync_campaign_files(runtime, now=utcnow(), path=tmp_path / "drip.yaml").ok
    client = signed_in_client(app, "viewer")
    html = _text(client.get(SHOW + "/versions"))
    assert "From version 1 to version 2" in html and "step cold / pause" in html
    assert '<tr class="diff-removed">' in html and "wait: 3d" in html and "wait: 4d" in html
    assert client.get(SHOW + "/versions?old=1&new=9").status_code == 400
    assert client.get(SHOW + "/versions?old=99999999999999999999&new=%00").status_code == 200


def test_file_errors_are_shown_with_file_and_line(app, tmp_path):
    from tests.integration.engine_support import FIXTURES

    build_story(app)
    runtime = _runtime(app)
    text = (FIXTURES / "drip.yaml").read_text().replace("send: cold-five-mistakes", "send: no-such")
    (tmp_path / "drip.yaml").write_text(text)
    assert not sync_campaign_files(runtime, now=utcnow(), path=tmp_path / "drip.yaml").ok
    client = signed_in_client(app, "viewer")
    html = _text(client.get(SHOW))
    assert "The campaign file has errors" in html and "drip.yaml:" in html and "no-such" in html
    assert "File has errors" in _text(client.get("/campaigns"))
