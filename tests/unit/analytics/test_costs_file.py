"""The costs file: each problem at its line, with what is wrong."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from nurture.analytics.costs.parser import load_costs_file, load_costs_text

BUNDLED = Path(__file__).resolve().parents[3] / "campaigns" / "costs.yaml"


def problems(text: str) -> list[str]:
    return [f"{p.line}: {p.message}" for p in load_costs_text(text, "costs.yaml").problems]


def test_a_valid_file_gives_its_currency_and_entries_with_their_lines():
    load = load_costs_text(
        "currency: eur\n"
        "costs:\n"
        "  - month: 2026-01\n"
        "    source: webinar\n"
        "    amount: 1200.50\n"
        "    note: Hosting\n"
        "  - { month: 2026-01, campaign: welcome, source: ads, amount: 0 }\n",
        "costs.yaml",
    )
    assert load.ok and load.costs is not None
    assert load.costs.currency == "EUR"
    first, second = load.costs.entries
    assert (first.line, first.entry.month, first.entry.amount) == (
        3,
        date(2026, 1, 1),
        Decimal("1200.50"),
    )
    assert (first.entry.source, first.entry.campaign, first.entry.note) == (
        "webinar",
        "",
        "Hosting",
    )
    assert (second.line, second.entry.source, second.entry.campaign) == (7, "ads", "welcome")


def test_each_bad_value_is_reported_at_its_own_line():
    assert problems(
        "currency: euro\n"  # 1
        "costs:\n"
        "  - month: 2026-13\n"  # 3
        "    source: webinar\n"
        "    amount: -10\n"  # 5
        "  - month: 2026-02\n"  # 6: neither source nor campaign
        "    amount: 1.234\n"  # 7
        "  - { month: 2026-01-15, source: ads, amount: ten }\n"  # 8
        "  - { source: ads, amont: 5 }\n"  # 9
    ) == [
        "1: currency: 'euro' is not an ISO 4217 currency code like EUR or USD",
        "3: month: '2026-13' is not a month: the month must be 01 to 12",
        "5: amount: the amount -10 is negative: a cost is 0 or more",
        "6: source: name a source, a campaign or both",
        "7: amount: the amount 1.234 has more than two decimals",
        "8: month: '2026-01-15' is not a month: use YYYY-MM, like 2026-01",
        "8: amount: the amount must be a number, not 'ten'",
        "9: unknown field 'amont' (did you mean 'amount'?)",
        "9: missing field 'month' in a cost entry",
        "9: missing field 'amount' in a cost entry",
    ]


def test_a_duplicate_entry_names_both_lines():
    assert problems(
        "currency: EUR\n"
        "costs:\n"
        "  - { month: 2026-01, source: ads, amount: 5 }\n"
        "  - { month: 2026-01, campaign: welcome, amount: 5 }\n"
        "  - { month: 2026-01, source: ads, amount: 7 }\n"
    ) == [
        "5: duplicate entry for 2026-01 source 'ads': line 3 already sets it "
        "(add the amounts into one entry)"
    ]


def test_the_file_must_name_its_currency_and_list_its_costs():
    assert problems("costs: []\n") == ["1: missing field 'currency' in the costs file"]
    assert problems("currency: EUR\ncosts: {month: 2026-01}\n") == [
        "2: costs must be a list of entries"
    ]
    assert problems("currency: EUR\ncosts:\n  - 12\n") == [
        "3: a cost entry must be a mapping, not a number"
    ]
    assert problems("- 1\n") == ["1: a costs file must be a mapping (currency, costs), not a list"]
    assert load_costs_text("currency: EUR\n", "costs.yaml").ok


def test_the_bundled_file_is_valid():
    load = load_costs_file(BUNDLED)
    assert load.ok, load.problems
    assert load.costs is not None and load.costs.currency == "USD"


def test_the_example_of_docs_costs_md_is_valid():
    docs = (BUNDLED.parents[1] / "docs" / "costs.md").read_text(encoding="utf-8")
    example = docs.split("```yaml\n", 1)[1].split("```", 1)[0]
    load = load_costs_text(example, "docs/costs.md")
    assert load.ok, load.problems
    assert load.costs is not None and len(load.costs.entries) == 4
