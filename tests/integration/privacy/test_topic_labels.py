"""Topic labels declared in the campaign file, shown on the preference page in the lead's
language (with fallback), never as the key in title case when a label exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from nurture.campaigns.loader import load_campaign_text
from nurture.models import Lead
from nurture.platform.db import transaction
from nurture.privacy.preferences import topic_label
from tests.integration.engine_support import T0, add_lead, enrol, sync_fixture_campaigns
from tests.integration.privacy_support import first_message, signed_path, tick

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "privacy"
KSEF = """\
id: ksef
name: KSeF
topic:
  key: porady-ksef
  label: { pl: Porady KSeF, en: KSeF tips }
entry:
  manual: true
send_window: { days: mon-sun, hours: "00:00-24:00", timezone: lead }
tracks:
  all:
    steps:
      - id: first
        send: welcome-guide
"""


@pytest.fixture
def runtime(app, tmp_path):  # type: ignore[no-untyped-def]
    runtime = app.extensions["nurture"]
    folder = tmp_path / "campaigns"
    folder.mkdir()
    (folder / "ksef.yaml").write_text(KSEF)
    (folder / "news.yaml").write_text((FIXTURES / "news.yaml").read_text())
    report = sync_fixture_campaigns(runtime, folder)
    assert " 0 failed" in str(report), report
    return runtime


def _preference_page(runtime, client, email: str, locale: str | None) -> str:  # type: ignore[no-untyped-def]
    lead_id = add_lead(runtime, email)
    with transaction(runtime.sessions) as session:
        session.get(Lead, lead_id).locale = locale
    enrol(runtime, lead_id, "ksef")
    tick(runtime, T0)
    page = client.get(signed_path(runtime, first_message(runtime, lead_id), "/preferences"))
    assert page.status_code == 200
    return page.text


@pytest.mark.parametrize(
    ("email", "locale", "label"),
    [
        ("ola@firma.example", "pl", "Porady KSeF"),
        ("jan@firma.example", "pl-PL", "Porady KSeF"),
        ("ada@acme.example", "en", "KSeF tips"),
        # No German label: the English one, not the key.
        ("eva@gmbh.example", "de", "KSeF tips"),
        ("nobody@acme.example", None, "KSeF tips"),
    ],
)
def test_the_preference_page_shows_the_label_in_the_leads_language(
    runtime, client, email, locale, label
) -> None:
    page = _preference_page(runtime, client, email, locale)

    assert f'value="porady-ksef" checked> {label}</label>' in page
    assert "Porady ksef" not in page
    # A topic declared without a label still reads as words.
    assert "Product news" in page


def test_label_fallbacks() -> None:
    labels = {"pl": "Porady KSeF", "en": "KSeF tips"}
    assert topic_label("porady-ksef", labels, "pl_PL") == "Porady KSeF"
    assert topic_label("porady-ksef", {"pl": "Porady KSeF"}, "en") == "Porady KSeF"
    assert topic_label("porady-ksef", {"": "KSeF", "en": "KSeF tips"}, "de") == "KSeF"
    assert topic_label("porady-ksef", {}, "pl") == "Porady ksef"


def test_a_topic_label_is_checked_with_the_line() -> None:
    text = KSEF.replace(
        "  label: { pl: Porady KSeF, en: KSeF tips }",
        "  label: { polish: Porady, en: '' }\n  lable: x",
    )
    result = load_campaign_text(text, "ksef.yaml")
    assert [str(problem) for problem in result.problems] == [
        "ksef.yaml:5: topic label language 'polish' must be a language code such as en, pl "
        "or pt-BR",
        "ksef.yaml:5: topic label (en) must be text, not empty",
        "ksef.yaml:6: unknown field 'lable' (did you mean 'label'?)",
    ]
    one = load_campaign_text(KSEF.replace("{ pl: Porady KSeF, en: KSeF tips }", "KSeF"), "k")
    assert one.campaign is not None and one.campaign.topic_labels == {"": "KSeF"}
