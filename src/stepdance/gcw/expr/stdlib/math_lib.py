"""The ``math`` module: ``abs``, ``floor``, ``max`` and ``min`` on integers and doubles."""

from __future__ import annotations

import math
from typing import Any

from stepdance.gcw.expr.context import Context
from stepdance.gcw.expr.errors import value_error
from stepdance.gcw.expr.functions import builtin
from stepdance.gcw.expr.stdlib import args
from stepdance.gcw.expr.values import checked_int, is_int


@builtin("math.abs", "x")
def abs_(context: Context, x: Any) -> int | float:
    value = args.number("math.abs", "x", x)
    if isinstance(value, int):
        return checked_int(abs(value))
    return abs(value)


@builtin("math.floor", "x")
def floor(context: Context, x: Any) -> int:
    value = args.number("math.floor", "x", x)
    if is_int(value):
        return int(value)
    if not math.isfinite(value):
        raise value_error(f"math.floor: cannot take the floor of {value!r}")
    return checked_int(math.floor(value))


@builtin("math.max", "x", "y")
def max_(context: Context, x: Any, y: Any) -> int | float:
    first, second = args.number("math.max", "x", x), args.number("math.max", "y", y)
    # The chosen argument keeps its own type: math.max(1, 2.5) is 2.5, math.max(3, 2.5) is 3.
    return second if second > first else first


@builtin("math.min", "x", "y")
def min_(context: Context, x: Any, y: Any) -> int | float:
    first, second = args.number("math.min", "x", x), args.number("math.min", "y", y)
    return second if second < first else first


FUNCTIONS = [abs_, floor, max_, min_]
