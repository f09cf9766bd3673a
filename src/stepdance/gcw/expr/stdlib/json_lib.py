"""The ``json`` module: ``json.decode``, ``json.encode`` (to bytes) and ``json.encode_to_string``.

Decoding gives integers for whole numbers that fit in 64 bits and doubles otherwise. Encoding is compact
unless ``indent`` is given: ``true`` (four spaces) or a map with ``prefix`` and ``indent`` strings; then, as
documented, each element begins on a new line starting with ``prefix`` and one copy of ``indent`` per level
of nesting (the first line carries no prefix). Bytes cannot be JSON-encoded: ValueError.
"""

from __future__ import annotations

import json
from typing import Any

from stepdance.gcw.expr import limits
from stepdance.gcw.expr.context import Context
from stepdance.gcw.expr.errors import resource_limit_error, value_error
from stepdance.gcw.expr.functions import builtin
from stepdance.gcw.expr.stdlib import args
from stepdance.gcw.expr.values import check_depth, checked_string, format_double, is_int, type_name


@builtin("json.decode", "data")
def decode(context: Context, data: Any) -> Any:
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise value_error("json.decode: data is not valid UTF-8") from None
    elif isinstance(data, str):
        text = data
    else:
        raise args.wrong("json.decode", "data", "bytes or a string", data)
    _check_nesting(text)
    try:
        return json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise value_error(f"json.decode: invalid JSON: {error.msg} at position {error.pos}") from None


@builtin("json.encode", "data", "indent", required=1)
def encode(context: Context, data: Any, indent: Any = False) -> bytes:
    return encode_text("json.encode", data, indent).encode("utf-8", "surrogatepass")


@builtin("json.encode_to_string", "data", "indent", required=1)
def encode_to_string(context: Context, data: Any, indent: Any = False) -> str:
    return checked_string(encode_text("json.encode_to_string", data, indent))


def encode_text(function: str, data: Any, indent: Any = False) -> str:
    """The JSON text of a Workflows value, as json.encode_to_string writes it."""
    prefix, step = _indentation(function, indent)
    check_depth(data, function)
    out = _Output(function)
    _write(function, data, out, None if step is None else prefix, step or "", 0)
    return "".join(out)


class _Output(list[str]):
    """The pieces of the JSON text, refusing to grow past the string limit (indentation can multiply it)."""

    def __init__(self, function: str) -> None:
        super().__init__()
        self._function = function
        self._size = 0

    def append(self, piece: str) -> None:
        self._size += len(piece)
        if self._size > limits.MAX_STRING_BYTES:
            raise resource_limit_error(
                f"{self._function}: result exceeds the maximum length of {limits.MAX_STRING_BYTES} bytes"
            )
        super().append(piece)


def _indentation(function: str, indent: Any) -> tuple[str, str | None]:
    if indent is None or indent is False:
        return "", None
    if indent is True:
        return "", "    "
    options = args.map_value(function, "indent", indent)
    unknown = set(options) - {"prefix", "indent"}
    if unknown:
        raise value_error(f"{function}: unknown indent option '{sorted(unknown)[0]}'")
    prefix = args.string(function, "indent.prefix", options.get("prefix", ""))
    return prefix, args.string(function, "indent.indent", options.get("indent", "    "))


def _write(function: str, value: Any, out: _Output, prefix: str | None, step: str, level: int) -> None:
    if value is None or isinstance(value, bool):
        out.append("null" if value is None else "true" if value else "false")
    elif is_int(value):
        out.append(str(value))
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise value_error(f"{function}: {value!r} cannot be JSON-encoded")
        out.append(format_double(value))
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, (list, dict)):
        _write_container(function, value, out, prefix, step, level)
    else:
        raise value_error(f"{function}: a {type_name(value)} value cannot be JSON-encoded")


def _write_container(
    function: str, value: list[Any] | dict[str, Any], out: _Output, prefix: str | None, step: str, level: int
) -> None:
    opening, closing = ("[", "]") if isinstance(value, list) else ("{", "}")
    items = list(value.items()) if isinstance(value, dict) else [(None, item) for item in value]
    if not items:
        out.append(opening + closing)
        return
    out.append(opening)
    for position, (key, item) in enumerate(items):
        if position:
            out.append(",")
        if prefix is not None:
            out.append("\n" + prefix + step * (level + 1))
        if key is not None:
            out.append(json.dumps(key, ensure_ascii=False) + (": " if prefix is not None else ":"))
        _write(function, item, out, prefix, step, level + 1)
    if prefix is not None:
        out.append("\n" + prefix + step * level)
    out.append(closing)


def _parse_int(text: str) -> int | float:
    if len(text.lstrip("-")) > 19:  # longer than any 64-bit integer; also spares int() a huge conversion
        return _parse_float(text)
    value = int(text)
    return value if limits.INT_MIN <= value <= limits.INT_MAX else float(value)


def _parse_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise value_error(f"json.decode: number {text} is too large for a double")
    return value


def _no_constant(name: str) -> Any:
    raise value_error(f"json.decode: invalid JSON value {name}")


def _check_nesting(text: str) -> None:
    """Refuse deep nesting before the decoder recurses into it (iteratively, skipping strings)."""
    depth = 0
    in_string = False
    escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limits.MAX_VALUE_DEPTH:
                raise resource_limit_error(
                    f"json.decode: JSON nested more than {limits.MAX_VALUE_DEPTH} levels"
                )
        elif char in "]}":
            depth -= 1


FUNCTIONS = [decode, encode, encode_to_string]
