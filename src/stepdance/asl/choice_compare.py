"""The data-test operators of JSONPath Choice rules, as AWS evaluates them.

Each comparison checks the types of both sides first: a mismatch (a number compared with a string, a string
that is not a timestamp in a Timestamp comparison, a boolean passed to a Numeric operator) is simply *false*,
never an error. Strings compare by UTF-16 code units (AWS runs on the JVM), numbers by value, timestamps by
the instant they denote.
"""

from __future__ import annotations

import calendar
import operator
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

Compare = Callable[[Any, Any], bool]

# Java's ISO_OFFSET_DATE_TIME, which AWS uses: seconds and fraction optional, an offset required,
# case-insensitive 'T' and 'Z'.
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2})(?::(\d{2}))?)",
    re.ASCII,
)
_MAX_OFFSET_SECONDS = 18 * 3600


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_timestamp(value: Any) -> bool:
    return isinstance(value, str) and parse_timestamp(value) is not None


def parse_timestamp(text: str) -> tuple[int, int] | None:
    """``(UTC epoch seconds, nanoseconds)`` of an RFC 3339 timestamp as AWS accepts it, else None.

    The date must exist (no 2016-13-05, no February 30th) and the time must be valid (no hour 25).
    """
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute = (int(match.group(i)) for i in range(1, 6))
    second = int(match.group(6) or 0)
    nanos = int((match.group(7) or "").ljust(9, "0"))
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
        return None
    if hour > 23 or minute > 59 or second > 59:
        return None
    offset = _offset_seconds(match)
    if offset is None:
        return None
    epoch = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)) - offset
    return epoch, nanos


def _offset_seconds(match: re.Match[str]) -> int | None:
    if match.group(8):
        return 0
    hours, minutes, seconds = int(match.group(10)), int(match.group(11)), int(match.group(12) or 0)
    if minutes > 59 or seconds > 59:
        return None
    total = hours * 3600 + minutes * 60 + seconds
    if total > _MAX_OFFSET_SECONDS:
        return None
    return -total if match.group(9) == "-" else total


def _utf16(text: str) -> bytes:
    # Big-endian UTF-16 bytes order like the JVM's String.compareTo (by UTF-16 code unit).
    return text.encode("utf-16-be", "surrogatepass")


@lru_cache(maxsize=1024)
def _wildcard(pattern: str) -> re.Pattern[str]:
    """StringMatches: ``*`` matches any run of characters; ``\\*`` is a literal star, ``\\\\`` a backslash."""
    parts: list[str] = []
    escaped = False
    for char in pattern:
        if escaped:
            parts.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "*":
            parts.append(".*")
        else:
            parts.append(re.escape(char))
    if escaped:
        parts.append(re.escape("\\"))
    return re.compile("".join(parts), re.DOTALL)


def _strings(compare: Compare) -> Compare:
    def test(value: Any, operand: Any) -> bool:
        if not (isinstance(value, str) and isinstance(operand, str)):
            return False
        return compare(_utf16(value), _utf16(operand))

    return test


def _numbers(compare: Compare) -> Compare:
    def test(value: Any, operand: Any) -> bool:
        return is_number(value) and is_number(operand) and compare(value, operand)

    return test


def _timestamps(compare: Compare) -> Compare:
    def test(value: Any, operand: Any) -> bool:
        if not (isinstance(value, str) and isinstance(operand, str)):
            return False
        left, right = parse_timestamp(value), parse_timestamp(operand)
        return left is not None and right is not None and compare(left, right)

    return test


def _boolean_equals(value: Any, operand: Any) -> bool:
    return isinstance(value, bool) and isinstance(operand, bool) and value == operand


def _string_matches(value: Any, operand: Any) -> bool:
    if not (isinstance(value, str) and isinstance(operand, str)):
        return False
    return _wildcard(operand).fullmatch(value) is not None


_ORDER: dict[str, Compare] = {
    "Equals": operator.eq,
    "LessThan": operator.lt,
    "GreaterThan": operator.gt,
    "LessThanEquals": operator.le,
    "GreaterThanEquals": operator.ge,
}

# Operator name (without the "Path" suffix) -> comparison of the Variable's value with the operand.
COMPARISONS: dict[str, Compare] = {
    **{f"String{name}": _strings(op) for name, op in _ORDER.items()},
    **{f"Numeric{name}": _numbers(op) for name, op in _ORDER.items()},
    **{f"Timestamp{name}": _timestamps(op) for name, op in _ORDER.items()},
    "BooleanEquals": _boolean_equals,
    "StringMatches": _string_matches,
}

# Type tests: operand true means "the value is of this type", false means "it is not".
TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "IsNull": lambda value: value is None,
    "IsNumeric": is_number,
    "IsString": lambda value: isinstance(value, str),
    "IsBoolean": lambda value: isinstance(value, bool),
    "IsTimestamp": is_timestamp,
}
