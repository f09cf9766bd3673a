"""Interpolating YAML values: only strings that are exactly one ``${...}`` are evaluated, keeping the
result's type; other strings stay as written; lists and map values are walked recursively."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stepdance.gcw.expr import (
    Context,
    ExprSyntaxError,
    WorkflowsError,
    expression_text,
    interpolate,
    parse_value,
)

CONTEXT = Context.fixed(now=100.0, env={"GOOGLE_CLOUD_PROJECT_ID": "proj"})
SCOPE = {"firstName": "Ada", "n": 2, "items": ["a", "b"], "order": {"id": "o-1", "total": 9.5}}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("${1 + 1}", 2),  # the type of the result is kept
        ("${n * 1.5}", 3.0),
        ('${"Hello, " + firstName}', "Hello, Ada"),  # Strings page: concatenate using expressions
        ("${items}", ["a", "b"]),
        ("${order}", {"id": "o-1", "total": 9.5}),
        ("${null}", None),
        ("${n > 1}", True),
        ('${sys.get_env("GOOGLE_CLOUD_PROJECT_ID")}', "proj"),  # Expressions page: function expressions
        ("${1 +\n  1}\n", 2),  # a YAML block scalar ends with a newline
        ("${{}}", {}),
        ('${"}"}', "}"),
    ],
)
def test_whole_string_expressions_are_evaluated(value: str, expected: object) -> None:
    result = interpolate(value, SCOPE, CONTEXT)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    "value",
    [
        "Hello ${firstName}",  # no string interpolation in Workflows: text around ${...} stays as written
        "${n} items",
        " ${n}",
        "${n} ",
        "$n",
        "{n}",
        "$ {n}",
        "plain text",
        "",
        "${",
    ],
)
def test_other_strings_stay_as_written(value: str) -> None:
    assert interpolate(value, SCOPE, CONTEXT) == value
    assert parse_value(value) is None


def test_nested_yaml_values() -> None:
    value = {
        "url": '${"https://example.com/orders/" + order.id}',
        "body": {"total": "${order.total}", "count": "${len(items)}", "note": "n = ${n}"},
        "query": ["${items[0]}", 3, True, None, ["${n}"]],
        "${n}": "keys are not expressions",
    }
    assert interpolate(value, SCOPE, CONTEXT) == {
        "url": "https://example.com/orders/o-1",
        "body": {"total": 9.5, "count": 2, "note": "n = ${n}"},
        "query": ["a", 3, True, None, [2]],
        "${n}": "keys are not expressions",
    }


def test_interpolation_returns_new_structures() -> None:
    value = {"a": ["${n}"], "b": {"c": 1}}
    result = interpolate(value, SCOPE, CONTEXT)
    assert value == {"a": ["${n}"], "b": {"c": 1}}
    assert result["b"] is not value["b"]


def test_errors_surface_from_interpolation() -> None:
    with pytest.raises(WorkflowsError) as raised:
        interpolate({"x": ["${order.missing}"]}, SCOPE, CONTEXT)
    assert raised.value.tags == ["KeyError", "LookupError"]
    with pytest.raises(ExprSyntaxError):
        interpolate("${1 +}", SCOPE, CONTEXT)
    with pytest.raises(ExprSyntaxError):
        interpolate("${a} and ${b}", SCOPE, CONTEXT)  # one expression from "${" to the last "}": malformed


def test_interpolating_deeply_nested_values_is_a_resource_limit_error() -> None:
    deep: Any = "${n}"
    for _ in range(1000):
        deep = [deep]
    with pytest.raises(WorkflowsError) as raised:
        interpolate(deep, SCOPE, CONTEXT)
    assert raised.value.tags == ["ResourceLimitError"]


def test_expression_text() -> None:
    assert expression_text("${a.b}") == "a.b"
    assert expression_text("${a.b}\n\n") == "a.b"
    assert expression_text("x${a}") is None


_YAML_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10)
_YAML = st.recursive(
    _YAML_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@given(_YAML.filter(lambda v: "${" not in repr(v)))
def test_values_without_expressions_come_back_equal(value: Any) -> None:
    assert interpolate(value, SCOPE, CONTEXT) == value
