"""Validation never raises: any JSON, any text, and definitions broken at random give a list of problems."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stepdance.asl.definition import Problem
from stepdance.asl.validate import validate, validate_text

FIELDS = [
    "StartAt", "States", "Type", "Next", "End", "Default", "Choices", "Branches", "ItemProcessor", "Iterator",
    "Retry", "Catch", "ErrorEquals", "Variable", "And", "Or", "Not", "Condition", "StringEquals", "IsNull",
    "QueryLanguage", "Output", "Arguments", "Assign", "Parameters", "ResultPath", "InputPath", "Resource",
    "Seconds", "Timestamp", "SecondsPath", "TimeoutSeconds", "HeartbeatSeconds", "Error", "CausePath",
    "MaxConcurrency", "ProcessorConfig", "Mode", "ExecutionType", "Items", "x.$", "Comment", "Version",
]  # fmt: skip
STRINGS = st.sampled_from(
    ["", "A", "B", "Pass", "Task", "Choice", "Map", "Parallel", "Wait", "Fail", "Succeed", "JSONata",
     "JSONPath", "$", "$.a", "$$.Map.Item.Value", "$x", "$.a[", "States.ALL", "States.Format('{}', $.a)",
     "States.Nope(", "{% $states.input %}", "{% 1 + %}", "{% a %}", "{%", "arn:aws:states:::lambda:invoke",
     "2016-03-14T01:59:00Z", "DISTRIBUTED", "INLINE"]
) | st.text(max_size=8)  # fmt: skip
SCALARS = st.none() | st.booleans() | st.integers(-5, 10**9) | st.floats(allow_nan=False) | STRINGS
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=5), children, max_size=6)
    ),
    max_leaves=40,
)
SMALL_JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(FIELDS), children, max_size=3)
    ),
    max_leaves=8,
)
STATE = st.builds(
    lambda kind, fields: {"Type": kind, **fields},
    st.sampled_from(["Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"]),
    st.dictionaries(st.sampled_from(FIELDS), SMALL_JSON, max_size=5),
)
MACHINE = st.fixed_dictionaries(
    {"StartAt": STRINGS, "States": st.dictionaries(st.sampled_from(["A", "B", "C"]), STATE, max_size=3)},
    optional={"QueryLanguage": STRINGS, "TimeoutSeconds": SCALARS, "Comment": SCALARS},
)


def _is_problem_list(problems: Any) -> bool:
    return isinstance(problems, list) and all(isinstance(problem, Problem) for problem in problems)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(JSON)
def test_any_json_value_gives_a_list(value: Any) -> None:
    assert _is_problem_list(validate(value))
    assert _is_problem_list(validate_text(json.dumps(value)))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(MACHINE)
def test_random_machines_give_a_list_with_locations(machine: dict[str, Any]) -> None:
    problems = validate(machine)
    assert _is_problem_list(problems)
    assert all(problem.location.startswith("/") for problem in problems)


@settings(max_examples=200)
@given(st.text(max_size=60))
def test_any_text_gives_a_list(text: str) -> None:
    assert _is_problem_list(validate_text(text))


def test_deep_nesting_is_a_problem_not_a_crash() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    assert [problem.code for problem in validate_text(deep)] == ["INVALID_JSON_DESCRIPTION"]
    branch: dict[str, Any] = {"StartAt": "P", "States": {"P": {"Type": "Succeed"}}}
    for _ in range(400):
        branch = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [branch], "End": True}}}
    assert _is_problem_list(validate(branch))


CORPUS = sorted((Path(__file__).resolve().parents[3] / "shared" / "conformance" / "asl").glob("*.json"))


def _slots(value: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) inside a JSON value, to replace what is there."""
    slots: list[tuple[Any, Any]] = []
    pairs = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, nested in pairs:
        slots.append((value, key))
        slots.extend(_slots(nested))
    return slots


@pytest.mark.skipif(not CORPUS, reason="the conformance corpus is not available")
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_corpus_definitions_broken_at_random_give_a_list(data: st.DataObject) -> None:
    definition = json.loads(CORPUS[data.draw(st.integers(0, len(CORPUS) - 1))].read_text())["definition"]
    for _ in range(data.draw(st.integers(1, 4))):
        container, key = data.draw(st.sampled_from(_slots(definition)))
        container[key] = data.draw(SMALL_JSON)
    assert _is_problem_list(validate(definition))
