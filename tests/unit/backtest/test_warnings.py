"""Warnings on a history: a leaked column and a late event are flagged, a fact that only
predicts well (before the outcome) is not; protected characteristics and their proxies are
found by name in English, Polish and German, in the history and in the files."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from nurture.backtest import (
    History,
    HistoryLead,
    Outcome,
    facts_used,
    leakage_warnings,
    protected_warnings,
)
from nurture.backtest.protected import bundled_categories, parse_categories
from nurture.backtest.warnings import share
from nurture.qualification.icp_parser import load_icp_file, load_icp_text
from nurture.qualification.readiness_parser import load_readiness_text
from nurture.scoring import EventFacts
from nurture.scoring.parser import load_scoring_file, load_scoring_text

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def synthetic(leads: int = 600, seed: int = 3) -> History:
    """Intent drives events and the outcome; the budget answer helps. The history also has
    facts recorded after the outcome: a "closed" tag, a stage of "won", days as a customer,
    a last-contacted date taken at the export, and invoices after the deal."""
    rng = random.Random(seed)
    made = []
    for number in range(leads):
        created = T0 + timedelta(days=rng.randrange(200))
        intent = rng.random()
        budget = "approved" if rng.random() < 0.2 + 0.5 * intent else "none"
        converts = rng.random() < 0.03 + 0.3 * intent * (budget == "approved")
        events = []
        at = created
        for _ in range(rng.randrange(1, 8)):
            at += timedelta(hours=rng.randrange(1, 72))
            events.append(EventFacts(len(events) + 1, "page.viewed", at, {"url": "/blog"}))
        # Demo requests predict strongly, and honestly: they come before the outcome.
        if rng.random() < (0.8 if converts else 0.04):
            at += timedelta(hours=5)
            events.append(EventFacts(len(events) + 1, "demo.requested", at, {}))
        converted_at = at + timedelta(days=rng.randrange(3, 40)) if converts else None
        fields = {
            "title": rng.choice(["VP Sales", "Analyst", "Head of Sales"]),
            "attributes.budget": budget,
            "attributes.history.visits": int(intent * 20 + rng.random() * 8),
            "attributes.history.stage": "won" if converts else rng.choice(["open", "lost"]),
            "attributes.history.days_as_customer": rng.randrange(1, 300) if converts else 0,
            "attributes.last_contacted": (converted_at or at) + timedelta(days=rng.randrange(9)),
        }
        fields["attributes.last_contacted"] = fields["attributes.last_contacted"].date().isoformat()
        if converts:
            fields["attributes.history.closed_tag"] = "closed-won"
            assert converted_at is not None
            invoice = converted_at + timedelta(days=rng.randrange(0, 30))
            events.append(EventFacts(len(events) + 1, "custom.invoice_paid", invoice, {}))
        made.append(
            HistoryLead(
                key=f"L{number}",
                created_at=created,
                fields=fields,
                outcome=Outcome(converts, converted_at, 1000.0 if converts else None),
                events=tuple(events),
            )
        )
    history = History(tuple(made))
    converters = sum(lead.outcome.converted for lead in history.leads)
    assert 0.05 < converters / leads < 0.3, converters  # a realistic mix: most never convert
    return history


@pytest.fixture(scope="module")
def history() -> History:
    return synthetic()


def by_fact(findings):
    return {finding.fact: finding for finding in findings}


def test_a_leaked_column_is_flagged_with_its_figures(history):
    found = by_fact(leakage_warnings(history))
    closed = found["attributes.history.closed_tag"]
    assert closed.kind == "leakage"
    assert closed.figures["evidence"] == "presence"
    assert closed.figures["converters"] == 1.0 and closed.figures["others"] == 0.0
    assert "filled in for 100 % of converters and 0 % of the rest" in closed.message
    assert closed.used_by == ()


def test_a_won_stage_a_late_date_and_days_as_a_customer_are_flagged(history):
    found = by_fact(leakage_warnings(history))
    stage = found["attributes.history.stage"]
    assert stage.figures["evidence"] == "value" and stage.figures["value"] == "won"
    assert "is 'won' for 100 % of converters and 0 % of the rest" in stage.message
    # Filled in for everyone, so only its date tells: on or after the conversion.
    contacted = found["attributes.last_contacted"]
    assert contacted.figures["evidence"] == "date"
    assert "date on or after the conversion for 100 % of the converters" in contacted.message
    days = found["attributes.history.days_as_customer"]
    fewest = min(
        lead.fields["attributes.history.days_as_customer"]
        for lead in history.leads
        if lead.outcome.converted
    )
    assert days.figures["evidence"] == "threshold" and days.figures["threshold"] == fewest
    assert f"is at least {fewest} for 100 % of converters and 0 % of the rest" in days.message


def test_an_event_that_comes_after_the_conversion_is_flagged(history):
    invoice = by_fact(leakage_warnings(history))["custom.invoice_paid"]
    assert invoice.figures["evidence"] == "event"
    assert "the first was on or after the conversion" in invoice.message
    assert invoice.figures["converters"] == 1.0 and invoice.figures["others"] == 0.0


def test_facts_that_predict_well_before_the_outcome_are_not_flagged(history):
    converters = [lead for lead in history.leads if lead.outcome.converted]
    with_demo = sum(any(e.type == "demo.requested" for e in lead.events) for lead in converters)
    assert with_demo / len(converters) > 0.7  # a strong predictor…
    found = by_fact(leakage_warnings(history))
    # …but its events come before the conversion, as do the page views; the budget answer
    # and the visits predict without telling the classes apart.
    for honest in ["demo.requested", "page.viewed", "attributes.budget", "title"]:
        assert honest not in found
    assert "attributes.history.visits" not in found
    assert set(found) == {
        "attributes.history.closed_tag",
        "attributes.history.stage",
        "attributes.history.days_as_customer",
        "attributes.last_contacted",
        "custom.invoice_paid",
    }


def test_a_fact_the_files_use_says_where():
    history = synthetic(300)
    icp = load_icp_text(
        "name: t\ngrades: { A: 75, B: 50, C: 25 }\ncriteria:\n"
        "  - id: closed\n    field: attributes.history.closed_tag\n"
        "    bands: [{ in: [closed-won], points: 100 }]\n",
        "icp.yaml",
    ).value
    readiness = load_readiness_text(
        "name: r\nrules:\n  - { id: fit, min_grade: B }\n  - { id: hot, temperature: hot }\n"
        "  - { id: asked, hand_raised: { within: 14d } }\n"
    ).value
    scoring = load_scoring_text(
        "name: s\nhalf_life: 30d\nbands: { warm: 5, hot: 9 }\nrules:\n"
        "  - { id: paid, event: custom.invoice_paid, points: 50 }\n"
        "  - { id: demo, event: demo.requested, points: 40, hand_raiser: true }\n"
    ).value
    used = facts_used(scoring=scoring, icp=icp, readiness=readiness)
    assert used["attributes.history.closed_tag"] == (
        "ICP criterion 'closed' (icp.yaml:4)",
        "readiness rule 'fit' (through the fit grade)",
    )
    assert used["custom.invoice_paid"][1:] == (
        "readiness rule 'hot' (through the engagement score)",
    )
    assert used["demo.requested"][1:] == (
        "readiness rule 'hot' (through the engagement score)",
        "readiness rule 'asked' (through the hand-raise)",
    )
    found = by_fact(leakage_warnings(history, used=used))
    assert found["attributes.history.closed_tag"].used_by == used["attributes.history.closed_tag"]
    assert "Used by ICP criterion 'closed' (icp.yaml:4)" in (
        found["attributes.history.closed_tag"].message
    )
    assert "scoring rule 'paid'" in found["custom.invoice_paid"].message
    assert "Not used by the files checked" in found["attributes.history.stage"].message
    # A fitted model's features are plain names.
    plain = by_fact(leakage_warnings(history, used=["custom.invoice_paid"]))
    assert plain["custom.invoice_paid"].used_by == ("the model",)


def test_too_few_converters_say_nothing():
    leads = [lead for lead in synthetic().leads if not lead.outcome.converted][:50]
    leads += [lead for lead in synthetic().leads if lead.outcome.converted][:4]
    assert leakage_warnings(leads) == []


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0.98, "98 %"), (0.001, "0.1 %"), (0.0004, "< 0.1 %"), (0.0, "0 %"), (1.0, "100 %")],
)
def test_shares_read_the_way_a_marketer_writes_them(value, shown):
    assert share(value) == shown


# ---------------------------------------------------------------- protected attributes


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("attributes.date_of_birth", "age"),
        ("attributes.dateOfBirth", "age"),
        ("attributes.history.Age", "age"),
        ("attributes.Data urodzenia", "age"),
        ("attributes.wiek", "age"),
        ("attributes.Geburtsdatum", "age"),
        ("attributes.gender", "sex"),
        ("attributes.płeć", "sex"),
        ("attributes.Geschlecht", "sex"),
        ("attributes.ethnicity", "race"),
        ("attributes.pochodzenie_etniczne", "race"),
        ("attributes.Hautfarbe", "race"),
        ("attributes.religion", "religion"),
        ("attributes.wyznanie", "religion"),
        ("attributes.Religionszugehörigkeit", "religion"),
        ("attributes.nationality", "nationality"),
        ("attributes.obywatelstwo", "nationality"),
        ("attributes.Staatsangehoerigkeit", "nationality"),
        ("attributes.disability", "disability"),
        ("attributes.niepełnosprawność", "disability"),
        ("attributes.Schwerbehinderung", "disability"),
        ("attributes.sexual_orientation", "sexual-orientation"),
        ("attributes.orientacja seksualna", "sexual-orientation"),
        ("attributes.marital_status", "family"),
        ("attributes.stan_cywilny", "family"),
        ("attributes.Familienstand", "family"),
        ("attributes.pregnant", "pregnancy"),
        ("attributes.urlop macierzyński", "pregnancy"),
        ("attributes.Elternzeit", "pregnancy"),
    ],
)
def test_protected_characteristics_are_found_in_english_polish_and_german(name, category):
    (finding,) = protected_warnings([name])
    assert (finding.kind, finding.fact, finding.figures["category"]) == (
        "protected",
        name,
        category,
    )
    assert "a protected characteristic" in finding.message
    assert "Not used by the files checked" in finding.message


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("first_name", "first-name"),
        ("attributes.imię", "first-name"),
        ("attributes.Vorname", "first-name"),
        ("attributes.photo_url", "photo"),
        ("attributes.zdjęcie", "photo"),
        ("attributes.postal_code", "postcode"),
        ("attributes.kod_pocztowy", "postcode"),
        ("attributes.PLZ", "postcode"),
        ("attributes.Anrede", "salutation"),
    ],
)
def test_proxies_worth_a_look_are_found(name, category):
    (finding,) = protected_warnings([name])
    assert (finding.kind, finding.figures["category"]) == ("proxy", category)


def test_ordinary_fields_and_the_shipped_files_raise_no_alarm():
    ordinary = [
        "title", "source", "stage", "account.country", "account.industry", "account.employees",
        "attributes.page_views", "attributes.usage", "attributes.budget", "attributes.manager",
        "attributes.history.visits", "attributes.history.time_on_site", "attributes.partner",
        "attributes.language", "attributes.message", "attributes.Bildung", "attributes.storage",
    ]  # fmt: skip
    icp = load_icp_file("campaigns/icp.yaml").value
    scoring = load_scoring_file("campaigns/scoring.yaml").value
    assert protected_warnings(ordinary, icp=icp, scoring=scoring) == []


def test_icp_criteria_are_read_by_field_id_and_label_and_scoring_by_property():
    icp = load_icp_text(
        "name: t\ngrades: { A: 75, B: 50, C: 25 }\ncriteria:\n"
        "  - id: segment\n    field: attributes.segment\n    label: Grupa wiekowa (wiek)\n"
        "    bands: [{ in: [young], points: 50 }]\n"
        "  - id: plec\n    field: attributes.sex\n    bands: [{ in: [f], points: 50 }]\n",
        "icp.yaml",
    ).value
    scoring = load_scoring_text(
        "name: s\nhalf_life: 30d\nbands: { warm: 5, hot: 9 }\nrules:\n"
        "  - id: women\n    event: form.submitted\n"
        "    when: { properties: { Geschlecht: weiblich } }\n    points: 5\n",
        "scoring.yaml",
    ).value
    found = by_fact(protected_warnings(["attributes.sex", "title"], icp=icp, scoring=scoring))
    assert set(found) == {"attributes.segment", "attributes.sex", "form.submitted.Geschlecht"}
    assert found["attributes.segment"].used_by == ("ICP criterion 'segment' (icp.yaml:4)",)
    assert found["attributes.segment"].figures == {"category": "age", "in_history": False}
    sex = found["attributes.sex"]
    assert sex.figures == {"category": "sex", "in_history": True}
    assert "The history has it. Used by ICP criterion 'plec' (icp.yaml:8)" in sex.message
    assert "may discriminate unlawfully" in sex.message
    assert found["form.submitted.Geschlecht"].used_by == ("scoring rule 'women' (scoring.yaml:5)",)


def test_the_names_file_ships_every_category_in_three_languages():
    categories = bundled_categories()
    assert {c.kind for c in categories} == {"protected", "proxy"}
    assert len([c for c in categories if c.kind == "protected"]) >= 9
    with pytest.raises(ValueError, match="kind 'maybe'"):
        parse_categories({"categories": [{"id": "x", "label": "x", "kind": "maybe"}]})
    with pytest.raises(ValueError, match="is not a name"):
        parse_categories(
            {"categories": [{"id": "x", "label": "x", "kind": "proxy", "names": {"en": ["…"]}}]}
        )


def test_numbers_written_as_text_are_compared_as_numbers_and_odd_values_do_not_fail(history):
    # A CSV history keeps lead fields as text: "17" days as a customer is still a number.
    odd = [None, "", [], ["a", "b"], {"x": 1}, "nan", float("nan"), True, "2026-02-30"]
    leads = [
        HistoryLead(
            key=lead.key,
            created_at=lead.created_at,
            fields={
                "attributes.days_as_customer": str(
                    lead.fields["attributes.history.days_as_customer"]
                ),
                "attributes.odd": odd[index % len(odd)],
            },
            outcome=lead.outcome,
        )
        for index, lead in enumerate(history.leads)
    ]
    found = by_fact(leakage_warnings(leads))
    assert set(found) == {"attributes.days_as_customer"}
    assert found["attributes.days_as_customer"].figures["evidence"] == "threshold"
