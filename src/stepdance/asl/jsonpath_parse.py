"""Compiling an ASL path into steps, following the grammar of Jayway JsonPath (the library AWS runs).

A path starts at a root: ``$`` (the input), ``$$`` (the context object), ``$name`` (a variable) or ``@``
(the current item inside a filter). Steps are ``.name``, ``['name']``, ``['a','b']``, ``[0]``, ``[0,2]``,
``[1:3]``, ``*``/``[*]``, ``..`` (deep scan), ``[?(...)]`` (filter) and a trailing function such as
``.length()``. Quoted names keep their backslashes: AWS matches ``$['a\\"b']`` against the key ``a\\"b``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from stepdance.asl.jsonpath_filter import FilterExpr

Root = Literal["$", "$$", "@", "var"]

_VARIABLE = re.compile(r"\$([^\W\d]\w*)")
_INDEX = re.compile(r"\s*(-?\d+)\s*")
_SLICE = re.compile(r"\s*(-?\d+)?\s*:\s*(-?\d+)?\s*")
_NAME_END = frozenset(".[( \t\r\n")
FUNCTIONS = frozenset({"length", "size", "min", "max", "sum", "avg", "keys", "first", "last"})


class JsonPathSyntaxError(ValueError):
    """The text is not a path AWS would accept."""


@dataclass(frozen=True, slots=True)
class Step:
    """One step; ``definite`` says whether it can select at most one node."""

    @property
    def fragment(self) -> str:  # how Jayway prints the step in its messages
        raise NotImplementedError

    def is_definite(self, leaf: bool) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class Prop(Step):
    names: tuple[str, ...]

    @property
    def fragment(self) -> str:
        return "[" + ",".join(f"'{name}'" for name in self.names) + "]"

    def is_definite(self, leaf: bool) -> bool:
        # Several names at the end merge into one object (Jayway's "multi property merge").
        return len(self.names) == 1 or leaf


@dataclass(frozen=True, slots=True)
class Index(Step):
    indices: tuple[int, ...]

    @property
    def fragment(self) -> str:
        return "[" + ",".join(str(i) for i in self.indices) + "]"

    def is_definite(self, leaf: bool) -> bool:
        return len(self.indices) == 1


@dataclass(frozen=True, slots=True)
class Slice(Step):
    start: int | None
    end: int | None

    @property
    def fragment(self) -> str:
        return f"[{'' if self.start is None else self.start}:{'' if self.end is None else self.end}]"

    def is_definite(self, leaf: bool) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class Wildcard(Step):
    @property
    def fragment(self) -> str:
        return "[*]"

    def is_definite(self, leaf: bool) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class Scan(Step):
    """``..``: applies the next step to the node and every node below it, depth first."""

    @property
    def fragment(self) -> str:
        return ".."

    def is_definite(self, leaf: bool) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class Filter(Step):
    expr: FilterExpr = field(compare=False)
    text: str = ""

    @property
    def fragment(self) -> str:
        return "[?]"

    def is_definite(self, leaf: bool) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class CompiledPath:
    """A parsed path. ``simple`` holds the keys of a path made only of single names and indices."""

    text: str
    root: Root
    variable: str | None
    steps: tuple[Step, ...]
    definite: bool
    strict: tuple[bool, ...]  # per step: a miss there is an error (its upstream is definite)
    function: str | None = None
    simple: tuple[str | int, ...] | None = None

    def eval_path(self, upto: int) -> str:
        """Jayway's name for the node reached after ``upto`` steps, e.g. ``$['a'][0]``."""
        return "$" + "".join(step.fragment for step in self.steps[:upto])

    @property
    def jayway_text(self) -> str:
        return self.eval_path(len(self.steps)) + (f".{self.function}()" if self.function else "")


@lru_cache(maxsize=4096)
def compile_path(text: str) -> CompiledPath:
    """Parse ``text`` once; raises :class:`JsonPathSyntaxError`."""
    if not isinstance(text, str) or not text:
        raise JsonPathSyntaxError(f"Invalid path: {text!r}")
    root, variable, position = _root(text)
    steps, function = _Parser(text, position).steps()
    return _build(text, root, variable, tuple(steps), function)


def _root(text: str) -> tuple[Root, str | None, int]:
    if text.startswith("$$"):
        return "$$", None, 2
    if text.startswith("@"):
        return "@", None, 1
    match = _VARIABLE.match(text)
    if match:
        return "var", match.group(1), match.end()
    if text.startswith("$"):
        return "$", None, 1
    raise JsonPathSyntaxError(f"Path must start with '$' or '@': {text}")


def _build(
    text: str, root: Root, variable: str | None, steps: tuple[Step, ...], function: str | None
) -> CompiledPath:
    last = len(steps) - 1
    definite = True
    strict: list[bool] = []
    for index, step in enumerate(steps):
        strict.append(definite)
        definite = definite and step.is_definite(index == last)
    simple: tuple[str | int, ...] | None = None
    if function is None and all(_is_simple(step) for step in steps):
        simple = tuple(step.names[0] if isinstance(step, Prop) else step.indices[0] for step in steps)  # type: ignore[attr-defined]
    return CompiledPath(text, root, variable, steps, definite, tuple(strict), function, simple)


def _is_simple(step: Step) -> bool:
    return (isinstance(step, Prop) and len(step.names) == 1) or (
        isinstance(step, Index) and len(step.indices) == 1
    )


class _Parser:
    def __init__(self, text: str, position: int) -> None:
        self.text = text
        self.pos = position

    def fail(self, message: str) -> JsonPathSyntaxError:
        return JsonPathSyntaxError(f"{message} at position {self.pos} in path: {self.text}")

    def steps(self) -> tuple[list[Step], str | None]:
        steps: list[Step] = []
        function: str | None = None
        while self.pos < len(self.text):
            if function is not None:
                raise self.fail("A function must be the last step")
            char = self.text[self.pos]
            if self.text.startswith("..", self.pos):
                steps.append(Scan())
                self.pos += 2
                steps.append(self._after_scan())
            elif char == ".":
                self.pos += 1
                step_or_function = self._dotted()
                if isinstance(step_or_function, str):
                    function = step_or_function
                else:
                    steps.append(step_or_function)
            elif char == "[":
                steps.append(self._bracket())
            else:
                raise self.fail(f"Unexpected character {char!r}")
        return steps, function

    def _after_scan(self) -> Step:
        if self.pos < len(self.text) and self.text[self.pos] == "[":
            return self._bracket()
        step = self._dotted()
        if isinstance(step, str):
            raise self.fail("A function cannot follow '..'")
        return step

    def _dotted(self) -> Step | str:
        if self.text.startswith("*", self.pos):
            self.pos += 1
            return Wildcard()
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in _NAME_END:
            self.pos += 1
        name = self.text[start : self.pos]
        if not name:
            raise self.fail("Expected a property name")
        if self.text.startswith("()", self.pos):
            if name not in FUNCTIONS:
                raise self.fail(f"Function of name: {name} cannot be created")
            self.pos += 2
            return name
        if self.pos < len(self.text) and self.text[self.pos] in " \t\r\n(":
            raise self.fail("Use bracket notion ['my prop'] if your property contains blank characters")
        return Prop((name,))

    def _bracket(self) -> Step:
        close = _matching_bracket(self.text, self.pos)
        if close is None:
            raise self.fail("Unclosed '['")
        body = self.text[self.pos + 1 : close]
        self.pos = close + 1
        return self._bracket_body(body)

    def _bracket_body(self, body: str) -> Step:
        stripped = body.strip()
        if stripped == "*":
            return Wildcard()
        if stripped.startswith("?"):
            return _filter_step(stripped, self)
        if stripped[:1] in ("'", '"'):
            return Prop(tuple(_quoted_names(stripped, self)))
        if ":" in stripped:
            match = _SLICE.fullmatch(stripped)
            if not match:
                raise self.fail(f"Invalid slice [{body}]")
            start, end = match.groups()
            return Slice(None if start is None else int(start), None if end is None else int(end))
        indices = [_INDEX.fullmatch(part) for part in stripped.split(",")]
        if not stripped or not all(indices):
            raise self.fail(f"Invalid array index [{body}]")
        return Index(tuple(int(m.group(1)) for m in indices if m))


def _filter_step(body: str, parser: _Parser) -> Step:
    from stepdance.asl.jsonpath_filter import parse_filter

    inner = body[1:].strip()
    if not (inner.startswith("(") and inner.endswith(")")):
        raise parser.fail("Filter must be written [?(<expression>)]")
    try:
        return Filter(parse_filter(inner[1:-1]), inner[1:-1])
    except JsonPathSyntaxError as exc:
        raise parser.fail(str(exc)) from None


def _quoted_names(body: str, parser: _Parser) -> list[str]:
    names: list[str] = []
    position = 0
    while True:
        quote = body[position]
        end = _closing_quote(body, position)
        if end is None:
            raise parser.fail("Unclosed quote")
        names.append(body[position + 1 : end])
        position = end + 1
        while position < len(body) and body[position].isspace():
            position += 1
        if position == len(body):
            return names
        if body[position] != ",":
            raise parser.fail("Property must be separated by comma or terminated by ']'")
        position += 1
        while position < len(body) and body[position].isspace():
            position += 1
        if position == len(body) or body[position] not in ("'", '"'):
            raise parser.fail(f"Expected a quoted property after ',' (quote {quote})")


def _closing_quote(text: str, start: int) -> int | None:
    """Index of the quote closing the one at ``start``; a backslash protects the next character."""
    quote = text[start]
    position = start + 1
    while position < len(text):
        char = text[position]
        if char == "\\":
            position += 2
            continue
        if char == quote:
            return position
        position += 1
    return None


def _matching_bracket(text: str, start: int) -> int | None:
    depth = 0
    position = start
    while position < len(text):
        char = text[position]
        if char in ("'", '"'):
            end = _closing_quote(text, position)
            if end is None:
                return None
            position = end
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                return position
        position += 1
    return None


def path_extent(text: str, start: int, stops: frozenset[str]) -> int:
    """End of a path written inside a larger expression: the first top-level character in ``stops``."""
    depth = 0
    position = start
    while position < len(text):
        char = text[position]
        if char in ("'", '"') and depth:
            end = _closing_quote(text, position)
            position = len(text) if end is None else end + 1
            continue
        if char in "[(":
            depth += 1
        elif char in "])":
            if depth == 0:
                return position
            depth -= 1
        elif depth == 0 and (char in stops or char.isspace()):
            return position
        position += 1
    return position
