"""The expression helpers: conversion (``int``, ``double``, ``string``), data type (``keys``, ``len``),
conditional (``default``, ``if``) and type (``get_type``) functions. ``in`` is an operator (operators.py).

``if`` is a function like the others, so both branches are evaluated before it chooses; guard a lookup that
may fail with ``map.get`` and ``default`` rather than with ``if``.
"""

from __future__ import annotations

import re
from typing import Any

from stepdance.gcw.expr.context import Context
from stepdance.gcw.expr.errors import value_error
from stepdance.gcw.expr.functions import builtin
from stepdance.gcw.expr.stdlib import args
from stepdance.gcw.expr.values import checked_int, get_type_name, is_int, to_string

_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_DOUBLE_TEXT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?", re.ASCII)


@builtin("default", "val", "defaultVal")
def default(context: Context, val: Any, default_val: Any) -> Any:
    return default_val if val is None else val


@builtin("if", "condition", "ifTrue", "ifFalse")
def if_(context: Context, condition: Any, if_true: Any, if_false: Any) -> Any:
    if condition is not None and not isinstance(condition, bool):
        raise args.wrong("if", "condition", "a boolean or null", condition)
    return if_true if condition else if_false


@builtin("keys", "map")
def keys(context: Context, mapping: Any) -> list[str]:
    return list(args.map_value("keys", "map", mapping))


@builtin("len", "value")
def len_(context: Context, value: Any) -> int:
    if isinstance(value, (str, list, dict)):
        return len(value)
    raise args.wrong("len", "value", "a string, list or map", value)


@builtin("int", "value")
def int_(context: Context, value: Any) -> int:
    if is_int(value):
        return int(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise value_error(f"int: cannot convert {value!r} to an integer")
        return checked_int(int(value))  # toward zero, like a cast
    if isinstance(value, str):
        if _INTEGER_TEXT.fullmatch(value) is None:
            raise value_error(f"int: invalid literal for an integer: {value!r}")
        return checked_int(int(value))
    raise args.wrong("int", "value", "a string or a number", value)


@builtin("double", "value")
def double(context: Context, value: Any) -> float:
    if isinstance(value, float):
        return value
    if is_int(value):
        return float(value)
    if isinstance(value, str):
        if _DOUBLE_TEXT.fullmatch(value) is None:
            raise value_error(f"double: invalid literal for a double: {value!r}")
        result = float(value)
        if result in (float("inf"), float("-inf")):
            raise value_error(f"double: {value!r} is too large for a double")
        return result
    raise args.wrong("double", "value", "a string or a number", value)


@builtin("string", "value")
def string(context: Context, value: Any) -> str:
    if isinstance(value, (str, bool, int, float)):
        return to_string(value)
    raise args.wrong("string", "value", "an integer, double, boolean or string", value)


@builtin("get_type", "value")
def get_type(context: Context, value: Any) -> str:
    return get_type_name(value)


FUNCTIONS = [default, if_, keys, len_, int_, double, string, get_type]
