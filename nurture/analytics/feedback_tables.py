"""The sales feedback report as tables (pure), in the shape of ``nurture.analytics.tables``:
a header and rows of plain values, for the CLI's table and CSV and the dashboard's export.
Rates and shares are fractions (0.4), None where nothing was decided or recycled."""

from __future__ import annotations

from nurture.analytics.definitions import WINDOWS
from nurture.analytics.feedback import FeedbackReport
from nurture.analytics.tables import Cell

FEEDBACK_HEADER: tuple[str, ...] = (
    "group",
    "offered",
    "accepted",
    "rejected",
    "waiting",
    "acceptance_rate",
    "decided_with_sla",
    "decided_in_sla",
    "sla_rate",
    "recycled",
    "back_as_mql",
    *(f"back_as_mql_{days}d" for days in WINDOWS),
    "comeback_rate",
)


def feedback_table(report: FeedbackReport) -> tuple[list[str], list[list[Cell]]]:
    """One row per group: the offers and verdicts, the SLA, the recycled leads and how
    many came back as MQL (by now, within each window)."""
    rows: list[list[Cell]] = []
    for row in report.rows:
        back = row.back_as_mql
        rows.append(
            [
                row.group,
                row.offered,
                row.accepted,
                row.rejected,
                row.waiting,
                row.acceptance_rate,
                row.decided_with_sla,
                row.decided_in_sla,
                row.sla_rate,
                row.recycled,
                back.by_now,
                *(back.within[days] for days in WINDOWS),
                row.comeback_rate,
            ]
        )
    return list(FEEDBACK_HEADER), rows


def feedback_reasons_table(report: FeedbackReport) -> tuple[list[str], list[list[Cell]]]:
    """The rejection reasons over time: group, month of the decision, reason, its label in
    the sales team file, count, share of the month's rejections (in the group)."""
    header = ["group", "month", "reason", "label", "count", "share"]
    rows: list[list[Cell]] = [
        [row.group, row.month, row.reason, row.label, row.count, row.share]
        for row in report.reasons
    ]
    return header, rows


def feedback_notes_table(report: FeedbackReport) -> tuple[list[str], list[list[Cell]]]:
    """The rejection notes of the period (empty unless the report was asked for them)."""
    header = ["decided_at", "group", "reason", "campaign", "rule_version", "note"]
    rows: list[list[Cell]] = [
        [
            note.decided_at.isoformat().replace("+00:00", "Z"),
            note.group,
            note.reason,
            note.campaign,
            note.rule_version,
            note.note,
        ]
        for note in report.notes or []
    ]
    return header, rows
