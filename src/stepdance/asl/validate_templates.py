"""Checks on payload templates (Parameters, ResultSelector, ItemSelector), Assign and the JSONata fields.

In a JSONPath template a key ending in ``.$`` takes its value from a path or an intrinsic function, so the
value must be one; a plain key whose value merely looks like a path draws AWS's NO_DOLLAR warning. In a
JSONata state every ``{% %}`` string anywhere in an evaluated field must parse.
"""

from __future__ import annotations

from typing import Any

from stepdance.asl import validate_jsonata
from stepdance.asl.validate_context import Report, StateContext, child, item
from stepdance.asl.validate_paths import is_intrinsic, path_or_intrinsic_problem

JSONPATH_TEMPLATES = ("Parameters", "ResultSelector", "ItemSelector")
# Fields whose strings a JSONata state evaluates as expressions.
JSONATA_FIELDS = (
    "Arguments",
    "Output",
    "Assign",
    "Items",
    "ItemSelector",
    "Seconds",
    "Timestamp",
    "TimeoutSeconds",
    "HeartbeatSeconds",
    "MaxConcurrency",
    "ToleratedFailureCount",
    "ToleratedFailurePercentage",
    "Error",
    "Cause",
    "Credentials",
)
RESERVED_VARIABLES = frozenset({"states"})
MAX_VARIABLE_NAME = 80


def check_state_templates(report: Report, ctx: StateContext) -> None:
    if ctx.is_jsonata:
        for key in JSONATA_FIELDS:
            if key in ctx.raw:
                validate_jsonata.check_value(report, ctx.raw[key], ctx.at(key))
    else:
        for key in JSONPATH_TEMPLATES:
            if isinstance(ctx.raw.get(key), dict):
                check_payload(report, ctx.raw[key], ctx.at(key))
        if ctx.raw["Type"] == "Pass" and _has_dynamic_key(ctx.raw.get("Result")):
            report.warn(
                "PASS_RESULT_IS_STATIC",
                "Attempt to use a path in the result of a pass state",
                ctx.at("Result"),
            )
    if "Assign" in ctx.raw:
        check_assign(report, ctx.raw["Assign"], ctx.at("Assign"), jsonata=ctx.is_jsonata)


def check_payload(report: Report, value: Any, location: str) -> None:
    """A JSONPath payload template, at any depth."""
    if isinstance(value, list):
        for index, nested in enumerate(value):
            check_payload(report, nested, item(location, index))
        return
    if not isinstance(value, dict):
        return
    for key, nested in value.items():
        at = child(location, str(key))
        if str(key).endswith(".$"):
            _check_dynamic(report, key, nested, at)
        elif isinstance(nested, str) and _looks_dynamic(nested):
            report.warn(
                "NO_DOLLAR",
                f"The value for the field '{key}' looks like a JSONPath or an intrinsic function, "
                "but the field name does not end with '.$'",
                at,
            )
        else:
            check_payload(report, nested, at)


def _check_dynamic(report: Report, key: str, value: Any, location: str) -> None:
    if not isinstance(value, str) or path_or_intrinsic_problem(value) is not None:
        report.schema(
            f"The value for the field '{key}' must be a valid JSONPath or a valid intrinsic function call",
            location,
        )


def _looks_dynamic(text: str) -> bool:
    return text.startswith("$.") or text.startswith("$$.") or (is_intrinsic(text) and text.endswith(")"))


def _has_dynamic_key(value: Any) -> bool:
    if isinstance(value, dict):
        return any(str(key).endswith(".$") or _has_dynamic_key(nested) for key, nested in value.items())
    if isinstance(value, list):
        return any(_has_dynamic_key(nested) for nested in value)
    return False


def check_assign(report: Report, value: Any, location: str, *, jsonata: bool) -> None:
    """Assign's keys are variable names; in JSONPath states its values are templates."""
    if not isinstance(value, dict):
        return  # the type check has already reported it
    for key in value:
        name = str(key)[:-2] if not jsonata and str(key).endswith(".$") else str(key)
        _check_variable_name(report, name, child(location, str(key)))
    if not jsonata:
        check_payload(report, value, location)


def _check_variable_name(report: Report, name: str, location: str) -> None:
    if name in RESERVED_VARIABLES:
        report.add("RESERVED_VARIABLE_NAME", f"Cannot assign to reserved variable '${name}'.", location)
    elif not name.isidentifier():
        report.add(
            "INVALID_VARIABLE_NAME",
            f"Invalid variable name '{name}': the variable name contains invalid characters.",
            location,
        )
    elif len(name) > MAX_VARIABLE_NAME:
        report.add(
            "INVALID_VARIABLE_NAME",
            f"Invalid variable name '{name}': the variable name exceeds {MAX_VARIABLE_NAME} characters.",
            location,
        )
