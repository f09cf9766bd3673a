"""Numbers as the matcher compares them.

A JSON number is *comparable* when one IEEE double is exactly that number (``300``, ``3.0e2``, ``0.1``;
not ``12345678901234567890``). Comparable numbers match by value, whatever their spelling; the others only
match the same text and never fall inside a numeric range, as in event-ruler.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_SAFE_INTEGER = 2**53


class JsonNumber:
    """A number no double represents exactly, kept as its text."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JsonNumber) and other.text == self.text

    def __hash__(self) -> int:
        return hash(("JsonNumber", self.text))

    def __repr__(self) -> str:
        return f"JsonNumber({self.text!r})"


def comparable(text: str) -> float | None:
    """The double that is exactly the number written ``text``, or None."""
    try:
        value = float(text)
        exact = Decimal(text)
    except (ValueError, InvalidOperation):
        return None
    if not math.isfinite(value) or Decimal(repr(value)) != exact:
        return None
    return value


def parse_json_number(text: str) -> float | int | JsonNumber:
    """``json.loads`` hook for events: plain numbers stay Python numbers, the others keep their text."""
    value = comparable(text)
    if value is None:
        return JsonNumber(text)
    if "." in text or "e" in text or "E" in text:
        return value
    return int(text)


def number_key(value: Any) -> float | JsonNumber | None:
    """How an event number is compared: its double when comparable, else its text; None if not a number."""
    kind = type(value)
    if kind is float:
        return value if math.isfinite(value) else JsonNumber(repr(value))
    if kind is int:
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return float(value)
        exact = comparable(str(value))
        return JsonNumber(str(value)) if exact is None else exact
    if kind is JsonNumber:
        return value  # type: ignore[no-any-return]
    return None


def number_keys(text: str) -> frozenset[Hashable]:
    """The keys of a pattern's exact number: its value when comparable, and always its text."""
    value = comparable(text)
    return frozenset({JsonNumber(text)} if value is None else {value, JsonNumber(text)})
