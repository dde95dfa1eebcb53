"""Helpers for the campaign pages' browser journey: a campaign the engine ran."""

from __future__ import annotations

from tests.browser.web_support import LiveApp
from tests.integration.campaign_figures_support import Story, build_story
from tests.integration.engine_support import add_lead


def campaign_with_history(live: LiveApp) -> Story:
    """The fixture campaign with sends, a person's open and click and an unsubscribe, and
    one more lead (eve) not enrolled yet."""
    story = build_story(live.app)
    add_lead(live.runtime, "eve@acme.example")
    return story
