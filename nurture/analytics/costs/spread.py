"""How the cost entries of a period are spread over the groups of a report (pure; the
rules of docs/analytics.md, "Cost per lead, MQL and customer").

An entry's cost in the period is shared equally by the leads it covers (counted by
``nurture.analytics.costs.report``): a group gets ``amount × covered in the group /
covered in all``. An entry that covers nobody still counts — in the group it names when
the report is grouped by what it names, else as unattributed — unless the report's filter
is one it cannot match.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from nurture.analytics.filters import ReportFilter


@dataclass(frozen=True)
class CoveredCost:
    """One entry in a report: its cost in the period, and the leads it covers — ``everyone``
    without the report's filter, ``kept`` by the filter, and ``groups`` per group of the
    report (a lead counts in each of its groups)."""

    month: str
    source: str
    campaign: str
    amount: Decimal
    everyone: int
    kept: int
    groups: Mapping[str | None, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SpreadCosts:
    """The cost of each group, of the entries that cover no lead and name nothing of the
    grouping (``unattributed``), and of the whole report (``total``)."""

    by_group: dict[str | None, Decimal]
    unattributed: Decimal
    total: Decimal


def spread_costs(entries: Iterable[CoveredCost], report: ReportFilter) -> SpreadCosts:
    """The groups' costs of ``report`` from its ``entries``."""
    by_group: dict[str | None, Decimal] = defaultdict(Decimal)
    unattributed = Decimal(0)
    total = Decimal(0)
    for entry in entries:
        if entry.everyone == 0:
            if not matches(report, entry):
                continue
            total += entry.amount
            group = named_group(report, entry)
            if report.group_by is not None and group is None:
                unattributed += entry.amount
            else:
                by_group[group] += entry.amount
            continue
        total += entry.amount * entry.kept / entry.everyone
        for group, count in entry.groups.items():
            by_group[group] += entry.amount * count / entry.everyone
    return SpreadCosts(dict(by_group), unattributed, total)


def matches(report: ReportFilter, entry: CoveredCost) -> bool:
    """Whether an entry that covers no lead belongs in a report with this filter: one
    filtered by owner, grade or segment has no room for it (it has no such leads), one
    filtered by a source or campaign only for an entry naming that one."""
    if report.owner is not None or report.grade is not None or report.segment is not None:
        return False
    if report.source is not None and report.source != entry.source:
        return False
    return report.campaign is None or report.campaign == entry.campaign


def named_group(report: ReportFilter, entry: CoveredCost) -> str | None:
    """The group an entry names itself under the report's grouping (None if none)."""
    if report.group_by == "source":
        return entry.source or None
    if report.group_by == "campaign":
        return entry.campaign or None
    if report.group_by == "month":
        return entry.month
    return None
