"""Attribution of won revenue to the touches before each win (docs/analytics.md,
"Attribution"); the rules that share a deal are ``attribution_rules``'.

A deal is a handoff won in the period ``[from, to)`` (``outcome_at``) with its value. Its
touches are the won lead's own (contact-level attribution), within the look-back before
the win: human clicks on campaign emails, page views and form submissions (machine hits
are never touches), and the lead's creation under its source. A deal with no touch is
credited to ``(no touch)``. Deals in a currency other than the report's are counted apart
and not shared (no exchange rate is known).

The filters are the funnel's, applied to the deal's lead; the grouping (``--by``) is the
touch's campaign, source or channel.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.analytics.attribution_rules import (
    DEFAULT_LOOKBACK_DAYS,
    MAX_LOOKBACK_DAYS,
    MODELS,
    NO_TOUCH,
    Touch,
    credits,
    group_of,
    in_window,
    url_source,
    weights,
)
from nurture.analytics.clv import ERASED, report_currency
from nurture.analytics.clv_rules import ZERO, money
from nurture.analytics.filters import FilterError, ReportFilter
from nurture.analytics.scope import check_filter, scoped
from nurture.handoff.team_sync import active_team
from nurture.models import Account, Campaign, Event, Handoff, Lead, Message

ATTRIBUTION_BY: tuple[str, ...] = ("campaign", "source", "channel")
# The events that are touches when a human made them, and their channel.
TOUCH_EVENTS: dict[str, str] = {
    "email.clicked": "email",
    "page.viewed": "page",
    "form.submitted": "form",
}
_CHUNK = 500


@dataclass(frozen=True)
class Deal:
    """A won deal and its touches in time order (empty: no touch)."""

    handoff_id: int
    lead_id: int
    won_at: datetime
    value: Decimal
    currency: str
    touches: list[Touch]


@dataclass(frozen=True)
class AttributionRow:
    """One group: the deals it touched and the revenue credited to it under each model."""

    group: str | None
    deals: int
    revenue: dict[str, Decimal]

    def as_dict(self) -> dict[str, object]:
        """The row as plain values (amounts as exact strings)."""
        return {
            "group": self.group,
            "deals": self.deals,
            "revenue": {model: money(amount) for model, amount in self.revenue.items()},
        }


@dataclass(frozen=True)
class AttributionReport:
    """The won revenue of the period shared among its touches, per group and model."""

    filter: ReportFilter
    currency: str
    models: tuple[str, ...]
    lookback_days: int
    deals: int
    revenue: Decimal
    rows: list[AttributionRow]
    other_currencies: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """The report as plain values (the API's body)."""
        return {
            "filter": self.filter.as_dict(),
            "currency": self.currency,
            "models": list(self.models),
            "lookback_days": self.lookback_days,
            "deals": self.deals,
            "revenue": money(self.revenue),
            "rows": [row.as_dict() for row in self.rows],
            "other_currencies": self.other_currencies,
        }


@dataclass(frozen=True)
class DealCredit:
    """One deal explained: its touches in order with each model's share and amount."""

    handoff_id: int
    lead: str
    account: str | None
    won_at: datetime
    value: Decimal
    currency: str
    models: tuple[str, ...]
    lookback_days: int
    touches: list[Touch]
    shares: dict[str, list[float]]
    amounts: dict[str, list[Decimal]]

    def as_dict(self) -> dict[str, object]:
        """The explanation as plain values (the API's body for ``?deal=``)."""
        touches: list[Touch | None] = [*self.touches] or [None]
        return {
            "deal": self.handoff_id,
            "lead": self.lead,
            "account": self.account,
            "won_at": _iso(self.won_at),
            "value": money(self.value),
            "currency": self.currency,
            "models": list(self.models),
            "lookback_days": self.lookback_days,
            "touches": [
                {
                    "at": None if touch is None else _iso(touch.at),
                    "channel": NO_TOUCH if touch is None else touch.channel,
                    "campaign": None if touch is None else touch.campaign,
                    "step": None if touch is None else touch.step,
                    "source": None if touch is None else touch.source,
                    "share": {model: self.shares[model][i] for model in self.models},
                    "amount": {model: money(self.amounts[model][i]) for model in self.models},
                }
                for i, touch in enumerate(touches)
            ],
        }


def parse_models(text: str | None) -> tuple[str, ...]:
    """``--model``: one of ``MODELS`` or ``all`` (the default); ``FilterError`` naming it."""
    value = (text or "all").strip().lower()
    if value == "all":
        return MODELS
    if value in MODELS:
        return (value,)
    raise FilterError({"model": f"unknown model {value[:40]!r}: use {', '.join(MODELS)} or all"})


def parse_lookback(text: str | int | None) -> int:
    """``--lookback`` in days (default 365, at most 3660); ``FilterError`` naming it."""
    if text is None or text == "":
        return DEFAULT_LOOKBACK_DAYS
    value = str(text).strip()
    if not value.isdigit() or not 1 <= int(value) <= MAX_LOOKBACK_DAYS:
        raise FilterError(
            {"lookback": f"{value[:40]!r} is not a number of days from 1 to {MAX_LOOKBACK_DAYS}"}
        )
    return int(value)


def parse_deal(text: str | int | None) -> int | None:
    """``--deal``: a handoff id, or None; ``FilterError`` naming it."""
    if text is None or text == "":
        return None
    value = str(text).strip()
    if not value.isdigit() or len(value) > 12:
        raise FilterError({"deal": f"{value[:40]!r} is not a handoff id"})
    return int(value)


def attribution_report(
    session: Session,
    report: ReportFilter,
    *,
    models: tuple[str, ...] = MODELS,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    currency: str | None = None,
) -> AttributionReport:
    """The revenue of the deals won in ``report``'s period credited to their touches'
    campaign, source or channel (``report.group_by``) under each of ``models``."""
    team = check_filter(session, report)
    code = report_currency(team, currency)
    statement = _won_deals().where(
        Handoff.outcome_at >= report.start_at, Handoff.outcome_at < report.end_at
    )
    statement, _ = scoped(statement, replace(report, group_by=None), team, when=Handoff.outcome_at)
    deals = _deals(session, statement, lookback_days, code)
    revenue: dict[str | None, dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(models, ZERO))
    touched: dict[str | None, int] = defaultdict(int)
    other: dict[str, dict[str, Any]] = {}
    total = ZERO
    counted = 0
    for deal in deals:
        if deal.currency != code:
            apart = other.setdefault(deal.currency, {"deals": 0, "revenue": ZERO})
            apart["deals"] += 1
            apart["revenue"] += deal.value
            continue
        counted += 1
        total += deal.value
        touches: Sequence[Touch | None] = deal.touches or [None]
        for group in {group_of(touch, report.group_by) for touch in touches}:
            touched[group] += 1
        for model in models:
            shares = credits(model, deal.value, len(touches))
            for touch, amount in zip(touches, shares, strict=True):
                revenue[group_of(touch, report.group_by)][model] += amount
    if report.group_by is None:
        order: list[str | None] = [None]
    else:
        found = set(revenue)
        named = sorted(g for g in found if g is not None and g != NO_TOUCH)
        order = [*named, *(g for g in (NO_TOUCH, None) if g in found)]
    rows = [AttributionRow(group, touched.get(group, 0), dict(revenue[group])) for group in order]
    others = {
        currency_code: {"deals": figures["deals"], "revenue": money(figures["revenue"])}
        for currency_code, figures in sorted(other.items())
    }
    return AttributionReport(report, code, models, lookback_days, counted, total, rows, others)


def explain_deal(
    session: Session,
    handoff_id: int,
    *,
    models: tuple[str, ...] = MODELS,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
) -> DealCredit:
    """One won deal's touches in order with each model's share and amount (in the deal's
    own currency); ``FilterError`` naming ``deal`` when it is not a won deal."""
    statement = _won_deals().where(Handoff.id == handoff_id)
    # A deal's currency is recorded with its value; one without a value is a deal of
    # nothing, shown in the currency deals default to.
    found = _deals(session, statement, lookback_days, report_currency(active_team(session), None))
    if not found:
        raise FilterError({"deal": f"handoff {handoff_id} is not a won deal"})
    deal = found[0]
    row = session.execute(
        select(Lead.email, Lead.erased_at, Account.domain, Account.name)
        .select_from(Lead)
        .outerjoin(Account, Account.id == Lead.account_id)
        .where(Lead.id == deal.lead_id)
    ).one()
    count = max(len(deal.touches), 1)
    return DealCredit(
        handoff_id=deal.handoff_id,
        lead=ERASED if row.erased_at is not None else row.email,
        account=row.domain or row.name,
        won_at=deal.won_at,
        value=deal.value,
        currency=deal.currency,
        models=models,
        lookback_days=lookback_days,
        touches=deal.touches,
        shares={model: [float(w) for w in weights(model, count)] for model in models},
        amounts={model: credits(model, deal.value, count) for model in models},
    )


def attribution_table(
    report: AttributionReport,
) -> tuple[list[str], list[list[str | int | float | None]]]:
    """The groups: deals touched and the revenue credited under each model."""
    header = ["group", "deals", *(f"{model}_{report.currency.lower()}" for model in report.models)]
    rows: list[list[str | int | float | None]] = [
        [row.group, row.deals, *(money(row.revenue[model]) for model in report.models)]
        for row in report.rows
    ]
    return header, rows


def deal_table(credit: DealCredit) -> tuple[list[str], list[list[str | int | float | None]]]:
    """One deal's touches in order: when, channel, campaign, step, source, then each
    model's share (a fraction) and amount."""
    header = ["at", "channel", "campaign", "step", "source"]
    for model in credit.models:
        header += [f"{model}_share", f"{model}_{credit.currency.lower()}"]
    rows: list[list[str | int | float | None]] = []
    touches: list[Touch | None] = [*credit.touches] or [None]
    for i, touch in enumerate(touches):
        cells: list[str | int | float | None] = (
            [None, NO_TOUCH, None, None, None]
            if touch is None
            else [_iso(touch.at), touch.channel, touch.campaign, touch.step, touch.source]
        )
        for model in credit.models:
            cells += [credit.shares[model][i], money(credit.amounts[model][i])]
        rows.append(cells)
    return header, rows


def _won_deals() -> Any:
    """The won handoffs with their lead's source and creation (``leads`` in the FROM, for
    ``scope``)."""
    return (
        select(
            Handoff.id,
            Handoff.lead_id,
            Handoff.outcome_at,
            Handoff.deal_value,
            Handoff.deal_currency,
            Lead.source,
            Lead.created_at,
        )
        .select_from(Handoff)
        .join(Lead, Lead.id == Handoff.lead_id)
        .where(Handoff.outcome == "won", Handoff.outcome_at.is_not(None))
    )


def _deals(session: Session, statement: Any, lookback_days: int, currency: str) -> list[Deal]:
    """The deals of ``statement`` (``_won_deals`` narrowed) with their touches."""
    rows = session.execute(statement.order_by(Handoff.outcome_at, Handoff.id)).all()
    events = _events(session, {row.lead_id for row in rows})
    deals = []
    for row in rows:
        touches = [
            touch
            for touch in events.get(row.lead_id, [])
            if in_window(touch.at, row.outcome_at, lookback_days)
        ]
        if row.source and in_window(row.created_at, row.outcome_at, lookback_days):
            touches.append(Touch(row.created_at, "source", source=row.source))
        # Stable: a touch at the same moment as the creation stays before it.
        touches.sort(key=lambda touch: touch.at)
        deals.append(
            Deal(
                handoff_id=row.id,
                lead_id=row.lead_id,
                won_at=row.outcome_at,
                # A deal won without a value counts as a deal of nothing (no revenue lost).
                value=row.deal_value if row.deal_value is not None else ZERO,
                currency=(row.deal_currency or currency).upper(),
                touches=touches,
            )
        )
    return deals


def _events(session: Session, lead_ids: set[int]) -> dict[int, list[Touch]]:
    """Every human touch event of the leads, in time order, as touches."""
    found: dict[int, list[Touch]] = defaultdict(list)
    ids = sorted(lead_ids)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        # A click event names its campaign; older ones only through their message.
        campaign_id = func.coalesce(Event.campaign_id, Message.campaign_id)
        query = (
            select(
                Event.lead_id,
                Event.type,
                Event.occurred_at,
                Campaign.key,
                func.coalesce(Event.step_key, Message.step_key),
                Event.properties,
                Lead.source,
            )
            .select_from(Event)
            .join(Lead, Lead.id == Event.lead_id)
            .outerjoin(Message, Message.id == Event.message_id)
            .outerjoin(Campaign, Campaign.id == campaign_id)
            .where(
                Event.lead_id.in_(chunk),
                Event.is_machine.is_(False),
                Event.type.in_(tuple(TOUCH_EVENTS)),
            )
            .order_by(Event.lead_id, Event.occurred_at, Event.id)
        )
        for lead_id, kind, at, campaign, step, properties, source in session.execute(query):
            url = (properties or {}).get("url")
            found[lead_id].append(
                Touch(
                    at=at,
                    channel=TOUCH_EVENTS[kind],
                    campaign=campaign if kind == "email.clicked" else None,
                    step=step if kind == "email.clicked" else None,
                    source=url_source(url if isinstance(url, str) else None) or source,
                )
            )
    return found


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
