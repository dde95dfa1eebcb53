"""The lead list's queries: search, filters, orders and keyset pages, on a real database,
with data made through the engine's use cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from nurture.leads.service import upsert_leads
from nurture.leads.validation import validate_lead_data
from nurture.models import Campaign, Enrollment, Event, Lead, Message, SalesRep
from nurture.platform.db import transaction
from nurture.reports.lead_page import lead_overview, messages_page
from nurture.reports.leads import (
    LeadFilter,
    count_matching,
    list_page,
    matching_ids,
    parse_cursor,
    parse_filter,
)
from tests.integration.engine_support import sync_fixture_campaigns
from tests.integration.tracking_support import CHROME, process, send_message

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def add_leads(runtime, *rows, now=NOW, source="api"):
    """Leads created through the upsert use case; returns their ids in order."""
    items = []
    for row in rows:
        fields, errors = validate_lead_data(row, default_timezone="UTC")
        assert not errors, errors
        items.append(fields)
    with transaction(runtime.sessions) as session:
        return [r.lead.id for r in upsert_leads(session, items, now=now, source=source)]


def ids(page):
    return [row.id for row in page.rows]


def all_pages(runtime, flt, size):
    seen, after = [], None
    with runtime.sessions() as session:
        while True:
            page = list_page(session, flt, NOW, after=after, size=size)
            seen.extend(ids(page))
            if page.next_cursor is None:
                return seen
            # The cursor survives its trip through a URL.
            after = parse_cursor(page.next_cursor.text(), flt.sort)


def test_pages_of_each_order_visit_every_lead_once_even_when_keys_tie(runtime):
    # Five leads created at the same instant (a tie on the created order) and two later.
    same = add_leads(runtime, *({"email": f"tie{n}@acme.example"} for n in range(5)))
    later = add_leads(
        runtime,
        {"email": "zed@acme.example", "first_name": "Zed", "last_name": "Young"},
        {"email": "amy@acme.example", "first_name": "Amy", "last_name": "Adams"},
        now=NOW + timedelta(hours=1),
    )
    newest = all_pages(runtime, LeadFilter(), size=2)
    assert newest == [later[1], later[0], *sorted(same, reverse=True)]
    assert all_pages(runtime, LeadFilter(sort="oldest"), size=3) == [*sorted(same), *later]
    # By name: last name, then first name; leads without a name sort by their address.
    by_name = all_pages(runtime, LeadFilter(sort="name"), size=2)
    assert by_name == [later[1], *sorted(same), later[0]]


def test_score_order_is_the_order_of_the_scores_now_whatever_their_age(runtime):
    a, b, c = add_leads(
        runtime, {"email": "a@x.example"}, {"email": "b@x.example"}, {"email": "c@x.example"}
    )
    with transaction(runtime.sessions) as session:
        # a: 40 points a month ago (half-life 30 days: worth 20 now); b: 25 today;
        # c: 30 two weeks ago (worth 30·2^-0.4667 ≈ 21.7 now).
        for lead_id, value, ago in ((a, 40.0, 30), (b, 25.0, 0), (c, 30.0, 14)):
            lead = session.get(Lead, lead_id)
            lead.score_value, lead.score_as_of = value, NOW - timedelta(days=ago)
            lead.score_half_life = timedelta(days=30).total_seconds()
    with runtime.sessions() as session:
        page = list_page(session, LeadFilter(sort="score"), NOW)
    assert ids(page) == [b, c, a]
    assert [round(row.score, 1) for row in page.rows] == [25.0, 21.7, 20.0]
    assert all_pages(runtime, LeadFilter(sort="score"), size=1) == [b, c, a]


def test_search_matches_the_start_of_email_names_and_company(runtime):
    jane, john, bob, pct = add_leads(
        runtime,
        {"email": "jane.doe@acme.example", "first_name": "Jane", "last_name": "Doe"},
        {"email": "jsmith@globex.example", "first_name": "John", "last_name": "Smith",
         "company": "Globex Corporation"},
        {"email": "bob@initech.example", "first_name": "Bob", "last_name": "Janeway"},
        {"email": "100%@pct.example"},
    )  # fmt: skip

    def search(term):
        with runtime.sessions() as session:
            return sorted(ids(list_page(session, LeadFilter(q=term), NOW)))

    assert search("JANE") == sorted([jane, bob])  # first name Jane, last name Janeway
    assert search("jane doe") == [jane]  # first and last name
    assert search("doe") == [jane]  # last name
    assert search("jsm") == [john]  # email
    assert search("globex corp") == [john]  # company name
    assert search("initech.") == [bob]  # company domain
    assert search("jane.doe@acme") == [jane]  # an address searches addresses only
    assert search("oe") == []  # the middle of a word is not searched
    assert search("100%") == [pct]
    assert search("1_0") == []  # LIKE wildcards are taken literally


def test_a_search_pages_through_every_way_of_matching_once_in_each_order(runtime):
    # Each lead matches "kim" another way (one matches every way); all are created at the
    # same instant, so the newest order is a tie broken by id. The page size is smaller
    # than what each way finds, so pages continue within and across the ways.
    made = add_leads(
        runtime,
        {"email": "kim.one@acme.example"},  # email
        {"email": "a1@acme.example", "first_name": "Kim", "last_name": "Two"},  # first name
        {"email": "a2@acme.example", "first_name": "Lee", "last_name": "Kimball"},  # last
        {"email": "kim@kimco.example", "first_name": "Kim", "last_name": "Kimura",
         "company": "Kimco"},  # every way at once
        {"email": "a3@berry.example", "company": "Kimberly Ltd"},  # company name
        {"email": "a4@kimdomain.example", "company": "Other"},  # company domain
        {"email": "kim.two@acme.example"},
        {"email": "bo@acme.example", "first_name": "Bo", "last_name": "Nokim"},  # no match
    )  # fmt: skip
    matching = made[:7]
    with runtime.sessions() as session:
        rows = session.execute(select(Lead.id, Lead.name_key).where(Lead.id.in_(matching)))
        keys = {lead_id: key for lead_id, key in rows}
    by_name = sorted(matching, key=lambda lead_id: (keys[lead_id], lead_id))
    for size in (1, 2, 3):
        assert all_pages(runtime, LeadFilter(q="kim"), size) == sorted(matching, reverse=True)
        assert all_pages(runtime, LeadFilter(q="Kim", sort="oldest"), size) == matching
        assert all_pages(runtime, LeadFilter(q="kim", sort="name"), size) == by_name
        # Nobody has scored: a tie on the score, broken by id.
        newest_first = sorted(matching, reverse=True)
        assert all_pages(runtime, LeadFilter(q="kim", sort="score"), size) == newest_first
    with transaction(runtime.sessions) as session:
        for lead_id in made[1], made[3], made[7]:
            session.get(Lead, lead_id).stage = "mql"
    with runtime.sessions() as session:
        flt = LeadFilter(q="kim", stage="mql")
        assert ids(list_page(session, flt, NOW, size=5)) == [made[3], made[1]]
        assert count_matching(session, LeadFilter(q="kim"), bound=100) == 7
        assert count_matching(session, LeadFilter(q="kim"), bound=3) == 4  # "more than 3"
        assert count_matching(session, flt, bound=100) == 2
        oldest = LeadFilter(q="kim", sort="oldest")
        assert matching_ids(session, oldest, limit=4) == matching[:4]
        assert matching_ids(session, LeadFilter(q="kim@"), limit=10) == [made[3]]


def test_filters_narrow_the_list_and_combine(runtime):
    sync_fixture_campaigns(runtime)  # enrols new leads (its trigger) from here on
    one, two, three = add_leads(
        runtime,
        {"email": "one@acme.example", "stage": "mql", "source": "webinar",
         "consent_status": "granted"},
        {"email": "two@acme.example", "stage": "lead", "source": "webinar",
         "consent_status": "granted", "lawful_basis": "consent"},
        {"email": "three@other.example", "stage": "lead", "source": "csv"},
    )  # fmt: skip
    with transaction(runtime.sessions) as session:
        rep = SalesRep(email="rep@us.example", name="Rep", working_hours="mon-fri 09:00-17:00")
        session.add(rep)
        session.flush()
        rep_id = rep.id
        session.get(Lead, one).owner_id = rep_id
        session.get(Lead, one).fit_grade = "A"
        session.get(Lead, three).temperature = "warm"
        acme = session.get(Lead, one).account_id

    def matching(**filters):
        with runtime.sessions() as session:
            return sorted(ids(list_page(session, LeadFilter(**filters), NOW)))

    assert matching(stage="lead") == [two, three]
    assert matching(stage="lead", source="webinar") == [two]
    assert matching(grade="A") == [one]
    assert matching(temperature="warm") == [three]
    assert matching(consent="unknown") == [three]
    assert matching(owner=rep_id) == [one]
    assert matching(account=acme) == [one, two]
    # The campaign's trigger enrolled the mailable lead at stage "lead" only.
    assert matching(campaign="test-drip") == [two]
    assert matching(campaign="no-such-campaign") == []
    assert matching(campaign="test-drip", source="csv") == []
    # Only an active enrolment counts.
    with transaction(runtime.sessions) as session:
        for enrollment in session.scalars(select(Enrollment).where(Enrollment.lead_id == two)):
            enrollment.status = "paused"
    assert matching(campaign="test-drip") == []


def test_counts_are_bounded_and_ids_follow_the_order(runtime):
    made = add_leads(runtime, *({"email": f"n{n}@acme.example"} for n in range(7)))
    with runtime.sessions() as session:
        assert count_matching(session, LeadFilter(), bound=100) == 7
        assert count_matching(session, LeadFilter(), bound=5) == 6  # "more than 5"
        assert matching_ids(session, LeadFilter(sort="oldest"), limit=3) == made[:3]


def test_bad_query_parameters_are_reported_and_ignored():
    flt, errors = parse_filter(
        {"stage": "boss", "account": "99999999999999999999", "q": "a" * 201, "sort": "x",
         "owner": "%00", "grade": "B"}
    )  # fmt: skip
    assert flt == LeadFilter(grade="B")
    assert set(errors) == {"stage", "account", "q", "sort", "owner"}
    assert parse_cursor("not-a-date,5", "newest") is None
    assert parse_cursor("2026-01-01T00:00:00+00:00,99999999999999999999", "newest") is None
    assert parse_cursor("nan,5", "score") is None
    assert parse_cursor("doe, jane,7", "name").key == "doe, jane"


def test_a_leads_emails_count_human_opens_and_clicks_apart_from_machine_hits(runtime):
    (lead_id,) = add_leads(runtime, {"email": "ada@acme.example"})
    with transaction(runtime.sessions) as session:
        sent = []
        for n in range(3):
            message = Message(
                lead_id=lead_id, template="welcome-guide", to_address="ada@acme.example",
                message_id=f"m{n}@test", token=f"token{n}", status="sent",
                queued_at=NOW - timedelta(days=3 - n), sent_at=NOW - timedelta(days=3 - n),
            )  # fmt: skip
            session.add(message)
            session.flush()
            sent.append(message.id)
        for message_id, kind, machine in (
            (sent[0], "email.opened", False),
            (sent[0], "email.opened", False),
            (sent[0], "email.opened", True),
            (sent[0], "email.clicked", False),
            (sent[2], "email.clicked", True),
        ):
            session.add(
                Event(lead_id=lead_id, type=kind, message_id=message_id, is_machine=machine,
                      occurred_at=NOW, recorded_at=NOW, machine_reasons=[], properties={})
            )  # fmt: skip
    with runtime.sessions() as session:
        first = messages_page(session, lead_id, size=2)
        assert [m.id for m in first.messages] == [sent[2], sent[1]]
        assert [(m.opened, m.clicked, m.machine_hits) for m in first.messages] == [
            (0, 0, 1),
            (0, 0, 0),
        ]
        rest = messages_page(session, lead_id, before=first.next_before, size=2)
        assert [(m.id, m.opened, m.clicked, m.machine_hits) for m in rest.messages] == [
            (sent[0], 2, 1, 1)
        ]
        assert rest.next_before is None


def test_the_overview_gathers_bant_lifecycle_and_campaign_positions(runtime):
    sync_fixture_campaigns(runtime)
    (lead_id,) = add_leads(
        runtime,
        {"email": "ada@acme.example", "consent_status": "granted", "stage": "lead",
         "attributes": {"budget": "approved", "need": "urgent", "seats": 8}},
    )  # fmt: skip
    with runtime.sessions() as session:
        lead = session.get(Lead, lead_id)
        overview = lead_overview(session, lead, NOW)
        campaign = session.scalar(select(Campaign.key))
    assert [(a.name, a.value) for a in overview.bant] == [
        ("budget", "approved"),
        ("authority", None),
        ("need", "urgent"),
        ("timing", None),
    ]
    assert overview.other_attributes == {"seats": 8}
    assert [(e.campaign_key, e.status, e.track) for e in overview.campaigns] == [
        (campaign, "active", "cold")
    ]
    assert overview.campaigns[0].last_action == "enrolled"
    assert overview.next_stages == ["mql", "disqualified"]
    assert overview.mailable is True


def test_one_pass_moves_the_last_activity_of_each_lead_and_never_back(app):
    runtime = app.extensions["nurture"]
    client = app.test_client()
    people = [send_message(runtime, f"p{i}@acme.example") for i in range(3)]
    future = datetime.now(UTC) + timedelta(days=1)
    with transaction(runtime.sessions) as session:
        # The third lead was active after the hits below: its activity must not go back.
        session.get(Lead, people[2].lead_id).last_activity_at = future
    for sent in people:
        client.get(sent.pixel, headers={"User-Agent": CHROME},
                   environ_base={"REMOTE_ADDR": "203.0.113.77"})  # fmt: skip
    assert process(runtime) == 3  # one pass, one statement for the three leads
    with runtime.sessions() as session:
        for sent, expected in zip(people, ("opened", "opened", "future"), strict=True):
            opened = session.scalar(
                select(Event.occurred_at).where(
                    Event.lead_id == sent.lead_id, Event.is_machine.is_(False)
                )
            )
            activity = session.get(Lead, sent.lead_id).last_activity_at
            assert activity == (opened if expected == "opened" else future)


def test_last_activity_moves_with_human_hits_and_not_with_machine_ones(app):
    runtime = app.extensions["nurture"]
    client = app.test_client()
    sent = send_message(runtime, "ada@acme.example", sent_ago=timedelta(hours=3))
    with runtime.sessions() as session:
        created = session.get(Lead, sent.lead_id).last_activity_at
    # A HEAD request (a prefetch, not a person): a machine hit, not activity.
    client.head(sent.pixel, headers={"User-Agent": CHROME})
    process(runtime)
    with runtime.sessions() as session:
        assert session.scalar(select(Event.is_machine).where(Event.lead_id == sent.lead_id))
        assert session.get(Lead, sent.lead_id).last_activity_at == created
    client.get(sent.pixel, headers={"User-Agent": CHROME},
               environ_base={"REMOTE_ADDR": "203.0.113.77"})  # fmt: skip
    process(runtime)
    with runtime.sessions() as session:
        lead = session.get(Lead, sent.lead_id)
        opened = session.scalar(
            select(Event.occurred_at).where(Event.lead_id == lead.id, Event.is_machine.is_(False))
        )
        assert lead.last_activity_at == opened > created
        page = list_page(session, LeadFilter(sort="activity"), NOW)
    assert ids(page)[0] == sent.lead_id
