"""Wildcard operands: ``*`` stands for any run of characters, ``\\*`` and ``\\\\`` for the literal ones.

Validation speaks in byte positions of the operand wrapped in quotes, as event-ruler parses it. The
complexity bound is AWS's guard against patterns whose matching state explodes: the most NFA positions a
value can keep alive at once, summed over the field's wildcard patterns, must stay within ``MAX_COMPLEXITY``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from stepdance.bus.patterns.errors import InvalidEventPattern

STAR = -1  # a byte sequence item that is the wildcard
MAX_COMPLEXITY = 10
TOO_COMPLEX = (
    "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a "
    "wildcard character"
)

WildcardBytes = tuple[int, ...]


def parse(operand: str) -> WildcardBytes:
    """The operand's bytes within its quotes, ``STAR`` for each wildcard; InvalidEventPattern if malformed."""
    raw = ('"' + operand + '"').encode("utf-8")
    items: list[int] = []
    position = 0
    while position < len(raw):
        byte = raw[position]
        if byte == ord("*"):
            if position + 1 < len(raw) and raw[position + 1] == ord("*"):
                raise InvalidEventPattern(f"Consecutive wildcard characters at pos {position}")
            items.append(STAR)
        elif byte == ord("\\"):
            following = raw[position + 1] if position + 1 < len(raw) else None
            if following not in (ord("*"), ord("\\")):
                raise InvalidEventPattern(f"Invalid escape character at pos {position}")
            assert following is not None
            items.append(following)
            position += 1
        else:
            items.append(byte)
        position += 1
    return tuple(items)


def regex(pattern: WildcardBytes) -> re.Pattern[str]:
    """A regular expression matching the string values the wildcard matches (quotes excluded)."""
    pieces: list[str] = []
    literal = bytearray()
    for item in pattern[1:-1]:
        if item == STAR:
            pieces.extend((re.escape(literal.decode("utf-8", "surrogateescape")), ".*"))
            literal.clear()
        else:
            literal.append(item)
    pieces.append(re.escape(literal.decode("utf-8", "surrogateescape")))
    return re.compile("".join(pieces), re.DOTALL)


def complexity(patterns: Sequence[WildcardBytes]) -> int:
    """The largest number of live NFA positions (summed over ``patterns``) after any input bytes."""
    if not patterns:
        return 0
    alphabet = {item for pattern in patterns for item in pattern if item != STAR} | {0}
    start = tuple(_closure(pattern, (0,)) for pattern in patterns)
    seen, todo, worst = {start}, [start], 0
    while todo:
        current = todo.pop()
        for byte in alphabet:
            following = tuple(
                _closure(p, _step(p, live, byte)) for p, live in zip(patterns, current, strict=True)
            )
            size = sum(len(live) for live in following)
            if not size:
                continue
            worst = max(worst, size)
            if worst > MAX_COMPLEXITY:
                return worst
            if following not in seen:
                seen.add(following)
                todo.append(following)
    return worst


def _step(pattern: WildcardBytes, live: Iterable[int], byte: int) -> list[int]:
    following = []
    for position in live:
        if position == len(pattern):
            continue
        if pattern[position] == STAR:
            following.append(position)
        elif pattern[position] == byte:
            following.append(position + 1)
    return following


def _closure(pattern: WildcardBytes, positions: Iterable[int]) -> frozenset[int]:
    """Positions reachable by letting wildcards match nothing."""
    found = set(positions)
    todo = list(found)
    while todo:
        position = todo.pop()
        if position < len(pattern) and pattern[position] == STAR and position + 1 not in found:
            found.add(position + 1)
            todo.append(position + 1)
    return frozenset(found)


def check_complexity(patterns: Sequence[WildcardBytes]) -> None:
    if complexity(patterns) > MAX_COMPLEXITY:
        raise InvalidEventPattern(TOO_COMPLEX)
