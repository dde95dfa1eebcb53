"""A lead whose locale names a region (``pl-PL``, or ``pl_PL`` as an older import or a
hand-written row spells it) gets the Polish template variant and Polish system pages, as a
lead whose locale is ``pl`` does."""

from __future__ import annotations

import re

import pytest

from tests.integration.engine_support import T0, add_lead
from tests.integration.privacy_support import (
    enrol_in_both,
    first_message,
    signed_path,
    sync_topic_campaigns,
    tick,
)

# The subjects of the Polish variants of the topic campaigns' first emails.
POLISH_SUBJECTS = ("Witamy w Brightpath", "Jak Ferrow Freight")


@pytest.mark.parametrize("locale", ["pl-PL", "pl_PL", "PL_pl"])
def test_a_lead_with_a_regional_polish_locale_gets_polish_email_and_pages(runtime, client, locale):
    sync_topic_campaigns(runtime)
    lead_id = add_lead(runtime, "jan@firma.example", locale=locale)
    enrol_in_both(runtime, lead_id)
    tick(runtime, T0)
    message = first_message(runtime, lead_id)

    page = client.get(signed_path(runtime, message), headers={"Accept-Language": "en"})

    assert (message.subject or "").startswith(POLISH_SUBJECTS), message.subject
    assert re.search(r'<html lang="pl"', page.text)
    assert "Wypisz mnie" in page.text and "Unsubscribe me" not in page.text
