"""Calling functions and resolving dotted names against the standard library."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from stepdance.gcw.expr.context import Context
from stepdance.gcw.expr.errors import key_error, type_error
from stepdance.gcw.expr.stdlib import BLOCKING, FUNCTIONS, VALUES
from stepdance.gcw.expr.values import FunctionRef


def call_function(
    name: str,
    args: Sequence[Any],
    context: Context,
    kwargs: Mapping[str, Any] | None = None,
) -> Any:
    """Call a library function, or one the context provides (a subworkflow), by its dotted name.

    Blocking calls (``sys.sleep``, ``sys.log``, ``http.get``...) are ``call:`` steps with side effects that
    the interpreter performs itself; Workflows forbids them inside expressions, and so does this.
    """
    if name in context.functions:
        if kwargs:
            raise type_error(f"{name}() takes positional arguments only")
        return context.functions[name](list(args))
    if name in BLOCKING:
        raise type_error(f"{name}() is a blocking call: use it in a call step, not in an expression")
    function = FUNCTIONS.get(name)
    if function is None:
        raise key_error(f"function not found: {name}")
    return function.impl(context, *function.bind(args, kwargs or {}))


def library_value(name: str, context: Context) -> Any:
    """What a dotted name that is not a variable denotes: a named value or a function, else KeyError."""
    if name in VALUES:
        return VALUES[name]
    if name in context.functions or name in FUNCTIONS or name in BLOCKING:
        return FunctionRef(name)
    raise key_error(f"name not defined: {name}")
