"""JSONata as ASL uses it: ``{% expression %}`` strings in templates, ``$states`` and variables.

A template value (Arguments, Output, Assign, Items, Condition, TimeoutSeconds, ...) is evaluated like this: a
string that starts with ``{%`` and ends with ``%}`` is one JSONata expression; objects and arrays are
evaluated member by member (the field in error messages grows to ``Output/result/x``); anything else is a
literal. Failures are ``States.QueryEvaluationError`` with AWS's cause text, without the "An error occurred
while executing the state ..." prefix (the interpreter adds it) and with ``location`` set to the field.

Results are converted to plain JSON values: AWS's JSONata works on IEEE doubles, so an integral number is
written ``3``, never ``3.0``.
"""

from __future__ import annotations

import json
import math
import random as _random
import threading
from collections.abc import Mapping
from functools import cached_property
from typing import Any

from jsonata import JException, Jsonata, Utils

from stepdance.asl import errors
from stepdance.asl.errors import StatesError
from stepdance.asl.jsonata_functions import FUNCTIONS, FunctionError, evaluation

_OPEN, _CLOSE = "{%", "%}"
_CACHE_LIMIT = 4096
_JS_EXPONENT_THRESHOLD = 1e21  # JavaScript writes integral numbers below this without an exponent
_EXACT_INTEGERS = 2**53  # beyond this an IEEE double, hence AWS's JSONata, holds integers approximately
_ARRAY_OF = {"a": "arrays", "b": "booleans", "f": "functions", "n": "numbers", "o": "objects", "s": "strings"}
_cache = threading.local()


def is_expression(value: Any) -> bool:
    """Whether ``value`` is a JSONata expression string (``{%`` first, ``%}`` last, no surrounding space)."""
    return isinstance(value, str) and len(value) >= 4 and value.startswith(_OPEN) and value.endswith(_CLOSE)


def expression_text(value: str) -> str:
    """The expression inside ``{% ... %}``, trimmed, as AWS quotes it in error messages."""
    return value[len(_OPEN) : -len(_CLOSE)].strip()


def evaluate_field(
    template: Any,
    states: dict[str, Any],
    variables: Mapping[str, Any],
    *,
    field: str,
    random: _random.Random | None = None,
    expect: str | None = None,
) -> Any:
    """Evaluate one JSONata template field.

    ``states`` is what ``$states`` holds (``input``, ``context`` and, where they exist, ``result`` and
    ``errorOutput``); each variable ``x`` is ``$x``. ``random`` feeds ``$random()`` and ``$uuid()``.
    ``expect`` (a JSONata type name: ``array``, ``object``, ``string``, ``number``, ``boolean``) makes a
    top-level expression whose result has another type fail with AWS's "unexpected result type" cause.
    """
    scope = _Scope(states, variables, random if random is not None else _random.Random(0))
    if is_expression(template) and expect is not None:
        text = expression_text(template)
        return _expect(_evaluate(text, scope, field), expect, text, field)
    return _template(template, scope, field)


def evaluate_condition(
    expr: Any, states: dict[str, Any], variables: Mapping[str, Any], *, random: _random.Random | None = None
) -> bool:
    """A Choice rule's ``Condition``: a literal boolean, or an expression that must yield a boolean."""
    if isinstance(expr, bool):
        return expr
    result = evaluate_field(expr, states, variables, field="Condition", random=random, expect="boolean")
    if not isinstance(result, bool):
        raise _unexpected_type("boolean", result, str(expr), "Condition")
    return result


def json_type(value: Any) -> str:
    """The JSONata type name of a JSON value (``null``, ``boolean``, ``number``, ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


class _Scope:
    """What the expressions of one template see; the bindings are built only if one is evaluated."""

    def __init__(self, states: dict[str, Any], variables: Mapping[str, Any], random: _random.Random) -> None:
        self.states = states
        self.variables = variables
        self.random = random

    @cached_property
    def bindings(self) -> dict[str, Any]:
        # A binding of Python None is "undefined" to the library; a JSON null variable must stay null.
        bound = {name: Utils.NULL_VALUE if value is None else value for name, value in self.variables.items()}
        bound["states"] = self.states
        return bound


def _template(template: Any, scope: _Scope, field: str) -> Any:
    if isinstance(template, str):
        return _evaluate(expression_text(template), scope, field) if is_expression(template) else template
    if isinstance(template, dict):
        return {key: _template(value, scope, f"{field}/{key}") for key, value in template.items()}
    if isinstance(template, list):
        return [_template(value, scope, f"{field}/{index}") for index, value in enumerate(template)]
    return template


def _compiled(text: str) -> Jsonata:
    compiled: dict[str, Jsonata] | None = getattr(_cache, "expressions", None)
    if compiled is None or len(compiled) >= _CACHE_LIMIT:
        compiled = _cache.expressions = {}
    expression = compiled.get(text)
    if expression is None:
        expression = Jsonata(text)
        expression.set_output_convert_nulls(False)
        # Bound in the expression's own frame, so a variable of the same name (a child frame) shadows them.
        for name, function in FUNCTIONS.items():
            expression.assign(name, function)
        compiled[text] = expression
    return expression


def _evaluate(text: str, scope: _Scope, field: str) -> Any:
    try:
        expression = _compiled(text)
        # The library evaluates on the last expression compiled in this thread; point it at ours.
        Jsonata.CURRENT.jsonata = expression
        with evaluation(scope.random, scope.states):
            result = expression.evaluate(None, scope.bindings)
    except JException as error:
        raise _threw(text, field, f"{error.error}: {_message(error)}") from None
    except FunctionError as error:
        raise _threw(text, field, str(error)) from None
    except (ArithmeticError, RecursionError, TypeError, ValueError) as error:
        raise _threw(text, field, _python_error(error)) from None
    if result is None:
        raise _query_error(text, field, "returned nothing (undefined).")
    try:
        return _to_json(result)
    except _UnsupportedValue:
        raise _query_error(text, field, "returned an unsupported result type.") from None


def _expect(result: Any, expected: str, text: str, field: str) -> Any:
    if json_type(result) != expected:
        raise _unexpected_type(expected, result, text, field)
    return result


class _UnsupportedValue(Exception):
    """The result holds a value JSON cannot represent (a function)."""


def _to_json(value: Any) -> Any:
    """A fresh plain-JSON copy: library nulls become None, sequences lists, integral floats ints."""
    if value is Utils.NULL_VALUE or value is None:
        return None
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value) if abs(value) <= _EXACT_INTEGERS else _number(float(value))
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, Mapping):
        return {str(key): _to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json(item) for item in value]
    raise _UnsupportedValue


def _number(value: float) -> int | float | None:
    if not math.isfinite(value):
        return None  # JSON.stringify writes non-finite numbers as null
    if value.is_integer() and abs(value) < _JS_EXPONENT_THRESHOLD:
        return int(value)
    return value


def _message(error: JException) -> str:
    """JSONata's message for an error code, worded as the reference implementation words it."""
    template: str | None = JException.error_codes.get(error.error)
    arguments = (error.current, error.expected, _ARRAY_OF.get(error.extra, error.extra))
    if template is None or "{{{" in template:
        return _library_message(error)
    # The library's table says "Object" where the reference implementation says "function".
    template = template.replace("Object", "function")
    placeholders = template.count("{{")
    if any(argument is None for argument in arguments[:placeholders]):
        return _library_message(error)
    for argument in arguments[:placeholders]:
        start = template.index("{{")
        end = template.index("}}", start) + 2
        template = template[:start] + _stringify(argument) + template[end:]
    return template


def _library_message(error: JException) -> str:
    return str(error).replace("Object", "function")


def _stringify(value: Any) -> str:
    try:
        return json.dumps(_to_json(value), separators=(",", ":"), ensure_ascii=False)
    except (_UnsupportedValue, TypeError, ValueError):
        return str(value)


def _python_error(error: Exception) -> str:
    if isinstance(error, ZeroDivisionError):
        return "D1001: Number out of range: null"
    if isinstance(error, RecursionError):
        return "D1011: Stack overflow error: Check for non-terminating recursive function.  Consider rewriting as tail-recursive."
    return str(error)


def _unexpected_type(expected: str, result: Any, text: str, field: str) -> StatesError:
    shown = json.dumps(result, separators=(",", ":"), ensure_ascii=False)
    detail = f"returned an unexpected result type. Expected '{expected}', but was '{json_type(result)}' for value: {shown}"
    return _query_error(text, field, detail)


def _threw(text: str, field: str, message: str) -> StatesError:
    return _query_error(text, field, f"threw an error during evaluation. {message}")


def _query_error(text: str, field: str, detail: str) -> StatesError:
    cause = f"The JSONata expression '{text}' specified for the field '{field}' {detail}"
    return StatesError(errors.QUERY_EVALUATION_ERROR, cause, location=field)
