"""Checks on the JSONata expressions (``{% ... %}`` strings) of JSONata states.

AWS parses every expression when the state machine is created: one that does not parse is an
``INVALID_JSONATA_EXPRESSION`` carrying the parser's message, and one that reads a bare name from the
top-level context (there is none: input arrives as ``$states.input``) is an
``UNSUPPORTED_JSONATA_EXPRESSION``. Parsing is done by the ``jsonata`` library.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonata

from stepdance.asl.validate_context import Report, child, item

OPEN, CLOSE = "{%", "%}"


def is_expression(value: object) -> bool:
    return isinstance(value, str) and value.startswith(OPEN)


def check_string(report: Report, text: str, location: str) -> None:
    """Check one string of a JSONata state: plain strings are literals, ``{% %}`` ones expressions."""
    if not text.startswith(OPEN):
        return
    if not text.endswith(CLOSE) or len(text) < len(OPEN) + len(CLOSE):
        report.schema("JSONata string must start with {% and end with %}", location)
        return
    check_expression(report, text[len(OPEN) : -len(CLOSE)], location)


def check_expression(report: Report, expression: str, location: str) -> None:
    try:
        ast = jsonata.Jsonata(expression).ast
    # The parser is a third-party boundary: any failure of it means "does not parse".
    except Exception as exc:
        report.add("INVALID_JSONATA_EXPRESSION", _parser_message(exc), location)
        return
    for name in sorted(set(_top_level_names(ast))):
        report.add(
            "UNSUPPORTED_JSONATA_EXPRESSION",
            f"Reference to '{name}' at the top level is not supported.",
            location,
        )


def check_value(report: Report, value: Any, location: str) -> None:
    """Check every string inside a JSON value (an Output, Arguments or Assign template)."""
    if isinstance(value, str):
        check_string(report, value, location)
    elif isinstance(value, dict):
        for key, nested in value.items():
            check_value(report, nested, child(location, str(key)))
    elif isinstance(value, list):
        for index, nested in enumerate(value):
            check_value(report, nested, item(location, index))


def _parser_message(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "Expression is too deeply nested"
    return str(exc) or type(exc).__name__


# Nodes whose children are evaluated against the same (top-level) context as the node itself. Steps after
# the first of a path, predicates and lambda bodies see another context, so they are not visited.
_SAME_CONTEXT_FIELDS = ("lhs", "rhs", "expression", "expressions", "condition", "then", "_else", "arguments")


def _top_level_names(node: Any) -> Iterator[str]:
    if isinstance(node, list):
        for element in node:
            yield from _top_level_names(element)
        return
    kind = getattr(node, "type", None)
    if kind == "name":
        yield str(node.value)
    elif kind == "path":
        yield from _top_level_names((node.steps or [None])[0])
    elif kind == "unary" and node.value == "{":
        yield from _top_level_names([value for _, value in node.lhs_object or []])
    elif kind in ("binary", "unary", "condition", "block", "function", "partial", "bind", "apply"):
        for field in _SAME_CONTEXT_FIELDS:
            if field == "arguments" and kind not in ("function", "partial"):
                continue
            yield from _top_level_names(getattr(node, field, None))
