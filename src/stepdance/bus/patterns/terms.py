"""What one element of a pattern's value array asks of an event value, and its compiled test.

Event values are the leaves of the event: ``str``, numbers (``int``, ``float``, ``JsonNumber``), ``True``,
``False`` and ``None``. Strings match string operators only; the ``anything-but`` family matches every value
that is not excluded, numbers, booleans and null included, as AWS does.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from stepdance.bus.patterns import wildcard
from stepdance.bus.patterns.cidr import IpRange
from stepdance.bus.patterns.ignorecase import IgnoreCase
from stepdance.bus.patterns.numbers import number_key

Test = Callable[[Any], bool]


class _Literal:
    """The key of ``true``, ``false`` or ``null``: never equal to a number (``True == 1`` in Python)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


TRUE_KEY, FALSE_KEY, NULL_KEY = _Literal("true"), _Literal("false"), _Literal("null")


def value_key(value: Any) -> Hashable | None:
    """The key an event value is looked up by in exact-value sets (None for a value no pattern names)."""
    if type(value) is str:
        return value
    if value is None:
        return NULL_KEY
    if value is True or value is False:
        return TRUE_KEY if value else FALSE_KEY
    return number_key(value)


@dataclass(frozen=True, slots=True)
class Exact:
    """A literal: a string, a number (by value when comparable, and by its text), true, false or null."""

    keys: frozenset[Hashable]


@dataclass(frozen=True, slots=True)
class Exists:
    present: bool


@dataclass(frozen=True, slots=True)
class InRange:
    """``cidr``, or an exact string that is an IP address."""

    addresses: IpRange

    def test(self) -> Test:
        return self.addresses.contains


@dataclass(frozen=True, slots=True)
class Prefix:
    operand: str
    ignore_case: bool = False

    def test(self) -> Test:
        operand = self.operand
        if self.ignore_case:
            starts = IgnoreCase(operand).starts
            return lambda value: type(value) is str and starts(value)
        return lambda value: type(value) is str and value.startswith(operand)


@dataclass(frozen=True, slots=True)
class Suffix:
    operand: str
    ignore_case: bool = False

    def test(self) -> Test:
        operand = self.operand
        if self.ignore_case:
            ends = IgnoreCase(operand).ends
            return lambda value: type(value) is str and ends(value)
        return lambda value: type(value) is str and value.endswith(operand)


@dataclass(frozen=True, slots=True)
class EqualsIgnoreCase:
    operand: str

    def test(self) -> Test:
        equals = IgnoreCase(self.operand).equals
        return lambda value: type(value) is str and equals(value)


@dataclass(frozen=True, slots=True)
class Wildcard:
    pattern: wildcard.WildcardBytes

    def test(self) -> Test:
        fullmatch = wildcard.regex(self.pattern).fullmatch
        return lambda value: type(value) is str and fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class Numeric:
    """A range; an unbounded side is None. ``=`` is the closed range of one number."""

    low: float | None
    low_open: bool
    high: float | None
    high_open: bool

    def test(self) -> Test:
        low = -float("inf") if self.low is None else self.low
        high = float("inf") if self.high is None else self.high
        low_open, high_open = self.low_open, self.high_open

        def in_range(value: Any) -> bool:
            number = number_key(value)
            if type(number) is not float:
                return False
            above = number > low if low_open else number >= low
            return above and (number < high if high_open else number <= high)

        return in_range


@dataclass(frozen=True, slots=True)
class AnythingBut:
    """Any value whose key is not one of ``keys`` (all strings or all numbers)."""

    keys: frozenset[Hashable]

    def test(self) -> Test:
        keys = self.keys
        return lambda value: value_key(value) not in keys


@dataclass(frozen=True, slots=True)
class AnythingButPrefix:
    operands: tuple[str, ...]

    def test(self) -> Test:
        operands = self.operands
        return lambda value: type(value) is not str or not value.startswith(operands)


@dataclass(frozen=True, slots=True)
class AnythingButSuffix:
    operands: tuple[str, ...]

    def test(self) -> Test:
        operands = self.operands
        return lambda value: type(value) is not str or not value.endswith(operands)


@dataclass(frozen=True, slots=True)
class AnythingButIgnoreCase:
    operands: tuple[str, ...]

    def test(self) -> Test:
        tests = [IgnoreCase(operand).equals for operand in self.operands]
        return lambda value: type(value) is not str or not any(equals(value) for equals in tests)


@dataclass(frozen=True, slots=True)
class AnythingButWildcard:
    patterns: tuple[wildcard.WildcardBytes, ...]

    def test(self) -> Test:
        tests = [wildcard.regex(pattern).fullmatch for pattern in self.patterns]
        return lambda value: type(value) is not str or not any(match(value) for match in tests)


ValueTerm = (
    InRange
    | Prefix
    | Suffix
    | EqualsIgnoreCase
    | Wildcard
    | Numeric
    | AnythingBut
    | AnythingButPrefix
    | AnythingButSuffix
    | AnythingButIgnoreCase
    | AnythingButWildcard
)
Term = Exact | Exists | ValueTerm
