"""The operators, following the documented implicit-conversion rules (Data types, functions, operators).

``+`` is the documented table: numbers add (an int and a double give a double); a string on either side
concatenates the text of an integer, double, string or boolean on the other; anything else is a TypeError.
``- * / // %`` take numbers only: ``/`` always gives a double, ``//`` floors, ``%`` takes the sign of the
divisor so that ``a == (a // b) * b + a % b``. Integer results must fit in 64 bits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stepdance.gcw.expr.errors import type_error, zero_division_error
from stepdance.gcw.expr.values import (
    checked_double,
    checked_int,
    checked_string,
    compare,
    equals,
    is_int,
    is_number,
    to_string,
    type_name,
)


def _unsupported(op: str, left: Any, right: Any) -> Exception:
    return type_error(f"unsupported operand types for {op}: '{type_name(left)}' and '{type_name(right)}'")


def _concatenable(value: Any) -> bool:
    return isinstance(value, (str, bool)) or is_number(value)


def add(left: Any, right: Any) -> Any:
    if is_number(left) and is_number(right):
        return _numeric("+", left, right, lambda a, b: a + b)
    if (isinstance(left, str) or isinstance(right, str)) and _concatenable(left) and _concatenable(right):
        return checked_string(to_string(left) + to_string(right))
    raise _unsupported("+", left, right)


def subtract(left: Any, right: Any) -> Any:
    return _numeric("-", left, right, lambda a, b: a - b)


def multiply(left: Any, right: Any) -> Any:
    return _numeric("*", left, right, lambda a, b: a * b)


def divide(left: Any, right: Any) -> float:
    _require_numbers("/", left, right)
    if right == 0:
        raise zero_division_error("division by zero")
    return checked_double(left / right)


def floor_divide(left: Any, right: Any) -> Any:
    _require_numbers("//", left, right)
    if right == 0:
        raise zero_division_error("integer division or modulo by zero")
    return _numeric("//", left, right, lambda a, b: a // b)


def remainder(left: Any, right: Any) -> Any:
    _require_numbers("%", left, right)
    if right == 0:
        raise zero_division_error("integer division or modulo by zero")
    return _numeric("%", left, right, lambda a, b: a % b)


def negate(operand: Any) -> Any:
    if is_int(operand):
        return checked_int(-operand)
    if isinstance(operand, float):
        return -operand
    raise type_error(f"bad operand type for unary -: '{type_name(operand)}'")


def logical_not(operand: Any) -> bool:
    if not isinstance(operand, bool):
        raise type_error(f"bad operand type for not: '{type_name(operand)}' (expected bool)")
    return not operand


def require_bool(op: str, operand: Any) -> bool:
    if not isinstance(operand, bool):
        raise type_error(f"bad operand type for {op}: '{type_name(operand)}' (expected bool)")
    return operand


def contains(item: Any, container: Any) -> bool:
    if isinstance(container, list):
        return any(equals(item, element) for element in container)
    if isinstance(container, dict):
        return isinstance(item, str) and item in container
    raise type_error(f"argument of type '{type_name(container)}' is not iterable (in expects a list or map)")


def _require_numbers(op: str, left: Any, right: Any) -> None:
    if not (is_number(left) and is_number(right)):
        raise _unsupported(op, left, right)


def _numeric(op: str, left: Any, right: Any, apply: Callable[[Any, Any], Any]) -> Any:
    _require_numbers(op, left, right)
    if is_int(left) and is_int(right):
        return checked_int(apply(left, right))
    return checked_double(apply(float(left), float(right)))


_COMPARISONS: dict[str, Callable[[int], bool]] = {
    "<": lambda c: c < 0,
    "<=": lambda c: c <= 0,
    ">": lambda c: c > 0,
    ">=": lambda c: c >= 0,
}

_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": add,
    "-": subtract,
    "*": multiply,
    "/": divide,
    "//": floor_divide,
    "%": remainder,
}


def binary(op: str, left: Any, right: Any) -> Any:
    """Apply a non-short-circuit binary operator to two evaluated operands."""
    if op in _ARITHMETIC:
        return _ARITHMETIC[op](left, right)
    if op == "==":
        return equals(left, right)
    if op == "!=":
        return not equals(left, right)
    if op in _COMPARISONS:
        return _COMPARISONS[op](compare(left, right, op))
    if op == "in":
        return contains(left, right)
    raise type_error(f"unknown operator {op}")
