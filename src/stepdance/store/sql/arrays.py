"""PostgreSQL binary arrays of text, integers and floats, packed without a Python loop per element.

A batch sends each column of its rows as one array (see :mod:`.batch`). psycopg packs a list element by
element in Python, which was most of a PostgreSQL commit's client time (measured: ~0.5 ms for a batch of
30 changes); here the elements go through ``map``/``zip``/``struct`` in C, and only arrays holding a
NULL take the per-element path. :class:`Packed` holds the finished bytes; :func:`register` teaches a
psycopg connection to send it as is.

The format (PostgreSQL's ``array_send``): ndim, has-null flag, element type oid, then per dimension its
length and lower bound, then per element its byte length (-1 for NULL) and its bytes.
"""

from __future__ import annotations

import struct
from itertools import chain, repeat
from typing import Any, NamedTuple

from sqlalchemy import BigInteger, Float, Integer
from sqlalchemy.types import TypeEngine

_HEAD = struct.Struct("!iiIii")  # ndim, has null, element oid, length, lower bound
_EMPTY = struct.Struct("!iiI")  # ndim 0, no null, element oid
_LENGTH = struct.Struct("!i")
_NULL = _LENGTH.pack(-1)


class Kind(NamedTuple):
    """An element type: its oid, its array's oid, and for a fixed-size one its struct code and width."""

    element_oid: int
    array_oid: int
    code: str | None = None
    width: int = 0


TEXT = Kind(25, 1009)
INT4 = Kind(23, 1007, "i", 4)
INT8 = Kind(20, 1016, "q", 8)
FLOAT8 = Kind(701, 1022, "d", 8)


class Packed(bytes):
    """An array in PostgreSQL's binary format, of the array type ``oid`` (one subclass per type)."""

    oid = 0


_PACKED: dict[int, type[Packed]] = {
    kind.array_oid: type(f"Packed{kind.array_oid}", (Packed,), {"oid": kind.array_oid})
    for kind in (TEXT, INT4, INT8, FLOAT8)
}


def element_kind(column_type: TypeEngine[Any]) -> Kind:
    if isinstance(column_type, BigInteger):
        return INT8
    if isinstance(column_type, Integer):
        return INT4
    if isinstance(column_type, Float):
        return FLOAT8
    return TEXT


def pack(values: list[Any], kind: Kind) -> Packed:
    """``values`` of ``kind`` (text: str; int4, int8: int; float8: anything ``float()`` takes), or None."""
    packed = _PACKED[kind.array_oid]
    if not values:
        return packed(_EMPTY.pack(0, 0, kind.element_oid))
    nulls = values.count(None)
    head = _HEAD.pack(1, int(nulls > 0), kind.element_oid, len(values), 1)
    if nulls == len(values):
        body = _NULL * nulls
    elif nulls:
        body = b"".join(_element(v, kind) for v in values)
    elif kind.code is None:
        data = list(map(str.encode, values))
        body = b"".join(chain.from_iterable(zip(map(_LENGTH.pack, map(len, data)), data, strict=True)))
    else:
        converted = map(float, values) if kind.code == "d" else values
        fields = chain.from_iterable(zip(repeat(kind.width), converted))
        body = struct.pack("!" + f"i{kind.code}" * len(values), *fields)
    return packed(head + body)


def _element(value: Any, kind: Kind) -> bytes:
    if value is None:
        return _NULL
    if kind.code is None:
        data: bytes = value.encode()
        return _LENGTH.pack(len(data)) + data
    number = float(value) if kind.code == "d" else value
    return _LENGTH.pack(kind.width) + struct.pack("!" + kind.code, number)


def register(connection: Any) -> None:
    """Let a psycopg connection send :class:`Packed` values as they are."""
    from psycopg.adapt import Dumper
    from psycopg.pq import Format

    def dump(_: Dumper, obj: Packed) -> Packed:
        return obj

    for cls in _PACKED.values():
        attributes = {"format": Format.BINARY, "oid": cls.oid, "dump": dump}
        connection.adapters.register_dumper(cls, type(f"{cls.__name__}Dumper", (Dumper,), attributes))
