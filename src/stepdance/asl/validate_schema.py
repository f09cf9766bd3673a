"""The schema part of validation: which fields each state type accepts, in which query language, and the
type and range of each field's value.

The tables follow what ValidateStateMachineDefinition accepts and refuses (field tables measured per state
type; numeric ranges as AWS reports them, e.g. a Retry's ``IntervalSeconds`` of 0 and a machine
``TimeoutSeconds`` of 0 are accepted).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stepdance.asl.validate_context import Report, StateContext
from stepdance.asl.validate_jsonata import is_expression
from stepdance.asl.validate_paths import path_or_intrinsic_problem, path_problem

STATE_TYPES = ("Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")
LANGUAGES = ("JSONPath", "JSONata")
COMMON = frozenset({"Type", "Comment", "QueryLanguage"})

JSONPATH_ONLY = frozenset(
    {
        "InputPath",
        "OutputPath",
        "Parameters",
        "ResultPath",
        "ResultSelector",
        "Result",
        "ItemsPath",
        "TimeoutSecondsPath",
        "HeartbeatSecondsPath",
        "SecondsPath",
        "TimestampPath",
        "MaxConcurrencyPath",
        "ToleratedFailurePercentagePath",
        "ToleratedFailureCountPath",
        "ErrorPath",
        "CausePath",
    }
)
JSONATA_ONLY = frozenset({"Arguments", "Output", "Items"})

_FLOW = {"Next", "End"}
_IO = {"InputPath", "OutputPath", "Output"}
_RESULT = {"ResultPath", "ResultSelector", "Retry", "Catch"}
ALLOWED: dict[str, frozenset[str]] = {
    "Pass": frozenset(_FLOW | _IO | {"Result", "ResultPath", "Parameters", "Assign"}),
    "Task": frozenset(
        _FLOW
        | _IO
        | _RESULT
        | {"Parameters", "Arguments", "Assign", "Resource", "Credentials"}
        | {"TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath"}
    ),
    "Wait": frozenset(_FLOW | _IO | {"Assign", "Seconds", "Timestamp", "SecondsPath", "TimestampPath"}),
    "Parallel": frozenset(_FLOW | _IO | _RESULT | {"Parameters", "Arguments", "Assign", "Branches"}),
    "Map": frozenset(
        _FLOW
        | _IO
        | _RESULT
        | {"Parameters", "Assign", "ItemProcessor", "Iterator", "ItemsPath", "Items", "ItemSelector"}
        | {"ItemReader", "ItemBatcher", "ResultWriter", "Label"}
        | {
            "MaxConcurrency",
            "MaxConcurrencyPath",
            "ToleratedFailurePercentage",
            "ToleratedFailurePercentagePath",
        }
        | {"ToleratedFailureCount", "ToleratedFailureCountPath"}
    ),
    "Choice": frozenset(_IO | {"Assign", "Choices", "Default"}),
    "Succeed": frozenset(_IO),
    "Fail": frozenset({"Error", "Cause", "ErrorPath", "CausePath"}),
}


@dataclass(frozen=True, slots=True)
class Rule:
    """The JSON type of a field and the range of its value. In JSONata states a ``{% %}`` string may
    stand in for the value when ``expression`` is set (it is checked as JSONata elsewhere)."""

    kinds: tuple[type, ...]
    minimum: float | None = None
    maximum: float | None = None
    expression: bool = False


_INT, _STR, _OBJ, _ARR = (int,), (str,), (dict,), (list,)
FIELD_RULES: dict[str, Rule] = {
    "Comment": Rule(_STR),
    "Next": Rule(_STR),
    "End": Rule((bool,)),
    "Default": Rule(_STR),
    "Resource": Rule(_STR),
    "Credentials": Rule(_OBJ),
    "Parameters": Rule(_OBJ),
    "ResultSelector": Rule(_OBJ),
    "Assign": Rule(_OBJ),
    "Arguments": Rule(_OBJ, expression=True),
    "ItemSelector": Rule(_OBJ, expression=True),
    "Items": Rule(_ARR, expression=True),
    "TimeoutSeconds": Rule(_INT, 1, 99999999, expression=True),
    "HeartbeatSeconds": Rule(_INT, 1, 99999999, expression=True),
    "Seconds": Rule(_INT, 0, 99999999, expression=True),
    "Timestamp": Rule(_STR),
    "Error": Rule(_STR),
    "Cause": Rule(_STR),
    "Choices": Rule(_ARR),
    "Branches": Rule(_ARR),
    "ItemProcessor": Rule(_OBJ),
    "Iterator": Rule(_OBJ),
    "ItemReader": Rule(_OBJ),
    "ItemBatcher": Rule(_OBJ),
    "ResultWriter": Rule(_OBJ),
    "Label": Rule(_STR),
    "MaxConcurrency": Rule(_INT, 0, None, expression=True),
    "ToleratedFailureCount": Rule(_INT, 0, None, expression=True),
    "ToleratedFailurePercentage": Rule((float, int), 0, 100, expression=True),
    "Retry": Rule(_ARR),
    "Catch": Rule(_ARR),
}

# Paths that may select anything (or be null, which discards the input or output).
NULLABLE_PATHS = frozenset({"InputPath", "OutputPath"})
# Paths that address exactly one node.
REFERENCE_PATHS = frozenset(
    {
        "ResultPath",
        "ItemsPath",
        "TimeoutSecondsPath",
        "HeartbeatSecondsPath",
        "SecondsPath",
        "TimestampPath",
        "MaxConcurrencyPath",
        "ToleratedFailurePercentagePath",
        "ToleratedFailureCountPath",
    }
)
PATH_OR_INTRINSIC = frozenset({"ErrorPath", "CausePath"})


def check_known_fields(report: Report, ctx: StateContext) -> None:
    """Fields the state type does not take, and fields of the other query language."""
    allowed = ALLOWED[ctx.raw["Type"]]
    for key in ctx.raw:
        if key in COMMON:
            continue
        if key not in allowed:
            report.schema(f"Field '{key}' is not supported", ctx.location)
        elif ctx.is_jsonata and key in JSONPATH_ONLY:
            report.schema(_wrong_language("JSONata", key), ctx.at(key))
        elif not ctx.is_jsonata and key in JSONATA_ONLY:
            report.schema(_wrong_language("JSONPath", key), ctx.location)


def _wrong_language(language: str, key: str) -> str:
    other = "JSONPath" if language == "JSONata" else "JSONata"
    return f"The QueryLanguage is set to '{language}', but field '{key}' is only supported for the '{other}' QueryLanguage"


def check_field_types(report: Report, ctx: StateContext) -> None:
    for key, value in ctx.raw.items():
        rule = FIELD_RULES.get(key)
        if rule is not None:
            check_value(report, value, rule, ctx.at(key), jsonata=ctx.is_jsonata)
        elif key in NULLABLE_PATHS and value is not None:
            check_path(report, value, ctx.at(key))
        elif key in REFERENCE_PATHS and not (key == "ResultPath" and value is None):
            check_path(report, value, ctx.at(key), reference=True)
        elif key in PATH_OR_INTRINSIC:
            check_path_or_intrinsic(report, value, key, ctx.at(key))


def check_value(report: Report, value: Any, rule: Rule, location: str, *, jsonata: bool) -> None:
    if rule.expression and jsonata and is_expression(value):
        return
    if not report.expect(value, rule.kinds, location):
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    if rule.minimum is not None and value < rule.minimum:
        report.schema(f"Minimum value is {_number(rule.minimum)}", location)
    if rule.maximum is not None and value > rule.maximum:
        report.schema(f"Maximum value is {_number(rule.maximum)}", location)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def check_enum(report: Report, value: Any, choices: tuple[str, ...], location: str) -> bool:
    if value in choices and isinstance(value, str):
        return True
    report.schema(f"Value should be one of the following: [{', '.join(choices)}]", location)
    return False


def check_path(report: Report, value: Any, location: str, *, reference: bool = False) -> None:
    if not report.expect(value, _STR, location):
        return
    problem = path_problem(value, reference=reference)
    if problem is None:
        return
    if reference:
        report.schema(f"Value is not a Reference Path: {problem}", location)
    else:
        report.schema(f"Value must be a valid JSONPath: {problem}", location)


def check_path_or_intrinsic(report: Report, value: Any, key: str, location: str) -> None:
    if report.expect(value, _STR, location) and path_or_intrinsic_problem(value) is not None:
        report.schema(
            f"The value for the field '{key}' must be a valid JSONPath or a valid intrinsic function call",
            location,
        )


def check_required(report: Report, raw: dict[str, Any], fields: tuple[str, ...], location: str) -> bool:
    missing = [name for name in fields if name not in raw]
    if missing:
        report.schema(f"These fields are required: [{', '.join(missing)}]", location)
    return not missing


def check_only_one(report: Report, raw: dict[str, Any], fields: tuple[str, ...], location: str) -> None:
    """At most one of ``fields``; AWS points at the first of them."""
    present = [name for name in fields if name in raw]
    if len(present) > 1:
        report.schema(
            f"There should only be one of the following fields: [{', '.join(present)}]",
            f"{location}/{present[0]}",
        )


def check_exactly_one(report: Report, raw: dict[str, Any], fields: tuple[str, ...], location: str) -> None:
    if any(name in raw for name in fields):
        check_only_one(report, raw, fields, location)
    else:
        report.schema(
            f"This object should have only one of the following fields: [{', '.join(fields)}]", location
        )


def check_unknown(report: Report, raw: dict[str, Any], allowed: frozenset[str], location: str) -> None:
    for key in raw:
        if key not in allowed:
            report.schema(f"Field '{key}' is not supported", location)
