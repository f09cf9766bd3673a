"""Payload templates (Parameters, ResultSelector, ItemSelector, Assign) of JSONPath states."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stepdance.asl.errors import StatesError
from stepdance.asl.payload import compile_template, evaluate_expression, evaluate_template
from stepdance.asl.scope import Scope

SCOPE = Scope(
    context={"Execution": {"Name": "exec-1"}, "Map": {"Item": {"Value": "v0"}}}, variables={"x": 42}
)


def test_dollar_keys_are_evaluated_and_lose_the_suffix() -> None:
    template = {
        "plain": "$.not.evaluated",
        "path.$": "$.a",
        "context.$": "$$.Execution.Name",
        "variable.$": "$x",
        "whole.$": "$",
        "call.$": "States.Format('{}-{}', $.a, $x)",
        "nested": {"deep.$": "$.b[1]", "list": [{"item.$": "$$.Map.Item.Value"}, 3]},
    }
    value = {"a": "A", "b": [1, 2]}
    assert evaluate_template(template, value, SCOPE) == {
        "plain": "$.not.evaluated",
        "path": "A",
        "context": "exec-1",
        "variable": 42,
        "whole": value,
        "call": "A-42",
        "nested": {"deep": 2, "list": [{"item": "v0"}, 3]},
    }


def test_an_index_past_the_end_is_null_in_a_template() -> None:
    assert evaluate_template({"item.$": "$.items[10]"}, {"items": [1]}, SCOPE) == {"item": None}


def test_a_missing_path_fails_with_aws_wording() -> None:
    with pytest.raises(StatesError) as failure:
        evaluate_template({"value.$": "$.no_such_jsonpath"}, {"int-literal": 0}, SCOPE)
    assert failure.value.error == "States.Runtime"
    assert failure.value.cause == (
        "The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' could not be found in the input "
        "'{\"int-literal\":0}'"
    )


def test_a_missing_context_path_shows_the_context_object() -> None:
    with pytest.raises(StatesError) as failure:
        evaluate_template({"v.$": "$$.Execution.Nope"}, {}, SCOPE)
    assert failure.value.cause is not None
    assert failure.value.cause.endswith(
        """could not be found in the input '{"Execution":{"Name":"exec-1"},"Map":{"Item":{"Value":"v0"}}}'"""
    )


def test_a_nested_field_is_named_by_its_own_key() -> None:
    with pytest.raises(StatesError) as failure:
        evaluate_template({"outer": {"inner.$": "$.nope"}}, {}, SCOPE)
    assert "specified for the field 'inner.$'" in (failure.value.cause or "")


@pytest.mark.parametrize("bad", ["not a path", 5, None, "$.a b", "States.Nope()"])
def test_a_malformed_dollar_value_fails_when_evaluated(bad: Any) -> None:
    with pytest.raises(StatesError) as failure:
        evaluate_template({"v.$": bad}, {}, SCOPE)
    assert (
        failure.value.cause
        == "The value for the field 'v.$' must be a valid JSONPath or a valid intrinsic function call"
    )


def test_an_intrinsic_failure_is_reported_as_is() -> None:
    with pytest.raises(StatesError) as failure:
        evaluate_template({"v.$": "States.ArrayLength($.nope)"}, {"other": 1}, SCOPE)
    assert failure.value.cause == (
        "The function 'States.ArrayLength($.nope)' had the following error: The JsonPath argument for the "
        """field '$.nope' could not be found in the input '{"other":1}'"""
    )


def test_constant_templates_are_not_copied() -> None:
    template = {"a": [1, {"b": "$.c"}], "d": {"e": None}}
    assert compile_template(template) is None
    assert evaluate_template(template, {}, SCOPE) is template


def test_constant_parts_of_a_dynamic_template_are_shared() -> None:
    constant = {"deep": [1, 2]}
    result = evaluate_template({"k": constant, "v.$": "$"}, 1, SCOPE)
    assert result["k"] is constant


def test_compiled_templates_are_cached_by_identity() -> None:
    template = {"v.$": "$.a"}
    assert compile_template(template) is compile_template(template)
    assert compile_template(template) is not compile_template(dict(template))


def test_evaluate_expression_names_the_field() -> None:
    assert evaluate_expression("$.Cause", {"Cause": "c"}, SCOPE, field="CausePath") == "c"
    assert evaluate_expression("States.Format('{}', $.e)", {"e": "x"}, SCOPE, field="ErrorPath") == "x"
    with pytest.raises(StatesError) as failure:
        evaluate_expression("$.NoSuchCausePath", {"a": 1}, SCOPE, field="CausePath")
    assert failure.value.cause == (
        "The JSONPath '$.NoSuchCausePath' specified for the field 'CausePath' could not be found in the input "
        """'{"a":1}'"""
    )


keys = st.text(alphabet="abcxyz.$", min_size=1, max_size=5)
templates = st.recursive(
    st.none() | st.integers() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3),
    max_leaves=15,
)


@given(templates)
def test_templates_without_dollar_keys_evaluate_to_themselves(template: Any) -> None:
    def has_dollar_key(node: Any) -> bool:
        if isinstance(node, dict):
            return any(key.endswith(".$") or has_dollar_key(item) for key, item in node.items())
        return isinstance(node, list) and any(has_dollar_key(item) for item in node)

    if has_dollar_key(template):
        return
    before = copy.deepcopy(template)
    assert evaluate_template(template, {"a": 1}, SCOPE) == before
