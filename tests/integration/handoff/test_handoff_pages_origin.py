"""The handoff link pages refuse a form post another site made a browser send."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from nurture.handoff.links import HandoffLinks
from tests.integration.engine_support import T0, add_lead
from tests.integration.handoff_support import (
    add_account,
    handoff_row,
    qualify,
    rep_yaml,
    sync_team_file,
    write_team,
)


@pytest.fixture
def offered(runtime, tmp_path):
    """The accept and reject paths of a handoff offered to its rep."""
    team = write_team(tmp_path / "team.yaml", [rep_yaml("Ann Rep", "ann@sales.example")])
    sync_team_file(runtime, team, T0)
    account = add_account(runtime, "origin.example", country="US", employees=50)
    lead = add_lead(runtime, "lee@origin.example", account_id=account)
    handoff = handoff_row(runtime, qualify(runtime, lead, T0))
    settings = runtime.settings
    urls = HandoffLinks(settings.secret_key, settings.public_url).urls(
        handoff.token, handoff.rep_id, T0 + timedelta(days=3650)
    )
    return handoff.id, {
        name: urls[f"{name}_url"].removeprefix(settings.public_url) for name in ("accept", "reject")
    }


def form_token(client, path: str) -> str:
    page = client.get(path)
    assert page.headers["Referrer-Policy"] == "same-origin"
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://nurture.test.evil.example"},
        {"Referer": "https://evil.example/page"},
        {"Origin": "https://evil.example", "Referer": "http://nurture.test/handoffs/x"},
    ],
)
def test_a_post_from_another_site_is_refused_with_a_403_page_and_changes_nothing(
    runtime, client, offered, headers
):
    handoff_id, paths = offered
    for name, data in (("accept", {}), ("reject", {"reason": "no-budget"})):
        token = form_token(client, paths[name])
        refused = client.post(paths[name], data={"csrf_token": token, **data}, headers=headers)
        assert refused.status_code == 403
        assert "sent from another site" in refused.text and "Nothing was changed" in refused.text
    assert handoff_row(runtime, handoff_id).status == "offered"


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://nurture.test"},  # the public URL
        {"Origin": "http://localhost"},  # the host the request came to
        {"Referer": "http://nurture.test/handoffs/x/accept"},
        {},  # neither: no browser sends a cross-site form so
    ],
)
def test_a_post_from_the_page_itself_is_accepted(runtime, client, offered, headers):
    handoff_id, paths = offered
    token = form_token(client, paths["accept"])

    done = client.post(paths["accept"], data={"csrf_token": token}, headers=headers)

    assert done.status_code == 200 and "is yours" in done.text
    assert handoff_row(runtime, handoff_id).status == "accepted"
