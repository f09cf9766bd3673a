"""States.Array, ArrayPartition, ArrayContains, ArrayRange, ArrayGetItem, ArrayLength, ArrayUnique."""

from __future__ import annotations

from typing import Any

from stepdance.asl.intrinsics.invocation import InvalidArguments, Invocation, array, truncated
from stepdance.asl.jsontext import equality_key

MAX_RANGE_ITEMS = 1000


def array_of(inv: Invocation) -> list[Any]:
    return list(inv.args)


def array_partition(inv: Invocation) -> list[list[Any]]:
    items = array(inv.args[0])
    size = truncated(inv.args[1])
    if size < 1:
        raise InvalidArguments
    return [items[start : start + size] for start in range(0, len(items), size)]


def array_contains(inv: Invocation) -> bool:
    items = array(inv.args[0])
    wanted = equality_key(inv.args[1])
    return any(equality_key(item) == wanted for item in items)


def array_range(inv: Invocation) -> list[int]:
    first, last, step = (truncated(arg) for arg in inv.args)
    if step == 0:
        raise InvalidArguments
    span = last - first if step > 0 else first - last
    count = 0 if span < 0 else span // abs(step) + 1
    if count > MAX_RANGE_ITEMS:
        raise InvalidArguments
    return [first + step * i for i in range(count)]


def array_get_item(inv: Invocation) -> Any:
    items = array(inv.args[0])
    index = truncated(inv.args[1])
    if not items:
        return None  # AWS answers null for any index into an empty array
    if not 0 <= index < len(items):
        raise InvalidArguments
    return items[index]


def array_length(inv: Invocation) -> int:
    return len(array(inv.args[0]))


def array_unique(inv: Invocation) -> list[Any]:
    seen: set[Any] = set()
    unique: list[Any] = []
    for item in array(inv.args[0]):
        key = equality_key(item)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique
