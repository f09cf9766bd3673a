"""Filter expressions, ``[?(@.price < 10 && @.tags anyof ['a'])]``, with Jayway's operators and typing.

Operands are paths (``@...`` from the current item, ``$...`` from the document root), quoted strings,
numbers, ``true``/``false``/``null``, literal lists and regular expressions (``/^a.*/i``). A path on its
own is an existence test. Comparisons between values of different kinds are false, as in Jayway, except
that a number and a numeric string compare as numbers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stepdance.asl.jsonpath_parse import CompiledPath, JsonPathSyntaxError, compile_path, path_extent
from stepdance.asl.jsontext import equality_key

UNDEFINED: Any = type("Undefined", (), {"__repr__": lambda self: "UNDEFINED"})()
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
_WORD_OPERATORS = ("subsetof", "contains", "noneof", "anyof", "empty", "size", "nin", "in")
_SYMBOL_OPERATORS = ("===", "!==", "==", "!=", "<=", ">=", "=~", "<", ">")
_PATH_STOPS = frozenset("=!<>&|),")

Resolve = Callable[[CompiledPath, Any, Any], Any]


class FilterExpr:
    def test(self, item: Any, root: Any, resolve: Resolve) -> bool:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class _Or(FilterExpr):
    parts: tuple[FilterExpr, ...]

    def test(self, item: Any, root: Any, resolve: Resolve) -> bool:
        return any(part.test(item, root, resolve) for part in self.parts)


@dataclass(frozen=True, slots=True)
class _And(FilterExpr):
    parts: tuple[FilterExpr, ...]

    def test(self, item: Any, root: Any, resolve: Resolve) -> bool:
        return all(part.test(item, root, resolve) for part in self.parts)


@dataclass(frozen=True, slots=True)
class _Not(FilterExpr):
    inner: FilterExpr

    def test(self, item: Any, root: Any, resolve: Resolve) -> bool:
        return not self.inner.test(item, root, resolve)


@dataclass(frozen=True, slots=True)
class _Operand:
    path: CompiledPath | None = None
    value: Any = None
    regex: re.Pattern[str] | None = None

    def get(self, item: Any, root: Any, resolve: Resolve) -> Any:
        if self.path is None:
            return self.value
        return resolve(self.path, item if self.path.root == "@" else root, root)


@dataclass(frozen=True, slots=True)
class _Exists(FilterExpr):
    operand: _Operand

    def test(self, item: Any, root: Any, resolve: Resolve) -> bool:
        value = self.operand.get(item, root, resolve)
        if self.operand.path is None:
            return value is True
        return value is not UNDEFINED and (self.operand.path.definite or bool(value))


@dataclass(frozen=True, slots=True)
class _Compare(FilterExpr):
    left: _Operand
    operator: str
    right: _Operand

    def test(self, item: Any, root: Any, resolve: Resolve) -> bool:
        if self.operator == "=~":
            return _regex_match(self.left, self.right, item, root, resolve)
        left = self.left.get(item, root, resolve)
        right = self.right.get(item, root, resolve)
        if left is UNDEFINED or right is UNDEFINED:
            return self.operator in ("!=", "!==", "nin")
        return _OPERATORS[self.operator](left, right)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_number(value: Any) -> float | int | None:
    if _is_number(value):
        return value  # type: ignore[no-any-return]
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return float(value)
    return None


def _equals(left: Any, right: Any) -> bool:
    if _is_number(left) or _is_number(right):
        a, b = _as_number(left), _as_number(right)
        return a is not None and b is not None and a == b
    return bool(equality_key(left) == equality_key(right))


def _strict_equals(left: Any, right: Any) -> bool:
    return type(left) is type(right) and _equals(left, right)


def _ordered(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def check(left: Any, right: Any) -> bool:
        both_numbers = _is_number(left) and _is_number(right)
        return (both_numbers or (isinstance(left, str) and isinstance(right, str))) and compare(left, right)

    return check


def _member(left: Any, right: Any) -> bool:
    return isinstance(right, list) and any(_equals(left, candidate) for candidate in right)


def _contains(left: Any, right: Any) -> bool:
    if isinstance(left, str):
        return isinstance(right, str) and right in left
    return _member(right, left)


def _lists(check: Callable[[list[Any], list[Any]], bool]) -> Callable[[Any, Any], bool]:
    return lambda left, right: isinstance(left, list) and isinstance(right, list) and check(left, right)


def _size(left: Any, right: Any) -> bool:
    return isinstance(left, str | list) and _is_number(right) and len(left) == right


def _empty(left: Any, right: Any) -> bool:
    return isinstance(left, str | list) and isinstance(right, bool) and (len(left) == 0) == right


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": _equals,
    "!=": lambda left, right: not _equals(left, right),
    "===": _strict_equals,
    "!==": lambda left, right: not _strict_equals(left, right),
    "<": _ordered(lambda a, b: a < b),
    "<=": _ordered(lambda a, b: a <= b),
    ">": _ordered(lambda a, b: a > b),
    ">=": _ordered(lambda a, b: a >= b),
    "in": _member,
    "nin": lambda left, right: isinstance(right, list) and not _member(left, right),
    "contains": _contains,
    "subsetof": _lists(lambda left, right: all(_member(x, right) for x in left)),
    "anyof": _lists(lambda left, right: any(_member(x, right) for x in left)),
    "noneof": _lists(lambda left, right: not any(_member(x, right) for x in left)),
    "size": _size,
    "empty": _empty,
}


def _regex_match(left: _Operand, right: _Operand, item: Any, root: Any, resolve: Resolve) -> bool:
    pattern, subject = (right, left) if right.regex is not None else (left, right)
    if pattern.regex is None:
        return False
    text = subject.get(item, root, resolve)
    return isinstance(text, str) and pattern.regex.fullmatch(text) is not None


def parse_filter(text: str) -> FilterExpr:
    """Parse the expression inside ``[?( ... )]``; raises :class:`JsonPathSyntaxError`."""
    parser = _FilterParser(text)
    expr = parser.disjunction()
    parser.skip_space()
    if parser.pos != len(text):
        raise JsonPathSyntaxError(f"Unexpected {text[parser.pos :]!r} in filter '{text}'")
    return expr


class _FilterParser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, message: str) -> JsonPathSyntaxError:
        return JsonPathSyntaxError(f"{message} in filter '{self.text}'")

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def take(self, token: str) -> bool:
        self.skip_space()
        if self.text.startswith(token, self.pos):
            self.pos += len(token)
            return True
        return False

    def disjunction(self) -> FilterExpr:
        parts = [self.conjunction()]
        while self.take("||"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else _Or(tuple(parts))

    def conjunction(self) -> FilterExpr:
        parts = [self.unary()]
        while self.take("&&"):
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else _And(tuple(parts))

    def unary(self) -> FilterExpr:
        self.skip_space()
        if self.text.startswith("!", self.pos) and not self.text.startswith("!=", self.pos):
            self.pos += 1
            return _Not(self.unary())
        if self.take("("):
            inner = self.disjunction()
            if not self.take(")"):
                raise self.fail("Missing ')'")
            return inner
        return self.relation()

    def relation(self) -> FilterExpr:
        left = self.operand()
        operator = self.operator()
        if operator is None:
            return _Exists(left)
        return _Compare(left, operator, self.operand())

    def operator(self) -> str | None:
        self.skip_space()
        for symbol in _SYMBOL_OPERATORS:
            if self.text.startswith(symbol, self.pos):
                self.pos += len(symbol)
                return symbol
        for word in _WORD_OPERATORS:
            end = self.pos + len(word)
            if self.text.startswith(word, self.pos) and (
                end == len(self.text) or not self.text[end].isalnum()
            ):
                self.pos = end
                return word
        return None

    def operand(self) -> _Operand:
        self.skip_space()
        if self.pos >= len(self.text):
            raise self.fail("Expected a value")
        char = self.text[self.pos]
        if char in "@$":
            end = path_extent(self.text, self.pos, _PATH_STOPS)
            path = compile_path(self.text[self.pos : end])
            self.pos = end
            return _Operand(path=path)
        if char in "'\"":
            return _Operand(value=self.quoted())
        if char == "/":
            return _Operand(regex=self.regex())
        if char in "[{":
            return _Operand(value=self.json_literal())
        return _Operand(value=self.scalar())

    def quoted(self) -> str:
        quote = self.text[self.pos]
        out: list[str] = []
        position = self.pos + 1
        while position < len(self.text):
            char = self.text[position]
            if char == "\\" and position + 1 < len(self.text):
                out.append(self.text[position + 1])
                position += 2
                continue
            if char == quote:
                self.pos = position + 1
                return "".join(out)
            out.append(char)
            position += 1
        raise self.fail("Unclosed string")

    def regex(self) -> re.Pattern[str]:
        end = self.text.find("/", self.pos + 1)
        while end > 0 and self.text[end - 1] == "\\":
            end = self.text.find("/", end + 1)
        if end < 0:
            raise self.fail("Unclosed regular expression")
        source = self.text[self.pos + 1 : end]
        self.pos = end + 1
        flags = 0
        while self.pos < len(self.text) and self.text[self.pos] in "imsx":
            flags |= {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}[
                self.text[self.pos]
            ]
            self.pos += 1
        try:
            return re.compile(source, flags)
        except re.error as exc:
            raise self.fail(f"Invalid regular expression /{source}/: {exc}") from None

    def json_literal(self) -> Any:
        end = self._literal_end()
        source = self.text[self.pos : end]
        self.pos = end
        try:
            return json.loads(_single_to_double_quotes(source))
        except ValueError:
            raise self.fail(f"Invalid literal {source}") from None

    def _literal_end(self) -> int:
        depth = 0
        position = self.pos
        while position < len(self.text):
            char = self.text[position]
            if char in "'\"":
                position = self._skip_string(position)
                continue
            depth += 1 if char in "[{" else -1 if char in "]}" else 0
            position += 1
            if depth == 0:
                return position
        raise self.fail("Unclosed literal")

    def _skip_string(self, position: int) -> int:
        quote = self.text[position]
        position += 1
        while position < len(self.text) and self.text[position] != quote:
            position += 2 if self.text[position] == "\\" else 1
        return position + 1

    def scalar(self) -> Any:
        match = _NUMBER.match(self.text, self.pos)
        if match:
            self.pos = match.end()
            return json.loads(match.group(0))
        for word, value in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return value
        raise self.fail(f"Unexpected {self.text[self.pos :]!r}")


def _single_to_double_quotes(source: str) -> str:
    """Jayway reads literal lists leniently: ``['a', 'b']`` is a list of two strings."""
    out: list[str] = []
    position = 0
    while position < len(source):
        char = source[position]
        if char == "'":
            end = position + 1
            chunk: list[str] = []
            while end < len(source) and source[end] != "'":
                if source[end] == "\\" and end + 1 < len(source):
                    chunk.append(source[end + 1])
                    end += 2
                    continue
                chunk.append(source[end])
                end += 1
            out.append(json.dumps("".join(chunk)))
            position = end + 1
            continue
        if char == '"':
            end = position + 1
            while end < len(source) and source[end] != '"':
                end += 2 if source[end] == "\\" else 1
            out.append(source[position : end + 1])
            position = end + 1
            continue
        out.append(char)
        position += 1
    return "".join(out)
