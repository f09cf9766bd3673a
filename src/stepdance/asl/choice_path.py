"""Resolving the definite paths a Choice rule names: ``$.a.b``, ``$['a'][0]``, ``$$.Execution.Id``, ``$var.x``.

Choice needs to tell "the path finds null" from "the path finds nothing" (``IsPresent``), so this returns
``(found, value)`` instead of raising.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from stepdance.asl import errors
from stepdance.asl.errors import StatesError
from stepdance.asl.scope import Scope

Step = str | int

_VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_DOT_NAME = re.compile(r"\.([^.\[]+)")
_BRACKET = re.compile(r"""\[\s*(?:(\d+)|'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*\]""")


def resolve(path: str, value: Any, scope: Scope) -> tuple[bool, Any]:
    """``(True, found value)`` or ``(False, None)`` when ``path`` finds nothing."""
    root, steps = _compile(path)
    found, current = _root(root, value, scope)
    for step in steps:
        if not found:
            break
        found, current = _step(current, step)
    return found, current


def _root(root: str, value: Any, scope: Scope) -> tuple[bool, Any]:
    if root == "$":
        return True, value
    if root == "$$":
        return True, scope.context
    name = root[1:]
    if name in scope.variables:
        return True, scope.variables[name]
    return False, None


def _step(current: Any, step: Step) -> tuple[bool, Any]:
    if isinstance(step, int):
        if isinstance(current, list) and step < len(current):
            return True, current[step]
        return False, None
    if isinstance(current, Mapping) and step in current:
        return True, current[step]
    return False, None


@lru_cache(maxsize=4096)
def _compile(path: str) -> tuple[str, tuple[Step, ...]]:
    root, position = _parse_root(path)
    steps: list[Step] = []
    while position < len(path):
        step, position = _parse_step(path, position)
        steps.append(step)
    return root, tuple(steps)


def _parse_root(path: str) -> tuple[str, int]:
    if path.startswith("$$"):
        return "$$", 2
    variable = _VARIABLE.match(path)
    if variable is not None:
        return variable.group(0), variable.end()
    if path.startswith("$"):
        return "$", 1
    raise _unsupported(path)


def _parse_step(path: str, position: int) -> tuple[Step, int]:
    dotted = _DOT_NAME.match(path, position)
    if dotted is not None:
        return dotted.group(1), dotted.end()
    bracket = _BRACKET.match(path, position)
    if bracket is None:
        raise _unsupported(path)
    index, single, double = bracket.groups()
    if index is not None:
        return int(index), bracket.end()
    quoted = single if single is not None else double
    return re.sub(r"\\(.)", r"\1", quoted), bracket.end()


def _unsupported(path: str) -> StatesError:
    return StatesError(
        errors.RUNTIME, f"Invalid path '{path}': The choice state's condition path is not a definite path."
    )
