"""Evaluating the expressions inside a YAML value (the arguments of a call, an assign, a return...).

Workflows evaluates a string only when the whole string is one expression, ``"${...}"``, and the result
keeps its type (``"${1 + 1}"`` is the integer 2). Text around an expression is not interpolated:
``"Hello ${name}"`` stays exactly that string, so concatenation is written ``${"Hello " + name}``.
A YAML block scalar ends its text with a newline, so trailing newlines after the closing brace are allowed
(multi-line expressions). Lists and map values are interpolated recursively; map keys are left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from stepdance.gcw.expr import limits
from stepdance.gcw.expr.context import Context
from stepdance.gcw.expr.errors import resource_limit_error
from stepdance.gcw.expr.evaluate import evaluate
from stepdance.gcw.expr.nodes import Expr
from stepdance.gcw.expr.parser import parse


def expression_text(value: str) -> str | None:
    """The text inside ``${...}`` when ``value`` is exactly one expression, else None."""
    stripped = value.rstrip("\n")
    if stripped.startswith("${") and stripped.endswith("}"):
        return stripped[2:-1]
    return None


def parse_value(value: str) -> Expr | None:
    """The parsed expression when ``value`` is one; raises ExprSyntaxError when it is one but is malformed."""
    text = expression_text(value)
    return None if text is None else _parse_cached(text)


@lru_cache(maxsize=4096)
def _parse_cached(text: str) -> Expr:
    # Trees are immutable, and a workflow evaluates the same few expressions over and over.
    return parse(text)


def interpolate(value: Any, scope: Mapping[str, Any], context: Context, _depth: int = 0) -> Any:
    """``value`` with every full-string expression in it replaced by its result; a new structure."""
    if _depth > limits.MAX_VALUE_DEPTH:
        raise resource_limit_error(f"value nested more than {limits.MAX_VALUE_DEPTH} levels deep")
    if isinstance(value, str):
        expr = parse_value(value)
        return value if expr is None else evaluate(expr, scope, context)
    if isinstance(value, list):
        return [interpolate(item, scope, context, _depth + 1) for item in value]
    if isinstance(value, dict):
        return {key: interpolate(item, scope, context, _depth + 1) for key, item in value.items()}
    return value
