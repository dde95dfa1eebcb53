"""What a lead import did, and the pure rules that fill it in: counting each row's outcome,
who of the imported people cannot be mailed and why, and the consent a whole batch gives.

Every path that imports a batch (the CLI, the web app's import jobs, a set-based bulk path)
counts through these functions, so each row is accounted for the same way everywhere:
``rows_read`` = created + updated + unchanged + rejected + duplicates + blank, and every
imported lead (created + updated + unchanged) is either mailable or counted under exactly
one reason in ``not_mailable``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from nurture.consent.rules import NOT_MAILABLE_LABELS, NOT_MAILABLE_REASONS, not_mailable_reason
from nurture.leads.validation import LeadFields

# Rejected rows whose line and reason the summary keeps (all of them are in the rejects).
REJECTED_SHOWN = 50
# What ``--consent`` may say about a whole batch (docs/leads.md#consent-for-a-batch).
BATCH_CONSENT_STATUSES = ("granted", "pending", "withdrawn")
# Stored statuses a batch's "granted" or "pending" may replace: a person's own later
# decision (granted, pending confirmation, withdrawn) is never overwritten by a list.
_REPLACEABLE_STATUSES = frozenset({"unknown"})


@dataclass
class ImportSummary:
    """What an import did. ``rows_read`` = the sum of the six row outcomes."""

    path: Path
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    # Rows whose email appears again later in the file: the later row was imported.
    duplicates: int = 0
    # (line of the skipped row, line of the row imported instead), in file order.
    duplicate_lines: list[tuple[int, int]] = field(default_factory=list)
    # Rows without a single value.
    blank: int = 0
    accounts_created: int = 0
    # Existing leads whose stage an explicit stage column changed.
    stage_changes: int = 0
    # Rows with company data but no account (free-mail address, no company_domain column).
    unlinked_companies: int = 0
    # Imported leads campaigns may email, and those they may not by reason
    # (``nurture.consent.rules.NOT_MAILABLE_REASONS``).
    mailable: int = 0
    not_mailable: dict[str, int] = field(default_factory=dict)
    # (line, reason) of the first REJECTED_SHOWN rejected rows.
    rejected_rows: list[tuple[int, str]] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    # Ignored column -> the field its header is close to ("did you mean").
    ignored_hints: dict[str, str] = field(default_factory=dict)
    # Remarks about the columns (e.g. two columns that both look like the email).
    notes: list[str] = field(default_factory=list)
    rejects_path: Path | None = None
    encoding: str = "utf-8"
    delimiter: str = ","
    seconds: float = 0.0

    def __str__(self) -> str:
        return (
            f"{self.rows_read} rows: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.rejected} rejected, "
            f"{self.duplicates} duplicate, {self.blank} blank"
        )

    @property
    def not_mailable_total(self) -> int:
        """Imported leads campaigns may not email."""
        return sum(self.not_mailable.values())

    def as_dict(self) -> dict[str, Any]:
        """Plain values, for printing and JSON."""
        return {
            "path": str(self.path),
            "rows_read": self.rows_read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "rejected_rows": [list(pair) for pair in self.rejected_rows],
            "duplicates": self.duplicates,
            "duplicate_lines": [list(pair) for pair in self.duplicate_lines],
            "blank": self.blank,
            "accounts_created": self.accounts_created,
            "stage_changes": self.stage_changes,
            "unlinked_companies": self.unlinked_companies,
            "mailable": self.mailable,
            "not_mailable": dict(self.not_mailable),
            "columns": dict(self.columns),
            "ignored_columns": list(self.ignored_columns),
            "ignored_hints": dict(self.ignored_hints),
            "notes": list(self.notes),
            "rejects_path": None if self.rejects_path is None else str(self.rejects_path),
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "seconds": round(self.seconds, 3),
        }


def count_rejected(summary: ImportSummary, line: int, reason: str) -> None:
    """Count one rejected row and keep its line and reason while there is room."""
    summary.rejected += 1
    if len(summary.rejected_rows) < REJECTED_SHOWN:
        summary.rejected_rows.append((line, reason))


def count_mailability(
    summary: ImportSummary,
    *,
    consent_status: str,
    lawful_basis: str | None,
    unsubscribed_at: datetime | None,
    suppressed_at: datetime | None,
    suppression_reason: str | None,
) -> None:
    """Count one imported lead as mailable, or under the reason it is not."""
    reason = not_mailable_reason(
        consent_status=consent_status,
        lawful_basis=lawful_basis,
        unsubscribed_at=unsubscribed_at,
        suppressed_at=suppressed_at,
        suppression_reason=suppression_reason,
    )
    if reason is None:
        summary.mailable += 1
    else:
        summary.not_mailable[reason] = summary.not_mailable.get(reason, 0) + 1


def describe_not_mailable(not_mailable: dict[str, int]) -> str:
    """``"3 (no consent basis: 2, suppressed: 1, invalid: 0)"``: the total, then every
    reason (the three that matter most always, the others when they occur)."""
    always = ("no_consent_basis", "suppressed", "invalid")
    parts = [
        f"{reason.replace('_', ' ')}: {not_mailable.get(reason, 0)}"
        for reason in (*always, *(r for r in NOT_MAILABLE_REASONS if r not in always))
        if reason in always or not_mailable.get(reason)
    ]
    return f"{sum(not_mailable.values())} ({', '.join(parts)})"


def not_mailable_legend(not_mailable: dict[str, int]) -> list[str]:
    """One line per reason that occurred, saying what it means."""
    return [
        f"{reason.replace('_', ' ')}: {NOT_MAILABLE_LABELS[reason]}"
        for reason in NOT_MAILABLE_REASONS
        if not_mailable.get(reason)
    ]


@dataclass(frozen=True)
class BatchConsent:
    """The consent a whole file records for its people (``--consent``), with its evidence:
    where it came from (``source``: the import and the file's name) and when (``at``)."""

    status: str
    source: str
    at: datetime


def apply_batch_consent(
    fields: LeadFields, stored_status: str | None, consent: BatchConsent | None
) -> LeadFields:
    """The row's fields with the batch's consent, where it applies (pure).

    A row's own consent column always wins. ``withdrawn`` applies to every other row (a
    withdrawal is honoured whatever was stored); ``granted`` and ``pending`` apply to new
    leads (``stored_status`` None) and to leads whose consent is ``unknown``, never over a
    person's own grant, pending confirmation or withdrawal. Where it applies, the consent
    source and time are the batch's unless the row has its own.
    """
    if consent is None or fields.consent_status is not None:
        return fields
    if consent.status != "withdrawn" and stored_status not in (None, *_REPLACEABLE_STATUSES):
        return fields
    return replace(
        fields,
        consent_status=consent.status,
        consent_source=fields.consent_source or consent.source,
        consent_at=fields.consent_at or consent.at,
    )
