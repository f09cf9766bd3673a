"""The expression language of Google Cloud Workflows, the ``${...}`` in a workflow: pure, no I/O.

::

    expr = parse('text.split(order.items, ",")')          # the text INSIDE ${...}
    evaluate(expr, {"order": {"items": "a,b"}}, context)   # ["a", "b"]
    interpolate({"n": "${1 + 1}", "s": "x ${y}"}, scope, context)   # {"n": 2, "s": "x ${y}"}

Our own lexer, parser and evaluator: user text never reaches Python's ``eval``. Everything that is not a
function of its inputs (the clock, identifiers, randomness, the environment) comes from the
:class:`Context`, so the durable engine can replay an execution and get the same values. Runtime errors are
:class:`WorkflowsError` carrying the map an ``except`` sees; malformed text is :class:`ExprSyntaxError`.
"""

from __future__ import annotations

from stepdance.gcw.expr.calls import call_function
from stepdance.gcw.expr.context import Context
from stepdance.gcw.expr.errors import ExprSyntaxError, WorkflowsError
from stepdance.gcw.expr.evaluate import evaluate
from stepdance.gcw.expr.interpolate import expression_text, interpolate, parse_value
from stepdance.gcw.expr.nodes import Expr
from stepdance.gcw.expr.parser import parse
from stepdance.gcw.expr.stdlib.retry_lib import Backoff, RetryPolicy
from stepdance.gcw.expr.values import FunctionRef

__all__ = [
    "Backoff",
    "Context",
    "Expr",
    "ExprSyntaxError",
    "FunctionRef",
    "RetryPolicy",
    "WorkflowsError",
    "call_function",
    "evaluate",
    "expression_text",
    "interpolate",
    "parse",
    "parse_value",
]
