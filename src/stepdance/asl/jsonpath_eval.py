"""Evaluating a compiled path the way Jayway JsonPath does on AWS.

A *definite* path (only single names and indices) yields one value or fails with Jayway's message
(``No results for path: $['a']``, ``Missing property in path $['a']``, ...). An index past the end of an
array is not a failure there: AWS's JSON provider answers a Java null, which this module returns as
:data:`ABSENT` so that callers can tell it from a JSON ``null`` (a payload template writes ``null``, an
intrinsic argument reports it missing). An *indefinite* path yields a list; a miss in its definite prefix
makes the list empty (AWS answers ``[]`` for ``$.missing[*]``), later misses are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from stepdance.asl.jsonpath_filter import UNDEFINED
from stepdance.asl.jsonpath_parse import CompiledPath, Filter, Index, Prop, Scan, Slice, Step, Wildcard
from stepdance.asl.jsontext import to_json

ABSENT: Any = type("Absent", (), {"__repr__": lambda self: "ABSENT", "__bool__": lambda self: False})()
_NO_KEY: Any = object()
_PROVIDER = "com.jayway.jsonpath.spi.json.JacksonJsonNodeJsonProvider"


class Miss(Exception):
    """A definite part of the path found nothing; ``detail`` is Jayway's message."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def evaluate(path: CompiledPath, value: Any, document: Any = None) -> Any:
    """The value at ``path`` below ``value``; ``document`` is what ``$`` means inside filters."""
    if path.simple is not None:
        return _simple(path, path.simple, value)
    run = _Run(path, value if document is None else document)
    if path.definite:
        run.feed(0, value)
        if not run.out:
            raise Miss(f"No results for path: {path.eval_path(len(path.steps))}")
        result = run.out[0]
    else:
        try:
            run.feed(0, value)
        except Miss:
            if path.function is None:
                return []
            raise
        result = run.out
    return _apply_function(path.function, result) if path.function else result


def _simple(path: CompiledPath, keys: tuple[str | int, ...], value: Any) -> Any:
    current = value
    last = len(keys) - 1
    for position, key in enumerate(keys):
        if isinstance(key, str):
            if type(current) is dict:
                current = current.get(key, _NO_KEY)
                if current is _NO_KEY:
                    raise Miss(_missing_message(path, position, position == last))
                continue
            raise Miss(_not_object_message(path, position, current))
        if type(current) is list:
            size = len(current)
            index = key + size if key < 0 else key
            current = current[index] if 0 <= index < size else ABSENT
            continue
        raise Miss(_not_array_message(path, position, current))
    return current


class _Run:
    __slots__ = ("document", "last", "out", "path", "steps")

    def __init__(self, path: CompiledPath, document: Any) -> None:
        self.path = path
        self.steps = path.steps
        self.last = len(path.steps) - 1
        self.document = document
        self.out: list[Any] = []

    def feed(self, position: int, value: Any) -> None:
        """Continue the evaluation at step ``position`` with ``value``."""
        if position > self.last:
            self.out.append(value)
            return
        step = self.steps[position]
        _HANDLERS[type(step)](self, position, step, value)

    def strict(self, position: int) -> bool:
        return self.path.strict[position]


def _prop(run: _Run, position: int, step: Prop, value: Any) -> None:
    if type(value) is not dict:
        if run.strict(position):
            raise Miss(_not_object_message(run.path, position, value))
        return
    names = step.names
    if len(names) > 1 and position == run.last:
        run.out.append({name: value[name] for name in names if name in value})
        return
    for name in names:
        item = value.get(name, _NO_KEY)
        if item is not _NO_KEY:
            run.feed(position + 1, item)
        elif len(names) == 1 and position != run.last and run.strict(position):
            raise Miss(_missing_message(run.path, position, False))


def _index(run: _Run, position: int, step: Index, value: Any) -> None:
    if not _array_model(run, position, step, value):
        return
    size = len(value)
    for index in step.indices:
        effective = index + size if index < 0 else index
        if 0 <= effective < size:
            run.feed(position + 1, value[effective])
        elif run.strict(position) and len(step.indices) == 1:
            run.feed(position + 1, ABSENT)


def _slice(run: _Run, position: int, step: Slice, value: Any) -> None:
    if not _array_model(run, position, step, value):
        return
    for index in _slice_range(step.start, step.end, len(value)):
        run.feed(position + 1, value[index])


def _slice_range(start: int | None, end: int | None, size: int) -> range:
    first = 0 if start is None else (max(0, size + start) if start < 0 else start)
    stop = size if end is None else (size + end if end < 0 else min(size, end))
    return range(first, max(first, min(stop, size)))


def _wildcard(run: _Run, position: int, step: Wildcard, value: Any) -> None:
    if type(value) is dict:
        for item in value.values():
            run.feed(position + 1, item)
    elif type(value) is list:
        for item in value:
            run.feed(position + 1, item)


def _scan(run: _Run, position: int, step: Scan, value: Any) -> None:
    target = run.steps[position + 1]
    wanted = _SCAN_MATCH[type(target)]
    handler = _HANDLERS[type(target)]
    for node in _descendants(value):
        if wanted(target, node):
            handler(run, position + 1, target, node)


def _descendants(value: Any) -> Iterator[Any]:
    """The containers at and below ``value``, parents before children (Jayway's walk order)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if type(node) is dict:
            yield node
            stack.extend(reversed(list(node.values())))
        elif type(node) is list:
            yield node
            stack.extend(reversed(node))


def _filter(run: _Run, position: int, step: Filter, value: Any) -> None:
    test = step.expr.test
    if type(value) is dict:
        if test(value, run.document, resolve):
            run.feed(position + 1, value)
    elif type(value) is list:
        for item in value:
            if test(item, run.document, resolve):
                run.feed(position + 1, item)
    elif run.strict(position):
        raise Miss(
            f"Filter: [?] can not be applied to primitives. Current context is: {_context_text(value)}"
        )


def resolve(path: CompiledPath, start: Any, document: Any) -> Any:
    """A filter operand: the value (UNDEFINED when missing) or, for an indefinite path, the list."""
    try:
        result = evaluate(path, start, document)
    except Miss:
        return UNDEFINED
    return UNDEFINED if result is ABSENT else result


def _array_model(run: _Run, position: int, step: Step, value: Any) -> bool:
    if type(value) is list:
        return True
    if run.strict(position):
        raise Miss(_not_array_message(run.path, position, value))
    return False


_HANDLERS: dict[type[Step], Callable[[_Run, int, Any, Any], None]] = {
    Prop: _prop,
    Index: _index,
    Slice: _slice,
    Wildcard: _wildcard,
    Scan: _scan,
    Filter: _filter,
}

_SCAN_MATCH: dict[type[Step], Callable[[Any, Any], bool]] = {
    Prop: lambda step, node: type(node) is dict and (len(step.names) > 1 or step.names[0] in node),
    Index: lambda step, node: type(node) is list,
    Slice: lambda step, node: type(node) is list,
    Wildcard: lambda step, node: True,
    Filter: lambda step, node: type(node) is dict,
    Scan: lambda step, node: False,
}


# --------------------------------------------------------------------------- Jayway's messages


def _missing_message(path: CompiledPath, position: int, leaf: bool) -> str:
    if leaf:
        return f"No results for path: {path.eval_path(len(path.steps))}"
    return f"Missing property in path {path.eval_path(position + 1)}"


def _not_object_message(path: CompiledPath, position: int, value: Any) -> str:
    return (
        f"Expected to find an object with property {path.steps[position].fragment} in path "
        f"{path.eval_path(position)} but found '{_java_class(value)}'. This is not a json object according "
        f"to the JsonProvider: '{_PROVIDER}'."
    )


def _not_array_message(path: CompiledPath, position: int, value: Any) -> str:
    if value is None or value is ABSENT:
        return f"The path {path.eval_path(position)} is null"
    return (
        f"Filter: {path.steps[position].fragment} can only be applied to arrays. "
        f"Current context is: {_context_text(value)}"
    )


def _java_class(value: Any) -> str:
    if value is None or value is ABSENT:
        return "null"
    if isinstance(value, bool):
        return "java.lang.Boolean"
    if isinstance(value, int):
        return "java.lang.Integer" if -(2**31) <= value < 2**31 else "java.lang.Long"
    return {str: "java.lang.String", float: "java.lang.Double"}.get(
        type(value), "com.fasterxml.jackson.databind.node.ArrayNode"
    )


def _context_text(value: Any) -> str:
    return value if isinstance(value, str) else to_json(value)


# --------------------------------------------------------------------------- functions


def _numbers(value: Any) -> list[float]:
    if not isinstance(value, list) or not value:
        raise Miss("Aggregation function attempted to calculate value using empty array")
    return [float(item) for item in value if isinstance(item, int | float) and not isinstance(item, bool)]


def _length(value: Any) -> int:
    if isinstance(value, list | dict | str):
        return len(value)
    raise Miss("Invalid function: length() requires an array, object or string")


def _edge(index: int) -> Callable[[Any], Any]:
    def pick(value: Any) -> Any:
        if not isinstance(value, list) or not value:
            raise Miss("Invalid function: first()/last() require a non-empty array")
        return value[index]

    return pick


_FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "length": _length,
    "size": _length,
    "min": lambda value: min(_numbers(value)),
    "max": lambda value: max(_numbers(value)),
    "sum": lambda value: sum(_numbers(value)),
    "avg": lambda value: sum(numbers := _numbers(value)) / len(numbers),
    "keys": lambda value: list(value) if isinstance(value, dict) else _length(None),
    "first": _edge(0),
    "last": _edge(-1),
}


def _apply_function(name: str, value: Any) -> Any:
    return _FUNCTIONS[name](value)
