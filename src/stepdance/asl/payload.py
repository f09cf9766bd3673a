"""Payload templates of JSONPath states: Parameters, ResultSelector, ItemSelector and Assign.

Inside a template (objects and arrays, however deep) a key ending in ``.$`` loses the suffix and takes the
value of its string: a path (``$.a``, ``$$.Execution.Id``, ``$var.x``) or an intrinsic function call. Every
other value is copied as written. A template is compiled once into nested closures (cached by identity, so
a template must not be mutated once used); parts without any ``.$`` key are returned as they are, without
copying, and selected values are shared with the input: treat every result as immutable.

A path that finds nothing fails with States.Runtime, "The JSONPath '$.x' specified for the field 'x.$'
could not be found in the input '{...}'", the input being the template's input (or the context object for
a ``$$`` path) as compact JSON.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from stepdance.asl import errors
from stepdance.asl.errors import StatesError
from stepdance.asl.intrinsics import IntrinsicSyntaxError, evaluate_call, is_intrinsic, parse_intrinsic
from stepdance.asl.jsonpath import (
    CompiledPath,
    JsonPathSyntaxError,
    PathNotFound,
    compile_path,
    query_compiled,
)
from stepdance.asl.jsontext import to_json
from stepdance.asl.scope import Scope

Evaluator = Callable[[Any, Scope], Any]

_CACHE_SIZE = 2048
_compiled_templates: OrderedDict[int, tuple[Any, Evaluator | None]] = OrderedDict()


def evaluate_template(template: Any, value: Any, scope: Scope) -> Any:
    """The payload ``template`` produces from ``value`` (the state's effective input or result)."""
    evaluator = compile_template(template)
    return template if evaluator is None else evaluator(value, scope)


def compile_template(template: Any) -> Evaluator | None:
    """A closure computing the payload, or ``None`` when the template has no ``.$`` key (it is constant)."""
    key = id(template)
    cached = _compiled_templates.get(key)
    if cached is not None and cached[0] is template:
        return cached[1]
    evaluator = _compile(template)
    # Holding the template keeps its id from being reused while the entry lives.
    _compiled_templates[key] = (template, evaluator)
    if len(_compiled_templates) > _CACHE_SIZE:
        _compiled_templates.popitem(last=False)
    return evaluator


def evaluate_expression(expression: Any, value: Any, scope: Scope, *, field: str) -> Any:
    """One ``.$`` value (or ErrorPath/CausePath): a path or an intrinsic call, named ``field`` in errors."""
    return compile_expression(expression, field)(value, scope)


def _compile(node: Any) -> Evaluator | None:
    if isinstance(node, dict):
        return _compile_object(node)
    if isinstance(node, list):
        return _compile_array(node)
    return None


def _compile_object(node: dict[str, Any]) -> Evaluator | None:
    entries: list[tuple[str, Evaluator | None, Any]] = []
    dynamic = False
    for key, item in node.items():
        if key.endswith(".$"):
            entries.append((key[:-2], compile_expression(item, key), None))
            dynamic = True
        else:
            evaluator = _compile(item)
            entries.append((key, evaluator, item))
            dynamic = dynamic or evaluator is not None
    if not dynamic:
        return None
    frozen = tuple(entries)

    def build(value: Any, scope: Scope) -> dict[str, Any]:
        return {key: item if ev is None else ev(value, scope) for key, ev, item in frozen}

    return build


def _compile_array(node: list[Any]) -> Evaluator | None:
    items = tuple((_compile(item), item) for item in node)
    if all(evaluator is None for evaluator, _ in items):
        return None
    return lambda value, scope: [item if ev is None else ev(value, scope) for ev, item in items]


@lru_cache(maxsize=4096)
def _compile_text(expression: str, field: str) -> Evaluator:
    if expression.startswith("$"):
        try:
            return _path_evaluator(compile_path(expression), field)
        except JsonPathSyntaxError:
            return _invalid(field)
    if is_intrinsic(expression):
        try:
            call = parse_intrinsic(expression)
        except IntrinsicSyntaxError:
            return _invalid(field)
        return lambda value, scope: evaluate_call(call, expression, value, scope)
    return _invalid(field)


def compile_expression(expression: Any, field: str) -> Evaluator:
    """The evaluator of one ``.$`` value; malformed values fail when evaluated, as a States.Runtime."""
    if not isinstance(expression, str):
        return _invalid(field)
    return _compile_text(expression, field)


def _path_evaluator(path: CompiledPath, field: str) -> Evaluator:
    if path.root == "$" and not path.steps and path.function is None:
        return lambda value, scope: value

    def read(value: Any, scope: Scope) -> Any:
        try:
            return query_compiled(path, value, scope)
        except PathNotFound:
            shown = scope.context if path.root == "$$" else value
            raise StatesError(
                errors.RUNTIME,
                f"The JSONPath '{path.text}' specified for the field '{field}' could not be found in the input "
                f"'{to_json(shown)}'",
            ) from None

    return read


def _invalid(field: str) -> Evaluator:
    def fail(value: Any, scope: Scope) -> Any:
        raise StatesError(
            errors.RUNTIME,
            f"The value for the field '{field}' must be a valid JSONPath or a valid intrinsic function call",
        )

    return fail
