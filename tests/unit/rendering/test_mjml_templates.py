"""MJML that compiles what MJML compiles: 25 templates written in the style of the public
MJML email templates (heroes, columns, groups, navbars, social icons, accordions, carousels,
mj-attributes and mj-class, inline CSS, fonts, tables, Jinja merge tags), each compiled and
rendered through the product's own path (``TemplateLibrary``, as validation and sends use it).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nurture.rendering.library import TemplateLibrary, sample_context

FIXTURES = Path(__file__).parents[2] / "fixtures" / "mjml_templates"
LIBRARY = TemplateLibrary(FIXTURES, check_interval=3600)
NAMES = LIBRARY.names()

# What each template's email must show beyond the sample lead's name: proof that the
# feature the template exercises came out of the compiler.
EXPECTED: dict[str, list[str]] = {
    "product-launch": [
        '<link href="https://fonts.googleapis.com/css?family=Roboto:400,700"',
        "Lumen reads your pipeline",
        "launch?c=b2b-nurture",  # the merge tag in the hero's href, rendered
    ],
    "monthly-digest": ["text-transform:uppercase", "mj-menu-checkbox", 'alt="Forecast chart"'],
    "event-ticket": ["Dana Whitfield", "Northwind Logistics", "letter-spacing: 6px", "Wednesday"],
    "order-receipt": ["Plan: Starter", "border-top:dashed 1px #aaaaaa", "Total €49.00"],
    "referral-invite": [
        '<p class="code" style="font-family: \'Courier New\', monospace;font-size: 24px;'
        'color: #0a7d4f;letter-spacing: 4px;">FRIEND-2027</p>',
        '<p class="fine-print" style="color: #9aa5b1;font-size: 12px;">',
    ],
    "welcome-onboarding": [
        "mj-column-per-33-333333333333336",
        "https://www.linkedin.com/company/example",
        "@media only screen and (min-width:520px)",
    ],
    "webinar-reminder": ["LIVE IN ONE HOUR", "https://assets.example/webinar/stage.jpg"],
    "magazine-wrapper": ["border-radius:50%", "background-size:cover", "Issue 12 · for Dana"],
    "faq-accordion": ["mj-accordion", "Who sees my numbers?", "from Northwind Logistics"],
    "gallery-carousel": ["mj-carousel-radio", "https://office.example/roof", "The roof terrace"],
    "seasonal-sale": [
        '<link href="https://fonts.googleapis.com/css?family=Playfair+Display:700"',
        "font-size:48px",
        "for all of Northwind Logistics",
    ],
    "survey-request": ['data-survey="nps"', "https://survey.example/r?s=9"],
    "trial-ending": ["Keep your dashboards: pick a plan", "border-left:4px solid #ff8800"],
    "case-study-columns": ["direction:rtl", "border-radius:6px", "Northwind Logistics wants"],
    "holiday-greeting": [
        '<link href="https://fonts.example/lato/400-700.css"',
        "font-family:Lato, Helvetica, sans-serif",
        ".greeting div { font-size: 28px !important; }",
    ],
    "order-shipped": ["mj-column-per-30", "mj-column-per-70", "https://track.example/none"],
    "podcast-episode": ["https://assets.example/podcast/play.png", "https://x.com/example"],
    "job-openings": ["Solutions engineer", "Data analyst", "border:1px solid #e6e6e6"],
    "conference-agenda": ["Forecasting that holds", "we picked one for a VP of Revenue"],
    "feature-update": [
        '<p class="feature-title" style="color: #3b5bdb;font-size: 18px;font-weight: bold;'
        'margin: 0;">Saved views</p>',
        ".feature-col { padding-bottom: 12px !important; }",
    ],
    "customer-quote": ["border-left:4px solid #12b886", "Priya Raman"],
    # The sample lead is warm: the {% else %} branch.
    "re-engagement": ["Good to see you around, Dana", "what changed since your last visit"],
    "pricing-change": ["From 1 March", "font-family:Trebuchet MS, sans-serif"],
    "event-recap": ["https://summit.example/slides", "https://www.facebook.com/example"],
    "partner-intro": ["Northstar now feeds", "border-radius:8px 8px 0 0"],
}


def test_the_fixture_set_is_the_25_templates_this_test_describes() -> None:
    assert len(NAMES) == 25
    assert set(NAMES) == set(EXPECTED)


@pytest.mark.parametrize("name", NAMES)
def test_each_template_validates_and_renders_what_it_was_written_to_show(name: str) -> None:
    assert LIBRARY.validate(name) == []
    email = LIBRARY.render(name, sample_context())
    assert "Dana" in email.html
    # Every MJML element was compiled: none reaches the lead as a tag.
    assert not re.search(r"</?mj-", email.html)
    # The merge tags rendered; none is left as written.
    assert "{{" not in email.html and "{%" not in email.html
    for expected in EXPECTED[name]:
        assert expected in email.html, expected
    assert "Dana" in email.text


def test_a_font_the_compiler_knows_takes_the_address_its_mj_font_gives() -> None:
    # The compiler declares Lato itself, at Google's address; the template's own wins.
    html = LIBRARY.render("holiday-greeting", sample_context()).html
    assert "fonts.googleapis.com/css?family=Lato" not in html
    assert html.count("https://fonts.example/lato/400-700.css") == 2  # <link> and @import
