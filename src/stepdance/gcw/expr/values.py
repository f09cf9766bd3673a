"""Workflows values as Python values, and the type rules every operator and function shares.

======== ======================= ==========================================================
Workflows Python                  rule
======== ======================= ==========================================================
integer  ``int`` (never ``bool``) 64-bit signed; a result outside the range is a ValueError
double   ``float``                64-bit; an overflow to infinity is a ValueError
string   ``str``                  UTF-8; longer than the documented maximum: ResourceLimitError
boolean  ``bool``                 ``true``/``True``/``TRUE`` in expressions
null     ``None``
list     ``list``
map      ``dict``                 string keys, insertion order kept
bytes    ``bytes``                made by ``text.encode``, ``base64.decode``, ``json.encode``
======== ======================= ==========================================================

A name that denotes a function (``${http.default_retry_predicate}`` in a retry policy, a subworkflow name)
evaluates to a :class:`FunctionRef`; only the interpreter does anything with one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from stepdance.gcw.expr import limits
from stepdance.gcw.expr.errors import resource_limit_error, type_error, value_error


@dataclass(frozen=True, slots=True)
class FunctionRef:
    """A function named as a value, e.g. the predicate of a retry policy."""

    name: str


# What get_type() answers, one word per documented data type.
_GET_TYPE_NAMES: dict[type, str] = {
    bool: "boolean",
    int: "integer",
    float: "double",
    str: "string",
    bytes: "bytes",
    list: "list",
    dict: "map",
    type(None): "null",
    FunctionRef: "function",
}

# How error messages name types: short, the way the runtime's messages read.
_MESSAGE_NAMES: dict[type, str] = {
    bool: "bool",
    int: "int",
    float: "double",
    str: "string",
    bytes: "bytes",
    list: "list",
    dict: "map",
    type(None): "null",
    FunctionRef: "function",
}


def get_type_name(value: Any) -> str:
    try:
        return _GET_TYPE_NAMES[type(value)]
    except KeyError:
        raise type_error(f"unsupported value of Python type {type(value).__name__}") from None


def type_name(value: Any) -> str:
    return _MESSAGE_NAMES.get(type(value), type(value).__name__)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return is_int(value) or isinstance(value, float)


def checked_int(value: int) -> int:
    if not limits.INT_MIN <= value <= limits.INT_MAX:
        raise value_error("integer overflow: result does not fit in 64 bits")
    return value


def checked_double(value: float) -> float:
    if math.isinf(value) or math.isnan(value):
        raise value_error("double overflow: result is not a finite number")
    return value


def checked_string(value: str) -> str:
    # A code point is at most 4 UTF-8 bytes, so short strings need no encoding to be measured.
    if len(value) * 4 > limits.MAX_STRING_BYTES and len(value.encode("utf-8", "surrogatepass")) > (
        limits.MAX_STRING_BYTES
    ):
        raise resource_limit_error(f"string exceeds the maximum length of {limits.MAX_STRING_BYTES} bytes")
    return value


def format_double(value: float) -> str:
    # Shortest round-trip form, as the runtime prints sys.now(): "1635892223.4459958".
    return repr(value)


def to_string(value: Any) -> str:
    """The text of a scalar, as ``string()`` and string concatenation produce it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if is_int(value):
        return str(value)
    if isinstance(value, float):
        return format_double(value)
    raise type_error(f"cannot convert {type_name(value)} to string")


def equals(left: Any, right: Any, depth: int = 0) -> bool:
    """Workflows equality: numbers by value across int and double, containers deeply, else same type."""
    if depth > limits.MAX_VALUE_DEPTH:
        raise resource_limit_error("value nested too deeply to compare")
    if is_number(left) and is_number(right):
        return bool(left == right)
    if type(left) is not type(right):
        return False
    if isinstance(left, list):
        return len(left) == len(right) and all(
            equals(a, b, depth + 1) for a, b in zip(left, right, strict=True)
        )
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(equals(left[k], right[k], depth + 1) for k in left)
    return bool(left == right)


def compare(left: Any, right: Any, op: str) -> int:
    """Order two values for ``< <= > >=``: numbers with numbers, strings with strings, nothing else."""
    if is_number(left) and is_number(right):
        return int(left > right) - int(left < right)
    if isinstance(left, str) and isinstance(right, str):
        return int(left > right) - int(left < right)
    raise type_error(f"'{op}' not supported between {type_name(left)} and {type_name(right)}")


def check_depth(value: Any, what: str) -> None:
    """Refuse values nested deeper than we can walk recursively (iterative, so it cannot overflow itself)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limits.MAX_VALUE_DEPTH:
            raise resource_limit_error(f"{what}: value nested more than {limits.MAX_VALUE_DEPTH} levels deep")
        if isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
