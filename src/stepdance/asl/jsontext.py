"""JSON values as AWS's Java runtime writes and compares them.

Step Functions runs on the JVM: ``States.JsonToString`` writes compact JSON the way Jackson does (doubles
as ``Double.toString`` prints them, ``1.0E20`` rather than ``1e+20``), ``States.Format`` renders objects the
way ``java.util.Map.toString`` does (``{a=1, b=[x, y]}``), and ``States.ArrayContains``/``ArrayUnique``
compare values as Jackson nodes compare (``1`` and ``1.0`` differ, ``true`` is not ``1``).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

_encode_string = json.encoder.encode_basestring
_LOWER_HEX_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u00([0-9a-f]{2})")


def java_double(value: float) -> str:
    """``Double.toString``: plain between 1e-3 and 1e7, else ``d.dddE[-]n``; always a fraction digit."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    if 1e-3 <= abs(value) < 1e7:
        return repr(value)  # plain in this range, with ".0" when whole
    sign = "-" if value < 0 else ""
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + int(exponent or 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    stripped = stripped.rstrip("0")
    return f"{sign}{stripped[0]}.{stripped[1:] or '0'}E{point - 1}"


def to_json(value: Any) -> str:
    """Compact JSON as Jackson writes it: no spaces, non-ASCII kept, ``\\u001F`` in upper case."""
    parts: list[str] = []
    _write(value, parts)
    text = "".join(parts)
    if "\\u00" in text:
        text = _LOWER_HEX_ESCAPE.sub(lambda m: f"{m.group(1)}\\u00{m.group(2).upper()}", text)
    return text


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_encode_string(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(java_double(value))
    elif isinstance(value, dict):
        _write_object(value, out)
    elif isinstance(value, list | tuple):
        _write_array(value, out)
    else:
        raise TypeError(f"not a JSON value: {type(value).__name__}")


def _write_object(value: dict[str, Any], out: list[str]) -> None:
    out.append("{")
    first = True
    for key, item in value.items():
        if not first:
            out.append(",")
        first = False
        out.append(_encode_string(key))
        out.append(":")
        _write(item, out)
    out.append("}")


def _write_array(value: list[Any] | tuple[Any, ...], out: list[str]) -> None:
    out.append("[")
    for index, item in enumerate(value):
        if index:
            out.append(",")
        _write(item, out)
    out.append("]")


def java_string(value: Any) -> str:
    """``String.valueOf`` of the Java object AWS holds: strings bare, maps ``{k=v}``, lists ``[a, b]``."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}={java_string(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(java_string(item) for item in value) + "]"
    return str(value)


def equality_key(value: Any) -> Any:
    """A hashable key equal for two values exactly when Jackson's nodes are equal.

    Types are kept apart (``1`` vs ``1.0`` vs ``true``); objects compare regardless of key order.
    """
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, int):
        return ("i", value)
    if isinstance(value, float):
        return ("f", value)
    if isinstance(value, str):
        return ("s", value)
    if value is None:
        return ("n",)
    if isinstance(value, dict):
        return ("o", frozenset((key, equality_key(item)) for key, item in value.items()))
    return ("a", tuple(equality_key(item) for item in value))
