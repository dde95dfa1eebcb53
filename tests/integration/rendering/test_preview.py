"""``nurture preview``: the email a real lead would get, written to a file."""

from __future__ import annotations

from pathlib import Path

import pytest

import nurture.cli.preview_cmd  # noqa: F401  (registers the command on ``cli``)
from nurture.cli import cli
from nurture.models import Account, Lead


@pytest.fixture
def lead(runtime) -> str:  # type: ignore[no-untyped-def]
    with runtime.sessions() as session:
        account = Account(name="Northwind <Logistics>", domain="northwind.example")
        session.add(
            Lead(
                email="dana@northwind.example",
                first_name="Dana",
                last_name="Whitfield",
                account=account,
                attributes={"crm": "HubSpot"},
            )
        )
        session.commit()
    return "dana@northwind.example"


def invoke(app, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(cli, ["preview", *args])


def test_preview_writes_the_html_the_lead_would_get(app, settings, lead) -> None:
    result = invoke(app, "warm-case-study", "--lead", "Dana@Northwind.example")
    assert result.exit_code == 0, result.output
    path = settings.instance_path / "previews" / "warm-case-study-dana@northwind.example.html"
    assert result.output.splitlines() == [
        "Subject: How Ferrow Freight cut forecast error from 28% to 6%",
        f"Wrote {path}",
    ]
    html = path.read_text()
    assert html.startswith("<!doctype html>")
    assert "Hi Dana," in html
    assert "What this could look like at Northwind &lt;Logistics&gt;" in html
    assert 'href="http://nurture.test/u/preview"' in html
    assert 'src="http://nurture.test/t/o/preview.gif"' in html


def test_preview_writes_the_text_part_where_asked(app, lead, tmp_path: Path) -> None:
    out = tmp_path / "dana.txt"
    result = invoke(app, "hot-demo-invite", "--lead", lead, "--text", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}" in result.output
    text = out.read_text()
    assert text.startswith("Hi Dana,")
    assert "your HubSpot instance" in text
    assert "Unsubscribe: http://nurture.test/u/preview" in text


@pytest.mark.parametrize("args", [["--sample"], []], ids=["--sample", "no --lead"])
def test_preview_with_the_sample_lead(app, settings, args) -> None:
    result = invoke(app, "welcome-guide", *args)
    assert result.exit_code == 0, result.output
    assert "Subject: Welcome to Brightpath, Dana: your revenue analytics starter guide" in (
        result.output
    )
    html = (settings.instance_path / "previews" / "welcome-guide-sample.html").read_text()
    assert "Northwind Logistics" in html


def test_an_unknown_lead_or_template_is_a_clear_error(app, lead) -> None:
    result = invoke(app, "welcome-guide", "--lead", "nobody@example.org")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: no lead with email 'nobody@example.org'; leads include "
        "dana@northwind.example (nurture leads list shows more); "
        "leave out --lead to preview for the sample lead"
    ]

    result = invoke(app, "no-such-email", "--lead", lead)
    assert result.exit_code == 1
    assert "no template named 'no-such-email'" in result.output
    assert "welcome-guide" in result.output  # the known names are listed


def test_an_unknown_lead_in_an_empty_database_says_how_to_add_leads(app) -> None:
    result = invoke(app, "welcome-guide", "--lead", "ada@example.com")
    assert result.exit_code == 1
    assert "there are no leads yet (nurture leads import FILE adds some)" in result.output


def test_preview_refuses_both_a_lead_and_the_sample(app, lead) -> None:
    assert invoke(app, "welcome-guide", "--sample", "--lead", lead).exit_code == 2


def test_preview_shows_a_polish_lead_the_polish_variant(app, runtime, lead, tmp_path) -> None:
    with runtime.sessions() as session:
        session.query(Lead).filter_by(email=lead).update({"locale": "pl-PL"})
        session.commit()
    out = tmp_path / "dana.html"

    own = invoke(app, "warm-case-study", "--lead", lead, "--out", str(out))

    assert own.exit_code == 0, own.output
    assert "Subject: Jak Ferrow Freight zmniejszył błąd prognozy" in own.output
    html = out.read_text()
    assert '<html lang="pl"' in html and "Dzień dobry, Dana!" in html
    # --locale asks for another language: the sample lead in English.
    english = invoke(app, "warm-case-study", "--locale", "en", "--out", str(out))
    assert "Subject: How Ferrow Freight" in english.output
    assert '<html lang="en"' in out.read_text()


def test_preview_says_when_a_template_has_no_variant_in_the_language(app, tmp_path) -> None:
    out = tmp_path / "x.html"
    german = invoke(app, "warm-case-study", "--locale", "de", "--out", str(out))
    unknown = invoke(app, "warm-case-study", "--locale", "klingon")

    assert german.exit_code == 0
    assert "warm-case-study has no de variant (it has: pl): the default is shown" in german.output
    assert unknown.exit_code == 2 and "unknown locale 'klingon'" in unknown.output
