"""Checking a library function's arguments, with one wording for every TypeError."""

from __future__ import annotations

from typing import Any

from stepdance.gcw.expr.errors import type_error
from stepdance.gcw.expr.values import is_int, is_number, type_name


def _wrong(function: str, param: str, expected: str, value: Any) -> Exception:
    return type_error(f"{function}: argument '{param}' must be {expected}, not {type_name(value)}")


def string(function: str, param: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _wrong(function, param, "a string", value)
    return value


def integer(function: str, param: str, value: Any) -> int:
    if not is_int(value):
        raise _wrong(function, param, "an integer", value)
    return int(value)


def number(function: str, param: str, value: Any) -> int | float:
    if not is_number(value):
        raise _wrong(function, param, "a number", value)
    return value  # type: ignore[no-any-return]


def boolean(function: str, param: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _wrong(function, param, "a boolean", value)
    return value


def list_value(function: str, param: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise _wrong(function, param, "a list", value)
    return value


def map_value(function: str, param: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _wrong(function, param, "a map", value)
    return value


def bytes_value(function: str, param: str, value: Any) -> bytes:
    if not isinstance(value, bytes):
        raise _wrong(function, param, "bytes", value)
    return value


def wrong(function: str, param: str, expected: str, value: Any) -> Exception:
    """The TypeError for an argument of the wrong type, for checks the helpers above do not cover."""
    return _wrong(function, param, expected, value)
