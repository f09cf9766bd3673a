"""Checks on a Choice state's rules.

A JSONPath rule is a Boolean expression (And, Or, Not) or a comparison (Variable plus exactly one
operator); only top-level rules carry Next. A JSONata rule is a Condition and a Next.
"""

from __future__ import annotations

import re
from typing import Any

from stepdance.asl import validate_jsonata
from stepdance.asl.validate_context import Report, StateContext, child, item
from stepdance.asl.validate_schema import (
    check_exactly_one,
    check_only_one,
    check_path,
    check_required,
    check_unknown,
)
from stepdance.asl.validate_templates import check_assign

_STRING = (
    "StringEquals",
    "StringLessThan",
    "StringGreaterThan",
    "StringLessThanEquals",
    "StringGreaterThanEquals",
)
_NUMERIC = (
    "NumericEquals",
    "NumericLessThan",
    "NumericGreaterThan",
    "NumericLessThanEquals",
    "NumericGreaterThanEquals",
)
_TIMESTAMP = (
    "TimestampEquals",
    "TimestampLessThan",
    "TimestampGreaterThan",
    "TimestampLessThanEquals",
    "TimestampGreaterThanEquals",
)
_TESTS = ("IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp")

# Each operator with the JSON type its operand must have ("path" for the ...Path forms).
OPERATORS: dict[str, tuple[type, ...] | str] = {
    **{name: (str,) for name in (*_STRING, "StringMatches")},
    **{name: (float, int) for name in _NUMERIC},
    **{name: (str,) for name in _TIMESTAMP},
    "BooleanEquals": (bool,),
    **{name: (bool,) for name in _TESTS},
    **{f"{name}Path": "path" for name in (*_STRING, *_NUMERIC, *_TIMESTAMP, "BooleanEquals")},
}
BOOLEAN_OPERATORS = ("And", "Or", "Not")
JSONPATH_KINDS = (*BOOLEAN_OPERATORS, "Variable")
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")

_TOP_EXTRA = {
    "JSONPath": frozenset({"Next", "Assign", "Comment"}),
    "JSONata": frozenset({"Next", "Assign", "Comment", "Output"}),
}
_JSONPATH_FIELDS = frozenset({*JSONPATH_KINDS, *OPERATORS, "Comment"})


def check_choices(report: Report, ctx: StateContext) -> None:
    check_required(report, ctx.raw, ("Choices",), ctx.location)
    rules = ctx.raw.get("Choices")
    if not isinstance(rules, list):
        return  # absent, or already reported by the type check
    if not rules:
        report.schema("Value cannot be empty", ctx.at("Choices"))
    for index, rule in enumerate(rules):
        location = item(ctx.at("Choices"), index)
        if report.expect(rule, (dict,), location):
            _check_top_rule(report, rule, location, ctx)


def _check_top_rule(report: Report, rule: dict[str, Any], location: str, ctx: StateContext) -> None:
    check_required(report, rule, ("Next",), location)
    if "Next" in rule:
        report.expect(rule["Next"], (str,), child(location, "Next"))
    if "Assign" in rule and report.expect(rule["Assign"], (dict,), child(location, "Assign")):
        check_assign(report, rule["Assign"], child(location, "Assign"), jsonata=ctx.is_jsonata)
    if ctx.is_jsonata:
        _check_jsonata_rule(report, rule, location)
    else:
        body = {key: value for key, value in rule.items() if key not in _TOP_EXTRA["JSONPath"]}
        _check_jsonpath_rule(report, body, location)


def _check_jsonata_rule(report: Report, rule: dict[str, Any], location: str) -> None:
    allowed = _TOP_EXTRA["JSONata"] | {"Condition"}
    for key in rule:
        if key in _JSONPATH_FIELDS and key != "Comment":
            report.schema(
                f"The QueryLanguage is set to 'JSONata', but field '{key}' is only supported for the 'JSONPath' QueryLanguage",
                child(location, key),
            )
        elif key not in allowed:
            report.schema(f"Field '{key}' is not supported", location)
    check_required(report, rule, ("Condition",), location)
    condition = rule.get("Condition")
    if isinstance(condition, str) and validate_jsonata.is_expression(condition):
        validate_jsonata.check_string(report, condition, child(location, "Condition"))
    elif "Condition" in rule and not isinstance(condition, bool):
        report.schema("Expected value of type Boolean", child(location, "Condition"))
    for key in ("Output", "Assign"):
        if key in rule:
            validate_jsonata.check_value(report, rule[key], child(location, key))


def _check_jsonpath_rule(report: Report, rule: dict[str, Any], location: str) -> None:
    """A rule without its top-level-only fields (Next, Assign): nested rules are checked the same way."""
    for key in ("Condition", "Output"):
        if key in rule:
            report.schema(
                f"The QueryLanguage is set to 'JSONPath', but field '{key}' is only supported for the 'JSONata' QueryLanguage",
                location,
            )
    check_unknown(
        report,
        {k: v for k, v in rule.items() if k not in ("Condition", "Output")},
        _JSONPATH_FIELDS,
        location,
    )
    check_exactly_one(report, rule, JSONPATH_KINDS, location)
    if "Variable" in rule:
        _check_comparison(report, rule, location)
    for key in ("And", "Or"):
        if key in rule:
            _check_rule_list(report, rule[key], child(location, key))
    if "Not" in rule and report.expect(rule["Not"], (dict,), child(location, "Not")):
        _check_jsonpath_rule(report, rule["Not"], child(location, "Not"))


def _check_rule_list(report: Report, rules: Any, location: str) -> None:
    if not report.expect(rules, (list,), location):
        return
    if not rules:
        report.schema("Value cannot be empty", location)
    for index, nested in enumerate(rules):
        at = item(location, index)
        if report.expect(nested, (dict,), at):
            _check_jsonpath_rule(report, nested, at)


def _check_comparison(report: Report, rule: dict[str, Any], location: str) -> None:
    check_path(report, rule["Variable"], child(location, "Variable"))
    operators = tuple(key for key in rule if key in OPERATORS)
    if not operators:
        check_exactly_one(report, rule, tuple(OPERATORS), location)
        return
    check_only_one(report, rule, operators, location)
    for name in operators:
        _check_operand(report, name, rule[name], child(location, name))


def _check_operand(report: Report, name: str, value: Any, location: str) -> None:
    kind = OPERATORS[name]
    if kind == "path":
        check_path(report, value, location)
        return
    valid = isinstance(kind, tuple) and report.expect(value, kind, location)
    if valid and name.startswith("Timestamp") and not TIMESTAMP.fullmatch(value):
        report.schema("Value is not a valid timestamp", location)
