"""How a library function is declared and bound to its arguments.

Expressions pass arguments by position (``text.split(s, ",")``); ``call:`` steps pass them by name
(``args: {source: ..., separator: ...}``). A :class:`Builtin` knows its documented parameter names, so the
interpreter can call the same function both ways (see ``calls.call_function``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stepdance.gcw.expr.errors import type_error


@dataclass(frozen=True, slots=True)
class Builtin:
    name: str
    params: tuple[str, ...]
    required: int
    impl: Callable[..., Any]  # impl(context, *bound_args)

    def bind(self, args: Sequence[Any], kwargs: Mapping[str, Any]) -> list[Any]:
        if len(args) > len(self.params):
            raise type_error(
                f"{self.name}() takes at most {len(self.params)} arguments but {len(args)} were given"
            )
        bound = list(args)
        for param in self.params[len(args) :]:
            if param not in kwargs:
                break
            bound.append(kwargs[param])
        unknown = set(kwargs) - set(self.params[len(args) : len(bound)])
        if unknown:
            raise type_error(f"{self.name}() got an unexpected argument '{sorted(unknown)[0]}'")
        if len(bound) < self.required:
            missing = self.params[len(bound)]
            raise type_error(f"{self.name}() missing required argument '{missing}'")
        return bound


def builtin(name: str, *params: str, required: int | None = None) -> Callable[[Callable[..., Any]], Builtin]:
    """Declare a library function: ``@builtin("text.split", "source", "separator")``."""

    def wrap(impl: Callable[..., Any]) -> Builtin:
        return Builtin(name, params, len(params) if required is None else required, impl)

    return wrap
