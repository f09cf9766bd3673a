"""Splitting the text inside ``${...}`` into tokens.

Literals: integers, doubles (``1.5``, ``2e3``, ``1.5E-3``), strings in double or single quotes (the error
docs write ``${'SystemError' in e.tags}``) with JSON-style escapes, ``true``/``True``/``TRUE``, the same for
false, and ``null``. ``and``/``or``/``not`` may be lower- or upper-case but not mixed-case, as documented.
Whitespace, newlines included, separates tokens: Workflows allows multi-line expressions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from stepdance.gcw.expr.errors import ExprSyntaxError

Kind = Literal["number", "string", "name", "keyword", "op", "end"]

_KEYWORDS: dict[str, tuple[str, Any]] = {
    **{spelling: ("literal", True) for spelling in ("true", "True", "TRUE")},
    **{spelling: ("literal", False) for spelling in ("false", "False", "FALSE")},
    "null": ("literal", None),
    **{spelling: ("op", spelling.lower()) for spelling in ("and", "AND", "or", "OR", "not", "NOT")},
    "in": ("op", "in"),
}

# Longest first, so "//" is not read as two "/" and "<=" not as "<" then "=".
_OPERATORS: tuple[str, ...] = ("//", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%", "(", ")")
_OPERATORS += ("[", "]", "{", "}", ",", ".", ":")

_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?", re.ASCII)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
_SPACE = frozenset(" \t\r\n")
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}", re.ASCII)


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    value: Any  # the literal's value, the name, or the operator/keyword text
    column: int  # 1-based


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char in _SPACE:
            pos += 1
        elif char in "\"'":
            value, pos_after = _read_string(text, pos)
            tokens.append(Token("string", value, pos + 1))
            pos = pos_after
        elif char.isascii() and char.isdigit():
            token, pos = _read_number(text, pos)
            tokens.append(token)
        elif (name := _NAME.match(text, pos)) is not None:
            tokens.append(_word(name.group(), pos + 1))
            pos = name.end()
        else:
            operator = next((op for op in _OPERATORS if text.startswith(op, pos)), None)
            if operator is None:
                hint = " (did you mean '=='?)" if char == "=" else ""
                raise ExprSyntaxError(f"unexpected character {char!r}{hint}", pos + 1)
            tokens.append(Token("op", operator, pos + 1))
            pos += len(operator)
    tokens.append(Token("end", None, len(text) + 1))
    return tokens


def _word(word: str, column: int) -> Token:
    if word not in _KEYWORDS:
        return Token("name", word, column)
    kind, value = _KEYWORDS[word]
    return Token("keyword", value, column) if kind == "literal" else Token("op", value, column)


def _read_number(text: str, pos: int) -> tuple[Token, int]:
    match = _NUMBER.match(text, pos)
    assert match is not None  # the caller saw a digit
    end = match.end()
    if end < len(text) and (text[end].isalnum() or text[end] == "_"):
        raise ExprSyntaxError(f"invalid number {text[pos : end + 1]!r}", pos + 1)
    literal = match.group()
    if match.group(1) is None and match.group(2) is None:
        return Token("number", int(literal), pos + 1), end
    value = float(literal)
    if value in (float("inf"), float("-inf")):
        raise ExprSyntaxError(f"number {literal} is too large for a double", pos + 1)
    return Token("number", value, pos + 1), end


def _read_string(text: str, start: int) -> tuple[str, int]:
    quote = text[start]
    pos = start + 1
    out: list[str] = []
    while pos < len(text):
        char = text[pos]
        if char == quote:
            return "".join(out), pos + 1
        if char != "\\":
            out.append(char)
            pos += 1
            continue
        escape = text[pos + 1 : pos + 2]
        if escape == "u":
            code, pos = _read_unicode_escape(text, pos)
            out.append(code)
        elif escape in _ESCAPES:
            out.append(_ESCAPES[escape])
            pos += 2
        else:
            raise ExprSyntaxError(f"invalid escape sequence '\\{escape}' in string", pos + 1)
    raise ExprSyntaxError("unterminated string literal", start + 1)


def _read_unicode_escape(text: str, pos: int) -> tuple[str, int]:
    """``\\uXXXX``, joining a surrogate pair into one code point as JSON does."""
    high = _hex4(text, pos)
    if not 0xD800 <= high <= 0xDFFF:
        return chr(high), pos + 6
    if high <= 0xDBFF and text.startswith("\\u", pos + 6):
        low = _hex4(text, pos + 6)
        if 0xDC00 <= low <= 0xDFFF:
            return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)), pos + 12
    raise ExprSyntaxError("invalid \\u escape: unpaired surrogate", pos + 1)


def _hex4(text: str, pos: int) -> int:
    digits = _HEX4.fullmatch(text, pos + 2, pos + 6)
    if digits is None:
        raise ExprSyntaxError("invalid \\u escape: expected four hex digits", pos + 1)
    return int(digits.group(), 16)
