"""Where an import job's rejected rows go: held until the transaction of the batch that
counts them, then written to the job's table (``ImportReject``) with it, so a job never
lists a rejected row of a batch that was rolled back (``nurture.leads.import_jobs``)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from nurture.consent.suppression import canonical_email, erased_among
from nurture.leads.csv_rows import ERASED_ROW_REASON
from nurture.models import ImportReject

_REJECT_VALUE_MAX = 20_000
_REASON_MAX = 2000
# Something shaped like an email address inside a rejected value.
_ADDRESS_LIKE_RE = re.compile(r"[^\s@<>()\[\]\"',;:]+@[^\s@<>()\[\]\"',;:]+")


class JobRejects:
    """The job's rejected rows, held until the transaction of the batch that counts them."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.pending: list[dict[str, Any]] = []
        self._used = False

    def write(self, line: int, values: list[str], reason: str) -> None:
        self._used = True
        self.pending.append(
            {
                "job_id": self.job_id,
                "line": line,
                # PostgreSQL text cannot hold NUL; a value is kept whole up to a size that
                # still opens in a spreadsheet.
                "values": [v.replace("\x00", "")[:_REJECT_VALUE_MAX] for v in values],
                "reason": reason.replace("\x00", "")[:_REASON_MAX],
            }
        )

    @property
    def used(self) -> bool:
        return self._used

    def close(self) -> None:
        return None

    def flush(self, session: Session) -> None:
        if not self.pending:
            return
        # A row read before its person was erased (the erasure came while the file was
        # being read) keeps only its line, like the rows the erasure emptied itself.
        found = [
            {canonical_email(a) for v in row["values"] for a in _ADDRESS_LIKE_RE.findall(v)}
            for row in self.pending
        ]
        erased = erased_among(session, set().union(*found))
        for row, addresses in zip(self.pending, found, strict=True):
            if addresses & erased:
                row["values"], row["reason"] = [], ERASED_ROW_REASON
        session.execute(insert(ImportReject), self.pending)
        self.pending = []
