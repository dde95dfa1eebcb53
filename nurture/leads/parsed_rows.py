"""The rows of a lead file as the import's first pass parsed them, kept for the second.

The import reads a file twice (the first pass finds the last row of every address), and
parsing and validating a row cost as much as writing it. The first pass keeps each row's
result here instead: in memory up to a chunk of rows, then pickled to an anonymous
temporary file (deleted when closed, or when the process ends), so memory stays bounded
however long the file is.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator
from types import TracebackType
from typing import IO, NamedTuple

from nurture.leads.validation import LeadFields

# Rows held in memory before they are written out together.
CHUNK_ROWS = 2000


class ParsedRow(NamedTuple):
    """One record of the file: its first line, its values, and either its fields (a valid
    row) or why it is rejected (``reason``; neither for a blank row)."""

    line: int
    values: list[str]
    fields: LeadFields | None
    reason: str | None


class ParsedRows:
    """An append-only sequence of ``ParsedRow``, read back in order (any number of times)."""

    def __init__(self, chunk_rows: int = CHUNK_ROWS) -> None:
        self._chunk_rows = chunk_rows
        self._pending: list[ParsedRow] = []
        self._file: IO[bytes] | None = None

    def append(self, row: ParsedRow) -> None:
        self._pending.append(row)
        if len(self._pending) >= self._chunk_rows:
            self._write()

    def _write(self) -> None:
        if self._file is None:
            # Open for the life of this object: ``close`` (or the context) closes it.
            self._file = tempfile.TemporaryFile(prefix="nurture-import-")  # noqa: SIM115
        pickle.dump(self._pending, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._pending = []

    def __iter__(self) -> Iterator[ParsedRow]:
        if self._file is not None:
            if self._pending:
                self._write()
            self._file.seek(0)
            while True:
                try:
                    # Written by this object to a file nobody else can open (unlinked).
                    chunk: list[ParsedRow] = pickle.load(self._file)  # noqa: S301
                except EOFError:
                    break
                yield from chunk
        else:
            yield from list(self._pending)

    def close(self) -> None:
        self._pending = []
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> ParsedRows:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
