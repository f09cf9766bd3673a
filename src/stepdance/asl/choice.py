"""JSONPath Choice rules: which branch a Choice state takes.

A rule is either a boolean combination (``And``, ``Or``, ``Not``) or a data test on ``Variable``: one
comparison operator with a literal operand (``NumericEquals: 1``), its ``...Path`` twin whose operand is a
path (``NumericEqualsPath: "$.limit"``, ``$$.Execution...`` or ``$variable``), or a type test
(``IsNull``, ``IsPresent``, ...). The operators live in :mod:`stepdance.asl.choice_compare`.

AWS's rules: a type mismatch is false, not an error; only ``IsPresent`` looks at whether the Variable
exists, every other test on a path that finds nothing fails the state with ``States.Runtime``
("Invalid path ...: The choice state's condition path references an invalid value."), and so does a
``...Path`` operand that finds nothing.
"""

from __future__ import annotations

from typing import Any

from stepdance.asl import errors
from stepdance.asl.choice_compare import COMPARISONS, TYPE_TESTS
from stepdance.asl.errors import StatesError
from stepdance.asl.jsonpath import MISSING, InvalidPath, JsonPathSyntaxError, compile_path, find
from stepdance.asl.scope import Scope

_PATH_SUFFIX = "Path"


def choose(choices: list[dict[str, Any]], value: Any, scope: Scope) -> dict[str, Any] | None:
    """The first rule of ``choices`` that matches ``value`` (the state's effective input), or None."""
    return next((rule for rule in choices if rule_matches(rule, value, scope)), None)


def rule_matches(rule: dict[str, Any], value: Any, scope: Scope) -> bool:
    """Whether one Choice rule (top-level or nested) matches ``value``."""
    if "And" in rule:
        return all(rule_matches(inner, value, scope) for inner in rule["And"])
    if "Or" in rule:
        return any(rule_matches(inner, value, scope) for inner in rule["Or"])
    if "Not" in rule:
        return not rule_matches(rule["Not"], value, scope)
    return _data_test(rule, value, scope)


def _data_test(rule: dict[str, Any], value: Any, scope: Scope) -> bool:
    variable: str = rule["Variable"]
    found, subject = _resolve(variable, value, scope)
    if "IsPresent" in rule:
        return found is bool(rule["IsPresent"])
    if not found:
        raise _invalid_path(variable)
    name, operand = _operator(rule)
    if name in TYPE_TESTS:
        return TYPE_TESTS[name](subject) is bool(operand)
    if name in COMPARISONS:
        return COMPARISONS[name](subject, operand)
    base = name.removesuffix(_PATH_SUFFIX)
    operand_found, operand_value = _resolve(operand, value, scope)
    if not operand_found:
        raise _invalid_path(operand)
    return COMPARISONS[base](subject, operand_value)


def _resolve(path: str, value: Any, scope: Scope) -> tuple[bool, Any]:
    """``(found, value)``: Choice tells "the path finds null" from "the path finds nothing"."""
    try:
        compiled = compile_path(path)
    except JsonPathSyntaxError as error:
        raise InvalidPath(path, str(error)) from None
    found = find(compiled, value, scope)
    return found is not MISSING, found


def _operator(rule: dict[str, Any]) -> tuple[str, Any]:
    for name, operand in rule.items():
        if name in COMPARISONS or name in TYPE_TESTS or _is_path_operator(name):
            return name, operand
    raise StatesError(errors.RUNTIME, f"The choice rule has no comparison operator: {sorted(rule)}")


def _is_path_operator(name: str) -> bool:
    return name.endswith(_PATH_SUFFIX) and name.removesuffix(_PATH_SUFFIX) in COMPARISONS


def _invalid_path(path: str) -> StatesError:
    return StatesError(
        errors.RUNTIME,
        f"Invalid path '{path}': The choice state's condition path references an invalid value.",
    )
