"""The drip rules: what an enrolment does next, given the lead and the clock."""

from datetime import UTC, datetime, time, timedelta

from nurture.campaigns.drip import (
    BACK_TO_BACK_GAP,
    MAX_STEPS_PER_PASS,
    Defaults,
    LeadFacts,
    Position,
    advance,
    evaluate,
)
from nurture.campaigns.spec import (
    BranchStep,
    Campaign,
    Clicked,
    EventSeen,
    ExitStep,
    FrequencyCap,
    Opened,
    SendStep,
    SendWindow,
    StageIn,
    TemperatureIn,
    Track,
    WaitStep,
)
from nurture.leads.stages import SALES_STAGES

ANY_TIME = SendWindow(days=frozenset(range(7)), start=time(0), end=time.max)
DEFAULTS = Defaults(send_window=ANY_TIME, frequency_cap=FrequencyCap(10, timedelta(days=1)))
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday


def campaign(**overrides):
    values = dict(
        id="nurture",
        name="Nurture",
        tracks=(
            Track(
                "cold",
                (
                    SendStep("intro", "welcome-guide"),
                    WaitStep("pause", duration=timedelta(days=3)),
                    BranchStep("opened?", Opened("intro"), then="report", otherwise="tips"),
                    SendStep("tips", "cold-five-mistakes"),
                    ExitStep("stop", "tips sent"),
                    SendStep("report", "cold-benchmark-report"),
                ),
                temperatures=frozenset({"cold"}),
            ),
            Track(
                "warm",
                (
                    SendStep("intro", "welcome-guide"),
                    SendStep("case", "warm-case-study"),
                    WaitStep("pause", duration=timedelta(days=2)),
                    SendStep("roi", "warm-roi-checklist"),
                ),
                temperatures=frozenset({"warm", "hot"}),
            ),
        ),
        exit_rules=(("reached sales", StageIn(SALES_STAGES)),),
        goal=EventSeen("demo.requested"),
    )
    values.update(overrides)
    return Campaign(**values)


def facts(**overrides):
    values = dict(stage="lead", temperature="cold")
    values.update(overrides)
    return LeadFacts(**values)


def start():
    return Position(track="cold", step=None)


def test_new_enrolment_sends_first_email_and_starts_the_wait():
    decision = advance(campaign(), start(), facts(), NOW, DEFAULTS)
    assert decision.send.template == "welcome-guide"
    assert decision.send.key == "cold/intro"
    assert decision.position.step == "pause"
    assert decision.next_due_at == NOW + timedelta(days=3)
    assert decision.status == "active"


def test_wait_not_over_does_nothing():
    position = Position("cold", "pause", NOW)
    decision = advance(
        campaign(),
        position,
        facts(sent_templates={"welcome-guide"}),
        NOW + timedelta(days=1),
        DEFAULTS,
    )
    assert decision.send is None
    assert decision.next_due_at == NOW + timedelta(days=3)


def test_branch_on_opened_chooses_the_report():
    position = Position("cold", "pause", NOW)
    later = NOW + timedelta(days=3)
    opened = advance(
        campaign(),
        position,
        facts(sent_templates={"welcome-guide"}, opened_steps={"intro"}),
        later,
        DEFAULTS,
    )
    assert opened.send.template == "cold-benchmark-report"
    not_opened = advance(
        campaign(), position, facts(sent_templates={"welcome-guide"}), later, DEFAULTS
    )
    assert not_opened.send.template == "cold-five-mistakes"


def test_exit_step_ends_the_enrolment_with_its_reason():
    position = Position("cold", "stop")
    decision = advance(campaign(), position, facts(), NOW, DEFAULTS)
    assert decision.status == "completed"
    assert decision.exit_reason == "tips sent"
    assert decision.next_due_at is None


def test_end_of_track_completes():
    position = Position("cold", "report")
    decision = advance(
        campaign(),
        position,
        facts(sent_templates={"welcome-guide", "cold-benchmark-report"}),
        NOW,
        DEFAULTS,
    )
    assert decision.status == "completed"
    assert decision.send is None


def test_track_switch_when_lead_warms_up_skips_emails_already_received():
    position = Position("cold", "pause", NOW)
    warm = facts(temperature="warm", sent_templates={"welcome-guide"})
    decision = advance(campaign(), position, warm, NOW + timedelta(hours=1), DEFAULTS)
    assert decision.position.track == "warm"
    # warm/intro is the welcome guide the lead already has: the case study goes instead.
    assert decision.send.template == "warm-case-study"
    actions = [entry.action for entry in decision.history]
    assert actions[:3] == ["switched", "skipped", "sent"]


def test_one_email_per_pass_next_send_left_due_now():
    decision = advance(
        campaign(),
        Position("warm", "case"),
        facts(temperature="warm", sent_templates={"welcome-guide"}),
        NOW,
        DEFAULTS,
    )
    assert decision.send.template == "warm-case-study"
    assert decision.position.step == "pause"
    assert decision.next_due_at == NOW + timedelta(days=2)
    back_to_back = advance(
        campaign(), Position("warm", "intro"), facts(temperature="warm"), NOW, DEFAULTS
    )
    assert back_to_back.send.template == "welcome-guide"
    assert back_to_back.position.step == "case"
    assert back_to_back.next_due_at == NOW + BACK_TO_BACK_GAP


def test_closed_send_window_defers_in_the_lead_timezone():
    office_hours = SendWindow(days=frozenset(range(5)), start=time(9), end=time(17))
    tokyo = facts(timezone="Asia/Tokyo")  # 10:00 UTC is 19:00 in Tokyo
    decision = advance(campaign(send_window=office_hours), start(), tokyo, NOW, DEFAULTS)
    assert decision.send is None
    assert decision.next_due_at == datetime(2026, 11, 25, 0, 0, tzinfo=UTC)  # 09:00 Tokyo
    assert decision.history[-1].detail["reason"] == "outside send window"


def test_frequency_cap_across_campaigns_defers_until_room():
    cap = FrequencyCap(2, timedelta(days=7))
    recent = (NOW - timedelta(days=6), NOW - timedelta(days=1))
    decision = advance(
        campaign(frequency_cap=cap), start(), facts(recent_sends=recent), NOW, DEFAULTS
    )
    assert decision.send is None
    assert decision.next_due_at == NOW + timedelta(days=1)


def test_stage_reaching_sales_exits():
    decision = advance(campaign(), start(), facts(stage="mql"), NOW, DEFAULTS)
    assert decision.status == "exited"
    assert decision.exit_reason == "reached sales"
    assert decision.send is None


def test_unsubscribed_lead_exits_without_email():
    decision = advance(campaign(), start(), facts(mailable=False), NOW, DEFAULTS)
    assert (decision.status, decision.exit_reason, decision.send) == (
        "exited",
        "unsubscribed",
        None,
    )


def test_goal_event_completes_as_conversion():
    decision = advance(
        campaign(),
        start(),
        facts(events={"demo.requested": NOW - timedelta(hours=1)}),
        NOW,
        DEFAULTS,
    )
    assert decision.status == "completed"
    assert decision.goal is True


def test_no_matching_track_exits():
    only_hot = campaign(
        tracks=(Track("hot", (SendStep("a", "hot-demo-invite"),), temperatures=frozenset({"hot"})),)
    )
    decision = advance(only_hot, Position("hot", None), facts(), NOW, DEFAULTS)
    assert decision.status == "exited"
    assert decision.exit_reason == "no track matches the lead"


def test_branch_loop_without_wait_is_stopped_not_spun():
    looping = campaign(
        tracks=(
            Track(
                "cold",
                (
                    BranchStep("a", TemperatureIn(frozenset({"cold"})), then="b"),
                    BranchStep("b", TemperatureIn(frozenset({"cold"})), then="a"),
                ),
            ),
        )
    )
    decision = advance(looping, start(), facts(), NOW, DEFAULTS)
    assert decision.status == "exited"
    assert "loops" in decision.exit_reason
    assert len(decision.history) <= MAX_STEPS_PER_PASS + 2


def test_clicked_condition_matches_url_fragment():
    lead = facts(clicked={"intro": frozenset({"https://brightpath.example/pricing?x=1"})})
    assert evaluate(Clicked("intro"), lead, NOW)
    assert evaluate(Clicked("intro", "pricing"), lead, NOW)
    assert not evaluate(Clicked("intro", "careers"), lead, NOW)
    assert not evaluate(Clicked("other"), lead, NOW)


def test_event_within_window():
    lead = facts(events={"webinar.attended": NOW - timedelta(days=10)})
    assert evaluate(EventSeen("webinar.attended"), lead, NOW)
    assert not evaluate(EventSeen("webinar.attended", timedelta(days=7)), lead, NOW)
