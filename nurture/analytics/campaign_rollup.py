"""The campaign results read from their roll-up (``nurture.analytics.email_rollup``) instead
of every email of the period: the same figures (``email_results``), from a few rows per
campaign, group and day.

The roll-up answers the report for campaign email only, when no lead filter narrows it
(source, owner, grade, segment): ungrouped or by campaign, step, template, version,
month, or a lead group (source, owner, grade, segment: the sums per campaign, day and
the leads' groups as they are now); with a version compared, ungrouped or by campaign.
Otherwise (``answers`` is False) the report reads the messages, and so it does by a lead
group while the roll-up's groups were computed with segments other than the active sales
team's (``lead_groups.groups_ready``: the worker's next pass recomputes them).

The sums hold every lead's emails as the worker's roll-up pass last read them; the leads
queued since (``email_rollup_queue``) are rolled up here too, in memory, from their
messages (``lead_changes``: the pass's own arithmetic), so the figures are those of a
full recomputation at the moment of reading. While a report reads, it holds the roll-up's
lock shared: a pass cannot move leads from the queue into the sums between its reads.
With more than ``PENDING_LIMIT`` leads queued (a worker stopped for long) the report
reads the messages instead (``rolled_up_results`` returns None).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from nurture.analytics.email_results import EmailResults
from nurture.analytics.email_rollup import (
    DAY_KEY,
    ROLLUP_LOCK,
    SUMS,
    LeadChanges,
    day_of,
    lead_changes,
)
from nurture.analytics.filters import ReportFilter
from nurture.analytics.lead_groups import GROUP_KINDS, groups_ready
from nurture.handoff.team import Team
from nurture.models import (
    CampaignEmailDay,
    CampaignGroupDay,
    CampaignRecipientDay,
    CampaignVersion,
    EmailRollupQueue,
)
from nurture.platform.db import serialize_within

# The groupings the roll-up answers, beside none.
ROLLED_UP_GROUPS: tuple[str, ...] = (
    "campaign", "step", "template", "version", "month", *GROUP_KINDS,
)  # fmt: skip
# Queued leads above which rolling them up in memory would cost about as much as reading
# every email of a year (measured on the 1 M-lead benchmark database: 0.3–0.8 ms a queued
# lead, against 1.3–3 s for the year's emails; docs/benchmarks.md).
PENDING_LIMIT = 1_000
# How long a report waits for the worker's pass to let go of the roll-up (one batch of the
# pass takes about a second on the 1M-lead benchmark database).
LOCK_WAIT_SECONDS = 3.0

Key = tuple[Any, Any]


def answers(report: ReportFilter, *, version_id: int | None, all_mail: bool) -> bool:
    """Whether the roll-up holds the report's figures (see the module)."""
    filtered = (report.source, report.owner, report.grade, report.segment)
    if all_mail or any(value is not None for value in filtered):
        return False
    if version_id is not None:
        return report.group_by in (None, "campaign")
    return report.group_by is None or report.group_by in ROLLED_UP_GROUPS


def rolled_up_results(
    session: Session,
    report: ReportFilter,
    start: datetime,
    end: datetime,
    *,
    campaign_id: int | None,
    version_id: int | None,
    team: Team | None,
) -> dict[Key, EmailResults] | None:
    """Per (campaign id, group key), as ``campaign_results`` keys them: the results of the
    campaign emails sent in ``[start, end)`` (whole UTC days), without conversions; None
    when too many leads are queued, or the lead groups follow other segments than
    ``team``'s (see the module)."""
    if not serialize_within(session, ROLLUP_LOCK, LOCK_WAIT_SECONDS, shared=True):
        # A pass holds it longer than one batch: the lead groups' rebuild, minutes on a
        # large instance. The emails give the same figures meanwhile.
        return None
    if report.group_by in GROUP_KINDS and not groups_ready(session, team):
        return None
    queued = list(
        session.scalars(select(EmailRollupQueue.lead_id).distinct().limit(PENDING_LIMIT + 1))
    )
    if len(queued) > PENDING_LIMIT:
        return None
    changes = lead_changes(session, sorted(queued), team)
    numbers = _version_numbers(session) if report.group_by == "version" else {}
    view = _View(report.group_by, day_of(start.date()), day_of(end.date()), campaign_id,
                 version_id, numbers)  # fmt: skip
    sums = view.stored_sums(session)
    for key, delta in view.day_changes(changes):
        sums[key].update(delta)
    recipients = view.stored_recipients(session)
    recipients.update(view.recipient_changes(changes))
    found: dict[Key, EmailResults] = {}
    for key, figures in sums.items():
        if figures["sent"]:
            found[key] = EmailResults(**{name: figures[name] for name in SUMS},
                                      recipients=recipients[key])  # fmt: skip
    return found


class _View:
    """One report's reading of the roll-up: its days, campaign, version and grouping,
    applied alike to the stored sums (in SQL) and to the queued leads' changes."""

    def __init__(
        self,
        by: str | None,
        first: int,
        after: int,
        campaign_id: int | None,
        version_id: int | None,
        numbers: dict[int, int],
    ) -> None:
        self.by, self.first, self.after = by, first, after
        self.campaign_id, self.version_id, self.numbers = campaign_id, version_id, numbers
        # The chain of distinct recipients the grouping counts in.
        own = {"step", "template", "version", *GROUP_KINDS}
        self.chain = (by if by in own else None) or (
            "campaign" if by is not None or campaign_id is not None else "all"
        )
        if version_id is not None:
            self.chain = "version"

    def key(self, campaign_id: int, group: Any, day: int) -> Key:
        """The report's key of a row of ``campaign_id``, group value and day."""
        if self.by is None:
            return (None, None)
        if self.by == "campaign":
            return (campaign_id, None)
        if self.by == "month":
            return (campaign_id, day // 100)
        if self.by == "step" or self.by in GROUP_KINDS:
            return (campaign_id, group or None)
        if self.by == "version":
            return (campaign_id, self.numbers.get(int(group)))
        return (campaign_id, group)

    def stored_sums(self, session: Session) -> defaultdict[Key, Counter[str]]:
        """The stored sums per key (the sums of ``campaign_email_days``)."""
        if self.by in GROUP_KINDS:
            return self._stored_group_sums(session)
        days = CampaignEmailDay
        group: Any = {
            "step": days.step_key, "template": days.template, "version": days.version_id,
            "month": days.day // 100,
        }.get(self.by or "")  # fmt: skip
        keys: list[Any] = [] if self.by is None else [days.campaign_id]
        if group is not None:
            keys.append(group)
        statement = select(*keys, *(func.sum(days.__table__.c[name]) for name in SUMS)).where(
            days.day >= self.first, days.day < self.after
        )
        if self.campaign_id is not None:
            statement = statement.where(days.campaign_id == self.campaign_id)
        if self.version_id is not None:
            statement = statement.where(days.version_id == self.version_id)
        if keys:
            statement = statement.group_by(*keys)
        found: defaultdict[Key, Counter[str]] = defaultdict(Counter)
        for row in session.execute(statement):
            values = row[len(keys) :]
            if not values[0]:
                continue  # the one row of an empty, ungrouped aggregate
            campaign = row[0] if keys else 0
            value = row[1] if len(keys) == 2 else None
            # By month the group is the month already: any day of it gives the same key.
            day = int(value or 0) * 100 + 1 if self.by == "month" else 0
            found[self.key(campaign, value, day)].update(
                {name: int(v or 0) for name, v in zip(SUMS, values, strict=True)}
            )
        return found

    def _stored_group_sums(self, session: Session) -> defaultdict[Key, Counter[str]]:
        """The stored sums per campaign and lead group (``campaign_group_days``)."""
        days = CampaignGroupDay
        statement = (
            select(days.campaign_id, days.value, *(func.sum(days.__table__.c[n]) for n in SUMS))
            .where(days.kind == self.by, days.day >= self.first, days.day < self.after)
            .group_by(days.campaign_id, days.value)
        )
        if self.campaign_id is not None:
            statement = statement.where(days.campaign_id == self.campaign_id)
        found: defaultdict[Key, Counter[str]] = defaultdict(Counter)
        for campaign, value, *values in session.execute(statement):
            found[self.key(campaign, value, 0)].update(
                {name: int(v or 0) for name, v in zip(SUMS, values, strict=True)}
            )
        return found

    def day_changes(self, changes: LeadChanges) -> Iterable[tuple[Key, Counter[str]]]:
        """The queued leads' changes of the sums, per key."""
        if self.by in GROUP_KINDS:
            for (kind, value, campaign_id, day), delta in changes.groups.items():
                if kind != self.by or not self.first <= day < self.after:
                    continue
                if self.campaign_id is None or campaign_id == self.campaign_id:
                    yield self.key(campaign_id, value, day), delta
            return
        for values, delta in changes.days.items():
            row = dict(zip(DAY_KEY, values, strict=True))
            if not self.first <= row["day"] < self.after:
                continue
            if self.campaign_id is not None and row["campaign_id"] != self.campaign_id:
                continue
            if self.version_id is not None and row["version_id"] != self.version_id:
                continue
            group = {"step": row["step_key"], "template": row["template"],
                     "version": row["version_id"]}.get(self.by or "")  # fmt: skip
            yield self.key(row["campaign_id"], group, row["day"]), delta

    def stored_recipients(self, session: Session) -> Counter[Key]:
        """Distinct recipients per key: each lead counts on its first delivered day of the
        group in the period, the one whose previous day in the group is before the period
        (or before the month, by month)."""
        chains = CampaignRecipientDay
        starts: ColumnElement[bool] = chains.prev_day < self.first
        group: Any = chains.group_key
        if self.by == "month":
            # prev_day < max(first, the month's first day): the month is a period of its own.
            starts = or_(starts, chains.prev_day <= chains.day - chains.day % 100)
            group = chains.day // 100
        keys: list[Any] = []
        if self.by is not None:
            keys = [chains.campaign_id, *([group] if self.by != "campaign" else [])]
        statement = select(*keys, func.sum(chains.recipients)).where(
            chains.chain == self.chain, chains.day >= self.first, chains.day < self.after, starts
        )
        if self.campaign_id is not None:
            statement = statement.where(chains.campaign_id == self.campaign_id)
        if self.version_id is not None:
            statement = statement.where(chains.group_key == str(self.version_id))
        if keys:
            statement = statement.group_by(*keys)
        found: Counter[Key] = Counter()
        for row in session.execute(statement):
            campaign = row[0] if keys else 0
            value = row[1] if len(keys) == 2 else None
            day = int(value or 0) * 100 + 1 if self.by == "month" else 0
            found[self.key(campaign, value, day)] += int(row[-1] or 0)
        return found

    def recipient_changes(self, changes: LeadChanges) -> Counter[Key]:
        """The queued leads' changes of the distinct recipients, per key."""
        found: Counter[Key] = Counter()
        for (chain, campaign_id, group, day, prev_day), delta in changes.recipients.items():
            if chain != self.chain or not self.first <= day < self.after:
                continue
            month_start = self.by == "month" and prev_day <= day - day % 100
            if not (prev_day < self.first or month_start):
                continue
            if self.campaign_id is not None and campaign_id != self.campaign_id:
                continue
            if self.version_id is not None and group != str(self.version_id):
                continue
            found[self.key(campaign_id, group, day)] += delta
        return found


def _version_numbers(session: Session) -> dict[int, int]:
    """Each campaign version's number by its id (0, no version, has none)."""
    return {
        int(i): int(n)
        for i, n in session.execute(select(CampaignVersion.id, CampaignVersion.number))
    }
