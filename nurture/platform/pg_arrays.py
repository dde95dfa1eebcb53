"""PostgreSQL arrays in binary format, built here instead of by psycopg's list dumper.

The bulk writes (``nurture.platform.db.bulk_insert``/``bulk_update``) send one array per
column. psycopg dumps an array with a Python loop over its elements (a call, a length and
two appends each: 20-25 µs of every sent email's CPU went there); here the whole array of
fixed-size values is packed by one ``struct`` call, and a text array's elements are
encoded in a list comprehension. The bytes are PostgreSQL's array wire format
(``array_recv``): a header (dimensions, a null flag, the element type), the dimension, then
each element as its length (-1 for NULL) and its binary value.

The parameter is sent as of unknown type: the statement's cast (``%b::bigint[]``) tells the
server which array it is, and the server checks the element type in the header against it.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import pq
from psycopg.adapt import Dumper

_HEAD = struct.Struct(">iiIii")  # dimensions, has nulls, element type, length, lower bound
_LENGTH = struct.Struct(">i")
_NULL = _LENGTH.pack(-1)
# PostgreSQL counts timestamps in microseconds from 2000-01-01 00:00. Naive, as the values
# are: UTCDateTime's bind processing has made them naive UTC.
_PG_EPOCH = datetime(2000, 1, 1)  # noqa: DTZ001
_MICROSECOND = timedelta(microseconds=1)


class BinaryArray(bytes):
    """An array already in PostgreSQL's binary format, sent as a parameter of unknown type."""


class _BinaryArrayDumper(Dumper):
    format = pq.Format.BINARY
    oid = 0  # unknown: the statement's cast names the type

    def dump(self, obj: Any) -> bytes:
        """The array's bytes as they are: built already in the wire format."""
        return bytes(obj)


# Process-wide, on import: only ``BinaryArray`` values (made here) use this dumper.
psycopg.adapters.register_dumper(BinaryArray, _BinaryArrayDumper)

Encoder = Callable[[Sequence[Any]], BinaryArray]


def array_encoder(sql_type: str) -> Encoder | None:
    """The encoder of a column of ``sql_type`` (as SQLAlchemy compiles it for PostgreSQL),
    or None for a type left to psycopg. Values are the column's bind-processed ones (naive
    UTC datetimes for timestamps, JSON already as text)."""
    name = sql_type.upper()
    if name == "INTEGER":
        return _fixed(23, "i", 4)
    if name == "BIGINT":
        return _fixed(20, "q", 8)
    if name == "SMALLINT":
        return _fixed(21, "h", 2)
    if name == "BOOLEAN":
        return _fixed(16, "?", 1)
    if name == "TIMESTAMP WITHOUT TIME ZONE":
        fixed = _fixed(1114, "q", 8)
        return lambda values: fixed(
            [None if value is None else (value - _PG_EPOCH) // _MICROSECOND for value in values]
        )
    if name == "TEXT":
        return lambda values: _texts(25, values)
    if name == "VARCHAR" or (name.startswith("VARCHAR(") and name.endswith(")")):
        return lambda values: _texts(1043, values)
    return None


def _fixed(oid: int, code: str, size: int) -> Encoder:
    item = struct.Struct(f">i{code}")

    def encode(values: Sequence[Any]) -> BinaryArray:
        count = len(values)
        if any(value is None for value in values):
            parts = [_HEAD.pack(1, 1, oid, count, 1)]
            parts += [_NULL if value is None else item.pack(size, value) for value in values]
            return BinaryArray(b"".join(parts))
        flat = itertools.chain.from_iterable(zip(itertools.repeat(size), values))
        return BinaryArray(_HEAD.pack(1, 0, oid, count, 1) + _packer(code, count).pack(*flat))

    return encode


@lru_cache(maxsize=256)
def _packer(code: str, count: int) -> struct.Struct:
    return struct.Struct(">" + f"i{code}" * count)


def _texts(oid: int, values: Sequence[str | None]) -> BinaryArray:
    nulls = 0
    parts = [b""]
    for value in values:
        if value is None:
            nulls = 1
            parts.append(_NULL)
        else:
            data = value.encode("utf-8")
            parts.append(_LENGTH.pack(len(data)))
            parts.append(data)
    parts[0] = _HEAD.pack(1, nulls, oid, len(values), 1)
    return BinaryArray(b"".join(parts))
