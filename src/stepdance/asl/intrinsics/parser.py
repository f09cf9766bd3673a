"""Parsing an intrinsic function call, ``States.Format('{} \\{x\\}', $.a, States.MathAdd(1, -2))``.

Arguments are calls, quoted strings (``'...'`` with the escapes ``\\'``, ``\\{``, ``\\}`` and ``\\\\``; any other
backslash is an error), JSON numbers, ``null``, ``true``, ``false`` and paths (``$.a``, ``$$.Execution.Id``,
``$var.x``, ``$``). A string keeps its text as written (``raw``) because ``States.Format`` treats an
escaped brace differently from a placeholder.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from stepdance.asl.jsonpath_parse import CompiledPath, JsonPathSyntaxError, compile_path, path_extent

_CALL_START = re.compile(r"States\.([A-Za-z0-9]+)\s*\(")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_WORDS = (("null", None), ("true", True), ("false", False))
_ESCAPABLE = frozenset("'{}\\")
_PATH_STOPS = frozenset(",)")


class IntrinsicSyntaxError(ValueError):
    """The text is not a well-formed intrinsic function call."""


@dataclass(frozen=True, slots=True)
class Literal:
    value: Any
    raw: str | None = None  # a string's text between the quotes, escapes kept


@dataclass(frozen=True, slots=True)
class PathArg:
    text: str
    path: CompiledPath


@dataclass(frozen=True, slots=True)
class Call:
    name: str  # "States.Format"
    args: tuple[Literal | PathArg | Call, ...]


Node = Literal | PathArg | Call


def is_intrinsic(text: Any) -> bool:
    """Whether ``text`` is written as an intrinsic function call (it may still be malformed)."""
    return isinstance(text, str) and _CALL_START.match(text) is not None


@lru_cache(maxsize=4096)
def parse_intrinsic(text: str) -> Call:
    """Parse once; raises :class:`IntrinsicSyntaxError`. Unknown function names are refused."""
    parser = _Parser(text)
    call = parser.call()
    parser.skip_space()
    if parser.pos != len(text):
        raise parser.fail("Unexpected text after the function call")
    return call


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, message: str) -> IntrinsicSyntaxError:
        return IntrinsicSyntaxError(f"{message} at position {self.pos} in '{self.text}'")

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def call(self) -> Call:
        from stepdance.asl.intrinsics.registry import FUNCTIONS

        match = _CALL_START.match(self.text, self.pos)
        if not match:
            raise self.fail("Expected an intrinsic function call")
        name = f"States.{match.group(1)}"
        if name not in FUNCTIONS:
            raise self.fail(f"Unknown intrinsic function {name}")
        self.pos = match.end()
        args: list[Node] = []
        self.skip_space()
        if self.text.startswith(")", self.pos):
            self.pos += 1
            return Call(name, ())
        while True:
            self.skip_space()
            args.append(self.argument())
            self.skip_space()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            if self.text.startswith(")", self.pos):
                self.pos += 1
                return Call(name, tuple(args))
            raise self.fail("Expected ',' or ')'")

    def argument(self) -> Node:
        if self.pos >= len(self.text):
            raise self.fail("Expected an argument")
        char = self.text[self.pos]
        if char == "'":
            return self.string()
        if char == "$":
            return self.path()
        if self.text.startswith("States.", self.pos):
            return self.call()
        return self.scalar()

    def string(self) -> Literal:
        start = self.pos + 1
        out: list[str] = []
        position = start
        while position < len(self.text):
            char = self.text[position]
            if char == "\\":
                following = self.text[position + 1 : position + 2]
                if following not in _ESCAPABLE or not following:
                    self.pos = position
                    raise self.fail("Invalid escape sequence")
                out.append(following)
                position += 2
                continue
            if char == "'":
                self.pos = position + 1
                return Literal("".join(out), self.text[start:position])
            out.append(char)
            position += 1
        raise self.fail("Unclosed string literal")

    def path(self) -> PathArg:
        end = path_extent(self.text, self.pos, _PATH_STOPS)
        text = self.text[self.pos : end]
        try:
            compiled = compile_path(text)
        except JsonPathSyntaxError as exc:
            raise self.fail(str(exc)) from None
        self.pos = end
        return PathArg(text, compiled)

    def scalar(self) -> Literal:
        match = _NUMBER.match(self.text, self.pos)
        if match and not self._word_continues(match.end()):
            self.pos = match.end()
            return Literal(json.loads(match.group(0)))
        for word, value in _WORDS:
            end = self.pos + len(word)
            if self.text.startswith(word, self.pos) and not self._word_continues(end):
                self.pos = end
                return Literal(value)
        raise self.fail("Invalid argument")

    def _word_continues(self, position: int) -> bool:
        return position < len(self.text) and (self.text[position].isalnum() or self.text[position] in "._")
