"""The handoff link page says how long ago things happened as of the moment a rep opens it,
not as of the moment the lead was handed over."""

from __future__ import annotations

from datetime import timedelta

from nurture.handoff.links import HandoffLinks
from nurture.models import Lead
from nurture.platform.db import transaction, utcnow
from nurture.qualification.readiness import hand_raise_reason
from tests.integration.engine_support import add_lead
from tests.integration.handoff_support import (
    add_account,
    handoff_row,
    qualify,
    rep_yaml,
    sync_team_file,
    write_team,
)


def test_a_handoff_opened_days_later_says_the_hand_was_raised_days_ago(runtime, client, tmp_path):
    handed_over = utcnow() - timedelta(days=3)
    raised = handed_over - timedelta(minutes=1)
    team = write_team(tmp_path / "team.yaml", [rep_yaml("Ann Rep", "ann@sales.example")])
    sync_team_file(runtime, team, handed_over)
    account = add_account(runtime, "later.example", country="US", employees=50)
    lead_id = add_lead(runtime, "lee@later.example", account_id=account)
    with transaction(runtime.sessions) as session:
        lead = session.get(Lead, lead_id)
        lead.hand_raised_at = raised
    reasons = (hand_raise_reason("demo.requested", raised, handed_over), "fit grade A (90)")
    assert reasons[0] == "raised a hand: demo.requested 1 min ago"
    handoff = handoff_row(
        runtime, qualify(runtime, lead_id, handed_over, "hand-raiser", reasons, True)
    )
    settings = runtime.settings
    urls = HandoffLinks(settings.secret_key, settings.public_url).urls(
        handoff.token, handoff.rep_id, handed_over + timedelta(days=30)
    )

    for name in ("view", "accept", "reject"):
        page = client.get(urls[f"{name}_url"].removeprefix(settings.public_url))
        assert page.status_code == 200, name
        assert "Raised a hand, 3 days ago" in page.text, name
        assert "1 min ago" not in page.text, name
