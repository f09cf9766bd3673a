"""The lexical rules the syntax checks without parsing expressions: variable names, assignment targets,
and whether every ``${`` has its ``}``. What is inside ``${...}`` belongs to :mod:`stepdance.gcw.expr`."""

from __future__ import annotations

import re

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_QUOTES = "\"'"


def is_identifier(text: str) -> bool:
    return IDENTIFIER.fullmatch(text) is not None


def is_expression(value: object) -> bool:
    """Whether ``value`` is one whole expression, ``${...}``, as conditions and references must be."""
    if not isinstance(value, str) or not value.startswith("${"):
        return False
    return _closing(value, 2, "{", "}") == len(value) - 1


def unbalanced_at(text: str) -> int | None:
    """The offset of the first ``${`` that is never closed, or None when every one is."""
    start = text.find("${")
    while start != -1:
        end = _closing(text, start + 2, "{", "}")
        if end is None:
            return start
        start = text.find("${", end + 1)
    return None


def is_target(text: str) -> bool:
    """Whether ``text`` can be assigned to: a variable, then ``.key`` and ``[index]`` parts
    (``order.items[0].qty``, ``totals["eur"]``, ``seen[i + 1]``)."""
    match = IDENTIFIER.match(text)
    if match is None:
        return False
    at = match.end()
    while at < len(text):
        if text[at] == ".":
            match = IDENTIFIER.match(text, at + 1)
            if match is None:
                return False
            at = match.end()
        elif text[at] == "[":
            end = _closing(text, at + 1, "[", "]")
            if end is None or not text[at + 1 : end].strip():
                return False
            at = end + 1
        else:
            return False
    return True


def _closing(text: str, start: int, opening: str, closing: str) -> int | None:
    """The offset of the ``closing`` that matches an ``opening`` just before ``start``; brackets inside
    quoted strings do not count."""
    depth, quote, at = 1, "", start
    while at < len(text):
        char = text[at]
        if quote:
            if char == "\\":
                at += 1
            elif char == quote:
                quote = ""
        elif char in _QUOTES:
            quote = char
        elif char == opening:
            depth += 1
        elif char == closing:
            depth -= 1
            if depth == 0:
                return at
        at += 1
    return None
