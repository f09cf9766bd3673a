"""ASL paths: reading a value (``query``), the InputPath/OutputPath/ItemsPath filter (``select``) and
ResultPath (``apply_result_path``).

A path reads the state input (``$...``), the context object (``$$...``) or a variable (``$name...``).
Paths are compiled once and cached; results share structure with their input (nothing is copied), so
JSON values handed around the interpreter must be treated as immutable. ``apply_result_path`` copies only
the objects on the way to the place it writes.

Errors (all :class:`~stepdance.asl.errors.StatesError`)::

    StatesError
     ├── PathNotFound     a definite path found nothing   States.Runtime "Invalid path '$.x' : ..."
     └── InvalidPath      the text is not a path           States.Runtime
"""

from __future__ import annotations

from typing import Any

from stepdance.asl import errors
from stepdance.asl.errors import StatesError
from stepdance.asl.jsonpath_eval import ABSENT, Miss, evaluate
from stepdance.asl.jsonpath_parse import CompiledPath, JsonPathSyntaxError, compile_path
from stepdance.asl.jsontext import to_json
from stepdance.asl.scope import Scope

__all__ = [
    "MISSING",
    "CompiledPath",
    "InvalidPath",
    "JsonPathSyntaxError",
    "PathNotFound",
    "apply_result_path",
    "compile_path",
    "find",
    "query",
    "query_compiled",
    "select",
]

MISSING: Any = ABSENT  # what ``find`` answers when the path selects nothing
REFERENCE_PATH_CONFLICT = "States.ReferencePathConflict"


class PathNotFound(StatesError):
    """A definite path selected nothing; ``detail`` is Jayway's message (``No results for path: ...``)."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(errors.RUNTIME, f"Invalid path '{path}' : {detail}")
        self.path = path
        self.detail = detail


class InvalidPath(StatesError):
    """The text is not a path (validation should have refused the definition)."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(errors.RUNTIME, f"Invalid path '{path}' : {detail}")
        self.path = path


def _compiled(path: str) -> CompiledPath:
    try:
        return compile_path(path)
    except JsonPathSyntaxError as exc:
        raise InvalidPath(path, str(exc)) from None


def _start(path: CompiledPath, value: Any, scope: Scope) -> Any:
    if path.root == "$":
        return value
    if path.root == "$$":
        return scope.context
    if path.root == "var":
        found = scope.variables.get(path.variable or "", ABSENT)
        if found is ABSENT:
            raise Miss(f"No results for path: ${path.variable}")
        return found
    raise InvalidPath(path.text, "'@' only names the current item inside a filter")


def query_compiled(path: CompiledPath, value: Any, scope: Scope) -> Any:
    """:func:`query` for an already compiled path."""
    try:
        result = evaluate(path, _start(path, value, scope))
    except Miss as miss:
        raise PathNotFound(path.text, miss.detail) from None
    return None if result is ABSENT else result


def query(path: str, value: Any, scope: Scope) -> Any:
    """Evaluate ``path``: one value for a definite path, a list for an indefinite one.

    Raises :class:`PathNotFound` when a definite path selects nothing. An index past the end of an array
    reads as ``null``, as on AWS.
    """
    if path == "$":
        return value
    return query_compiled(_compiled(path), value, scope)


def find(path: CompiledPath, value: Any, scope: Scope) -> Any:
    """Like :func:`query_compiled` but answers :data:`MISSING` instead of raising, also for an index past
    the end (intrinsic function arguments treat both as missing)."""
    try:
        return evaluate(path, _start(path, value, scope))
    except Miss:
        return MISSING


def select(path: str | None, value: Any, scope: Scope, *, field: str) -> Any:
    """InputPath, OutputPath or ItemsPath: ``None`` (JSON null) gives ``{}``; a miss is an error."""
    if path is None:
        return {}
    if path == "$":
        return value
    if field == "ItemsPath":
        return _items(path, value, scope)
    return query(path, value, scope)


def _items(path: str, value: Any, scope: Scope) -> Any:
    compiled = _compiled(path)
    try:
        return query_compiled(compiled, value, scope)
    except PathNotFound:
        step = _failing_step(compiled, value, scope)
        raise StatesError(
            REFERENCE_PATH_CONFLICT, f'Unable to apply step "{step}" to input {to_json(value)}'
        ) from None


def _failing_step(path: CompiledPath, value: Any, scope: Scope) -> str:
    """The first name or index of ``path`` that does not apply (AWS names it for ItemsPath)."""
    if path.simple is None:
        return path.text
    try:
        current = _start(path, value, scope)
    except Miss:
        return path.variable or path.text
    for key in path.simple:
        try:
            current = current[key]
        except (KeyError, IndexError, TypeError):
            return str(key)
    return path.text


# --------------------------------------------------------------------------- ResultPath


def apply_result_path(path: str | None, state_input: Any, result: Any) -> Any:
    """ResultPath: ``None`` keeps the input, ``$`` is the result, ``$.a.b`` writes the result into a copy
    of the input, creating the objects on the way; raises States.ResultPathMatchFailure when the input
    does not have the shape the path needs (a string input with ``$.x``, an index past the end, ...)."""
    if path is None:
        return state_input
    if path == "$":
        return result
    compiled = _compiled(path)
    if compiled.root != "$" or compiled.simple is None:
        raise InvalidPath(path, "ResultPath must be a reference path into the state input")
    try:
        return _write(state_input, compiled.simple, 0, result)
    except _Mismatch:
        raise StatesError(
            errors.RESULT_PATH_MATCH_FAILURE,
            f"Unable to apply ReferencePath {path} to input {to_json(state_input)}",
        ) from None


class _Mismatch(Exception):
    pass


def _write(node: Any, keys: tuple[str | int, ...], position: int, result: Any) -> Any:
    if position == len(keys):
        return result
    key = keys[position]
    if isinstance(key, str):
        if type(node) is not dict:
            raise _Mismatch
        copy = dict(node)
        child = node.get(key, ABSENT)
        copy[key] = _write({} if child is ABSENT else child, keys, position + 1, result)
        return copy
    if type(node) is not list:
        raise _Mismatch
    index = key + len(node) if key < 0 else key
    if not 0 <= index < len(node):
        raise _Mismatch
    copied = list(node)
    copied[index] = _write(node[index], keys, position + 1, result)
    return copied
