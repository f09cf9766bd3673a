"""The ``map`` module: safe lookup (``get``), copies without a key (``delete``), shallow and deep merges.

``map.get(m, ["a", "b"])`` is ``map.get(map.get(m, "a"), "b")``: null when any level is not a map or lacks
the key (documented); a key that is not a string or list of strings is a TypeError. In merges the second
map wins; ``merge_nested`` merges maps found under the same key in both, recursively.
"""

from __future__ import annotations

from typing import Any

from stepdance.gcw.expr import limits
from stepdance.gcw.expr.context import Context
from stepdance.gcw.expr.errors import resource_limit_error
from stepdance.gcw.expr.functions import builtin
from stepdance.gcw.expr.stdlib import args


@builtin("map.get", "map", "keys")
def get(context: Context, mapping: Any, keys: Any) -> Any:
    if isinstance(keys, str):
        path = [keys]
    elif isinstance(keys, list) and all(isinstance(key, str) for key in keys):
        path = keys
    else:
        raise args.wrong("map.get", "keys", "a string or a list of strings", keys)
    value = mapping
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


@builtin("map.delete", "map", "key")
def delete(context: Context, mapping: Any, key: Any) -> dict[str, Any]:
    source = args.map_value("map.delete", "map", mapping)
    name = args.string("map.delete", "key", key)
    return {k: v for k, v in source.items() if k != name}


@builtin("map.merge", "first", "second")
def merge(context: Context, first: Any, second: Any) -> dict[str, Any]:
    return {**args.map_value("map.merge", "first", first), **args.map_value("map.merge", "second", second)}


@builtin("map.merge_nested", "first", "second")
def merge_nested(context: Context, first: Any, second: Any) -> dict[str, Any]:
    left = args.map_value("map.merge_nested", "first", first)
    right = args.map_value("map.merge_nested", "second", second)
    return _merge_nested(left, right, 0)


def _merge_nested(first: dict[str, Any], second: dict[str, Any], depth: int) -> dict[str, Any]:
    if depth > limits.MAX_VALUE_DEPTH:
        raise resource_limit_error(f"map.merge_nested: maps nested more than {limits.MAX_VALUE_DEPTH} levels")
    merged = dict(first)
    for key, value in second.items():
        if isinstance(merged.get(key), dict) and isinstance(value, dict):
            merged[key] = _merge_nested(merged[key], value, depth + 1)
        else:
            merged[key] = value
    return merged


FUNCTIONS = [get, delete, merge, merge_nested]
