"""The expression tree: frozen dataclasses, each remembering the 1-based column it starts at."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Expr:
    column: int

    def children(self) -> Iterator[Expr]:
        return iter(())


@dataclass(frozen=True, slots=True)
class Literal(Expr):
    value: Any  # None, bool, int, float or str


@dataclass(frozen=True, slots=True)
class Name(Expr):
    name: str


@dataclass(frozen=True, slots=True)
class Attribute(Expr):
    target: Expr
    name: str

    def children(self) -> Iterator[Expr]:
        yield self.target


@dataclass(frozen=True, slots=True)
class Index(Expr):
    target: Expr
    index: Expr

    def children(self) -> Iterator[Expr]:
        yield self.target
        yield self.index


@dataclass(frozen=True, slots=True)
class Call(Expr):
    function: str  # the dotted name, e.g. "text.split"; only named functions can be called
    args: tuple[Expr, ...]

    def children(self) -> Iterator[Expr]:
        yield from self.args


@dataclass(frozen=True, slots=True)
class Unary(Expr):
    op: str  # "-" or "not"
    operand: Expr

    def children(self) -> Iterator[Expr]:
        yield self.operand


@dataclass(frozen=True, slots=True)
class Binary(Expr):
    op: str  # + - * / // % == != < <= > >= in
    left: Expr
    right: Expr

    def children(self) -> Iterator[Expr]:
        yield self.left
        yield self.right


@dataclass(frozen=True, slots=True)
class Logical(Expr):
    op: str  # "and" or "or": short-circuit, so not a Binary
    left: Expr
    right: Expr

    def children(self) -> Iterator[Expr]:
        yield self.left
        yield self.right


@dataclass(frozen=True, slots=True)
class ListLiteral(Expr):
    items: tuple[Expr, ...]

    def children(self) -> Iterator[Expr]:
        yield from self.items


@dataclass(frozen=True, slots=True)
class MapLiteral(Expr):
    entries: tuple[tuple[Expr, Expr], ...]

    def children(self) -> Iterator[Expr]:
        for key, value in self.entries:
            yield key
            yield value


def dotted_name(expr: Expr) -> str | None:
    """``a.b.c`` as one name when the chain is made only of names and attributes, else None."""
    parts: list[str] = []
    while isinstance(expr, Attribute):
        parts.append(expr.name)
        expr = expr.target
    if not isinstance(expr, Name):
        return None
    parts.append(expr.name)
    return ".".join(reversed(parts))
