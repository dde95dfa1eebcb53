"""Email and campaign results from the messages (docs/analytics.md, "Email and campaign
results"): per campaign, and per step, template, version or any of the funnel's groupings,
what happened to the emails sent in the period, and the comparison with another period or
between two versions of one campaign.

The figures read the period's messages (``messages.sent_at`` in ``[start, end)``, over the
indexes ``ix_messages_sent_at`` and ``ix_messages_campaign_id_sent_at``) with what was done
with each, kept on the message by tracking (``nurture.tracking.engagement``): a person's
first open and click, unsubscribe, bounce report and complaint, the first machine open and
scanner click, and the number of human clicks; no event is read. Conversions join each
email's enrolment: it reached the campaign's goal (``enrollments.exit_reason`` "goal
reached", or an exit step marked ``goal: true`` of the version it finished on) after the
email and before the period's end. One aggregation per side, grouped in SQL.

Only campaign email counts unless ``all_mail`` (handoff notifications, auto-replies and
other transactional mail are no campaign's results).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, and_, case, distinct, false, func, null, or_, select
from sqlalchemy.orm import Session

from nurture.analytics.campaign_rollup import answers, rolled_up_results
from nurture.analytics.email_results import (
    EMAIL_GROUPS,
    FIGURES,
    RATE_NAMES,
    Comparison,
    EmailResults,
    figure_change,
    rate_change,
)
from nurture.analytics.filters import FilterError, ReportFilter, months
from nurture.analytics.scope import campaign_keys, check_filter, month_name, scoped, uses_leads
from nurture.analytics.tables import Cell
from nurture.campaigns.drip import GOAL_REACHED
from nurture.campaigns.spec import ExitStep
from nurture.campaigns.sync import campaign_spec_for_version
from nurture.handoff.team import Team
from nurture.models import Campaign, CampaignVersion, Enrollment, Lead, Message

# A bounce whose decision was to suppress the address: it does not exist (hard).
HARD_BOUNCE_DECISION = "suppress"


@dataclass(frozen=True)
class CampaignResultsRow:
    """One campaign (None: all together, or mail of no campaign) and group: its results
    and, when compared, the baseline's."""

    campaign: str | None
    group: str | None
    results: EmailResults
    baseline: EmailResults | None = None

    def as_dict(self) -> dict[str, object]:
        """The row as plain values: figures and rates, and with a comparison the
        baseline's and the change from it."""
        body: dict[str, object] = {
            "campaign": self.campaign,
            "group": self.group,
            **self.results.figures(),
            "rates": self.results.rates(),
        }
        if self.baseline is not None:
            body["compare"] = _compared(self.results, self.baseline)
        return body


@dataclass(frozen=True)
class CampaignResultsReport:
    """The results of the emails sent in the filter's period, one row per campaign and
    group (one row in all when ungrouped)."""

    filter: ReportFilter
    rows: list[CampaignResultsRow]
    comparison: Comparison | None = None
    all_mail: bool = False

    def as_dict(self) -> dict[str, object]:
        """The report as plain values (the API's body)."""
        return {
            "filter": self.filter.as_dict(),
            "compare": self.comparison.as_dict() if self.comparison else None,
            "all_mail": self.all_mail,
            "rows": [row.as_dict() for row in self.rows],
        }


def campaign_results(
    session: Session,
    report: ReportFilter,
    comparison: Comparison | None = None,
    *,
    all_mail: bool = False,
) -> CampaignResultsReport:
    """The email and campaign results of ``report``, compared as ``comparison`` asks
    (``FilterError`` for a filter naming nothing, an unknown version, or a comparison by
    month of two periods, whose months differ)."""
    team = check_filter(session, report)
    campaign_id = None
    if report.campaign is not None:
        campaign_id = session.scalar(select(Campaign.id).where(Campaign.key == report.campaign))
    if comparison is not None and comparison.start is not None and report.group_by == "month":
        raise FilterError({"by": "two periods have different months: group by something else"})
    keys = campaign_keys(session)
    goal_steps = _goal_exit_steps(session, campaign_id)
    if comparison is not None and comparison.versions is not None:
        assert campaign_id is not None and report.campaign is not None
        baseline_version, version = _version_ids(
            session, campaign_id, report.campaign, comparison.versions
        )
        found = _results(
            session, report, team, report.start_at, report.end_at,
            campaign_id=campaign_id, version_id=version, goal_steps=goal_steps,
            all_mail=all_mail,
        )  # fmt: skip
        baseline = _results(
            session, report, team, report.start_at, report.end_at,
            campaign_id=campaign_id, version_id=baseline_version, goal_steps=goal_steps,
            all_mail=all_mail,
        )  # fmt: skip
    else:
        found = _results(
            session, report, team, report.start_at, report.end_at,
            campaign_id=campaign_id, version_id=None, goal_steps=goal_steps, all_mail=all_mail,
        )  # fmt: skip
        baseline = None
        if comparison is not None:
            assert comparison.start is not None and comparison.end is not None
            other = replace(report, start=comparison.start, end=comparison.end)
            baseline = _results(
                session, other, team, other.start_at, other.end_at,
                campaign_id=campaign_id, version_id=None, goal_steps=goal_steps,
                all_mail=all_mail,
            )  # fmt: skip
    rows = [
        CampaignResultsRow(
            campaign=keys.get(key[0]) if key[0] is not None else None,
            group=_group_name(report, key[1]),
            results=found.get(key, EmailResults()),
            baseline=baseline.get(key, EmailResults()) if baseline is not None else None,
        )
        for key in _row_keys(report, keys, found, baseline)
    ]
    return CampaignResultsReport(report, rows, comparison, all_mail)


def campaign_results_table(report: CampaignResultsReport) -> tuple[list[str], list[list[Cell]]]:
    """The report as a table: campaign, group, every figure and rate; with a comparison,
    then each figure's and rate's baseline (``baseline_<name>``) and change
    (``change_<figure>``, ``change_<figure>_relative``, ``change_<rate>_points``,
    ``change_<rate>_relative``). Rates are fractions."""
    header = ["campaign", "group", *FIGURES, *RATE_NAMES]
    compared = report.comparison is not None
    if compared:
        header += [f"baseline_{name}" for name in (*FIGURES, *RATE_NAMES)]
        for name in FIGURES:
            header += [f"change_{name}", f"change_{name}_relative"]
        for name in RATE_NAMES:
            header += [f"change_{name}_points", f"change_{name}_relative"]
    rows: list[list[Cell]] = []
    for row in report.rows:
        figures, rates = row.results.figures(), row.results.rates()
        cells: list[Cell] = [row.campaign, row.group, *figures.values(), *rates.values()]
        if compared:
            base = row.baseline or EmailResults()
            base_figures, base_rates = base.figures(), base.rates()
            cells += [*base_figures.values(), *base_rates.values()]
            for name in FIGURES:
                change = figure_change(figures[name], base_figures[name])
                cells += [change["absolute"], change["relative"]]
            for name in RATE_NAMES:
                moved = rate_change(rates[name], base_rates[name])
                cells += [moved["points"], moved["relative"]]
        rows.append(cells)
    return header, rows


def _compared(results: EmailResults, baseline: EmailResults) -> dict[str, object]:
    figures, rates = results.figures(), results.rates()
    base_figures, base_rates = baseline.figures(), baseline.rates()
    return {
        **base_figures,
        "rates": base_rates,
        "change": {
            **{name: figure_change(figures[name], base_figures[name]) for name in FIGURES},
            "rates": {name: rate_change(rates[name], base_rates[name]) for name in RATE_NAMES},
        },
    }


def _results(
    session: Session,
    report: ReportFilter,
    team: Team | None,
    start: datetime,
    end: datetime,
    *,
    campaign_id: int | None,
    version_id: int | None,
    goal_steps: list[tuple[int, str, str]],
    all_mail: bool,
) -> dict[tuple[Any, Any], EmailResults]:
    """Per (campaign id, group key): the results of the messages sent in ``[start, end)``
    (the campaign id is None when ungrouped), from the roll-up where it holds them."""
    emails = partial(
        _emails, report, team, start, end,
        campaign_id=campaign_id, version_id=version_id, all_mail=all_mail,
    )  # fmt: skip
    found = None
    if answers(report, version_id=version_id, all_mail=all_mail):
        found = rolled_up_results(
            session, report, start, end,
            campaign_id=campaign_id, version_id=version_id, team=team,
        )  # fmt: skip
    if found is None:
        found = _read_emails(report, emails, session)
    _count_conversions(session, report, emails, found, start, end, campaign_id, goal_steps)
    return found


def _read_emails(
    report: ReportFilter, emails: Any, session: Session
) -> dict[tuple[Any, Any], EmailResults]:
    """The figures read from every email of the period (what the roll-up cannot answer)."""
    rows = emails().subquery("emails")
    keys = _keys(report, rows)
    bounced = rows.c.bounce_reported_at.is_not(None)
    hard = and_(bounced, func.coalesce(rows.c.bounce_decision, "") == HARD_BOUNCE_DECISION)
    delivered_lead = case((rows.c.bounce_reported_at.is_(None), rows.c.lead_id), else_=null())
    statement = select(
        *keys,
        func.count(),
        func.sum(_when(hard)),
        func.sum(_when(and_(bounced, ~hard))),
        func.count(rows.c.opened_at),
        func.count(rows.c.machine_opened_at),
        func.count(rows.c.clicked_at),
        func.sum(rows.c.human_clicks),
        func.count(rows.c.machine_clicked_at),
        func.count(rows.c.unsubscribed_at),
        func.count(rows.c.complained_at),
        func.count(distinct(delivered_lead)),
    ).select_from(rows)
    if keys:
        statement = statement.group_by(*keys)
    names = (
        "sent", "hard_bounced", "soft_bounced", "opened", "machine_opened", "clicked",
        "clicks", "machine_clicked", "unsubscribed", "complained", "recipients",
    )  # fmt: skip
    found: dict[tuple[Any, Any], EmailResults] = {}
    for row in session.execute(statement):
        values = row[len(keys) :]
        if not values[0]:
            continue  # the one row of an empty, ungrouped aggregate
        found[_key(report, keys, row)] = EmailResults(
            **{name: int(value or 0) for name, value in zip(names, values, strict=True)}
        )
    return found


def _count_conversions(
    session: Session,
    report: ReportFilter,
    emails: Any,
    found: dict[tuple[Any, Any], EmailResults],
    start: datetime,
    end: datetime,
    campaign_id: int | None,
    goal_steps: list[tuple[int, str, str]],
) -> None:
    """Add the conversions to ``found``'s rows."""
    # Conversions: the enrolments that reached the goal in the period are few, so they are
    # counted apart, from those enrolments' emails (over the messages' enrolment index),
    # rather than by joining every email of the period to them.
    goals_query = select(Enrollment.id, Enrollment.finished_at).where(
        Enrollment.status == "completed",
        _goal(goal_steps),
        Enrollment.finished_at >= start,
        Enrollment.finished_at < end,
    )
    if campaign_id is not None:
        goals_query = goals_query.where(Enrollment.campaign_id == campaign_id)
    goals = goals_query.subquery("goals")
    reached = emails().join(
        goals,
        and_(
            goals.c.id == Message.enrollment_id,
            goals.c.finished_at >= Message.sent_at,
            Message.bounce_reported_at.is_(None),
        ),
    )
    converted = reached.subquery("converted")
    keys = _keys(report, converted)
    counted = select(*keys, func.count(distinct(converted.c.lead_id))).select_from(converted)
    if keys:
        counted = counted.group_by(*keys)
    for row in session.execute(counted):
        key = _key(report, keys, row)
        if row[-1] and key in found:
            found[key] = replace(found[key], conversions=int(row[-1]))


def _emails(
    report: ReportFilter,
    team: Team | None,
    start: datetime,
    end: datetime,
    *,
    campaign_id: int | None,
    version_id: int | None,
    all_mail: bool,
) -> Any:
    """The emails sent in ``[start, end)`` that the report counts, with what was done with
    each and, when grouped, the group (``report_group``)."""
    by = report.group_by
    # The lead filters and the funnel's groupings are scope's; the campaign filter and the
    # report's own groupings read the message (scope's campaign means enrolled leads).
    lead_scope = replace(report, campaign=None, group_by=None if by in EMAIL_GROUPS else by)
    columns: list[Any] = [
        Message.campaign_id,
        Message.lead_id,
        Message.bounce_reported_at,
        Message.bounce_decision,
        Message.opened_at,
        Message.clicked_at,
        Message.unsubscribed_at,
        Message.complained_at,
        Message.machine_opened_at,
        Message.machine_clicked_at,
        Message.human_clicks,
    ]
    emails = select(*columns).where(Message.sent_at >= start, Message.sent_at < end)
    if not all_mail:
        emails = emails.where(Message.kind == "campaign", Message.campaign_id.is_not(None))
    if campaign_id is not None:
        emails = emails.where(Message.campaign_id == campaign_id)
    if version_id is not None:
        emails = emails.where(Message.campaign_version_id == version_id)
    if uses_leads(lead_scope):
        emails = emails.join(Lead, Lead.id == Message.lead_id)
    emails, scoped_group = scoped(emails, lead_scope, team, when=Message.sent_at)
    group: Any = scoped_group
    if by == "step":
        group = Message.step_key
    elif by == "template":
        group = Message.template
    elif by == "version":
        emails = emails.outerjoin(
            CampaignVersion, CampaignVersion.id == Message.campaign_version_id
        )
        group = CampaignVersion.number
    if group is not None:
        emails = emails.add_columns(group.label("report_group"))
    return emails


def _keys(report: ReportFilter, rows: Any) -> list[Any]:
    """What the aggregate groups by: the campaign and the group, when grouped."""
    if report.group_by is None:
        return []
    return [rows.c.campaign_id, *([rows.c.report_group] if "report_group" in rows.c else [])]


def _key(report: ReportFilter, keys: list[Any], row: Any) -> tuple[Any, Any]:
    campaign = row[0] if report.group_by is not None else None
    return (campaign, row[1] if len(keys) == 2 else None)


def _when(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def _goal(goal_steps: list[tuple[int, str, str]]) -> ColumnElement[bool]:
    """SQL: the enrolment finished by reaching the goal, the campaign's ``goal:`` or an exit
    step marked ``goal: true`` (``goal_steps``: version id, track, step) — the exit reason
    of such a step is the marketer's own words, so the step is what tells it apart."""
    at_step = [
        and_(Enrollment.version_id == version, Enrollment.track == track, Enrollment.step == step)
        for version, track, step in goal_steps
    ]
    return or_(Enrollment.exit_reason == GOAL_REACHED, *at_step, false())


def _goal_exit_steps(session: Session, campaign_id: int | None) -> list[tuple[int, str, str]]:
    """The exit steps marked ``goal: true`` of every version (of the one campaign)."""
    query = select(CampaignVersion.id)
    if campaign_id is not None:
        query = query.where(CampaignVersion.campaign_id == campaign_id)
    found: list[tuple[int, str, str]] = []
    for version_id in session.scalars(query.order_by(CampaignVersion.id)):
        spec = campaign_spec_for_version(session, version_id)
        found += [
            (version_id, track.id, step.id)
            for track in spec.tracks
            for step in track.steps
            if isinstance(step, ExitStep) and step.goal
        ]
    return found


def _version_ids(
    session: Session, campaign_id: int, key: str, numbers: tuple[int, int]
) -> tuple[int, int]:
    known = dict(
        session.execute(
            select(CampaignVersion.number, CampaignVersion.id).where(
                CampaignVersion.campaign_id == campaign_id
            )
        ).all()
    )
    missing = [number for number in numbers if number not in known]
    if missing:
        raise FilterError(
            {
                "versions": f"the campaign {key!r} has no version "
                + " or ".join(str(n) for n in missing)
                + f" (it has {', '.join(str(n) for n in sorted(known)) or 'none'})"
            }
        )
    return known[numbers[0]], known[numbers[1]]


def _row_keys(
    report: ReportFilter,
    keys: dict[int, str],
    found: dict[tuple[Any, Any], EmailResults],
    baseline: dict[tuple[Any, Any], EmailResults] | None,
) -> list[tuple[Any, Any]]:
    """The rows: by campaign key (mail of no campaign last), then by group (no value last;
    every month of the period for ``month``)."""
    present = set(found) | set(baseline or {})
    if report.group_by is None:
        return [(None, None)]
    if report.group_by == "month":
        numbers = [m.year * 100 + m.month for m in months(report.start, report.end)]
        campaigns = {campaign for campaign, _ in present}
        present = {(campaign, number) for campaign in campaigns for number in numbers}

    def order(key: tuple[Any, Any]) -> tuple[Any, ...]:
        campaign, group = key
        name = keys.get(campaign, "") if campaign is not None else ""
        return (campaign is None, name, group is None, group if group is not None else 0)

    if report.group_by in ("version", "month"):
        return sorted(present, key=order)
    return sorted(present, key=lambda key: (*order(key)[:3], str(key[1] or "")))


def _group_name(report: ReportFilter, key: Any) -> str | None:
    if key is None:
        return None
    if report.group_by == "month":
        return month_name(int(key))
    if report.group_by == "version":
        return f"v{int(key)}"
    return str(key)
