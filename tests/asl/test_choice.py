"""The Choice rules whose AWS semantics are easy to get wrong."""

from __future__ import annotations

from typing import Any

import pytest

from stepdance.asl.choice import choose, rule_matches
from stepdance.asl.choice_compare import parse_timestamp
from stepdance.asl.errors import StatesError
from stepdance.asl.scope import Scope

SCOPE = Scope(context={"Execution": {"Input": {"input-value": 0}}}, variables={"guess": "a", "answer": "a"})


def matches(rule: dict[str, Any], value: Any, scope: Scope = SCOPE) -> bool:
    return rule_matches(rule, value, scope)


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("log-*.txt", "log-2024.txt", True),
        ("log-*.txt", "log-.txt", True),
        ("log-*.txt", "log-1.txt.gz", False),
        ("*", "", True),
        ("a*b*c", "aXbYc", True),
        ("a\\*b", "a*b", True),
        ("a\\*b", "aXb", False),
        ("a\\\\*", "a\\anything", True),
        ("a\\\\*", "aX", False),
        ("line*", "line1\nline2", True),
        ("a.c", "abc", False),
    ],
)
def test_string_matches_wildcards_and_escapes(pattern: str, text: str, expected: bool) -> None:
    assert matches({"Variable": "$", "StringMatches": pattern}, text) is expected


def test_string_matches_is_false_for_a_non_string() -> None:
    assert not matches({"Variable": "$", "StringMatches": "*"}, 1)


def test_strings_compare_by_utf16_code_units_like_the_jvm() -> None:
    # U+FFFF sorts before U+1F600 by code point, after it by UTF-16 code unit (0xD83D).
    assert matches({"Variable": "$", "StringGreaterThan": "\U0001f600"}, "\uffff")


@pytest.mark.parametrize(
    ("operator", "operand", "value", "expected"),
    [
        ("NumericEquals", 1, 1.0, True),
        ("NumericEquals", 1, True, False),
        ("NumericLessThan", 2, 1.5, True),
        ("NumericGreaterThanEquals", 20, 20, True),
        ("NumericEquals", 42, "42", False),
        ("BooleanEquals", False, 0, False),
        ("BooleanEquals", False, False, True),
        ("StringEquals", "1", 1, False),
        ("StringLessThanEquals", "b", "b", True),
        ("StringGreaterThanEquals", "b", "a", False),
    ],
)
def test_type_mismatch_is_false_and_numbers_compare_by_value(
    operator: str, operand: Any, value: Any, expected: bool
) -> None:
    assert matches({"Variable": "$.v", operator: operand}, {"v": value}) is expected


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("2012-10-09T19:00:55Z", True),
        ("2012-10-09T19:00:55.123456789Z", True),
        ("2012-10-09T19:00:55+01:00", True),
        ("2012-10-09T19:00Z", True),
        ("2012-10-09t19:00:55z", True),
        ("2012-10-09T19:00:55", False),
        ("2023-02-24", False),
        ("2023-02-24 12:15:56.832957", False),
        ("2016-13-05T21:29:29Z", False),
        ("2016-02-30T21:29:29Z", False),
        ("2016-02-29T21:29:29Z", True),
        ("2016-12-05T25:29:29Z", False),
        ("05-12-2016T21:29:29Z", False),
        ("2012-10-09T19:00:55.1234567891Z", False),
        ("2012-10-09T19:00:55+19:00", False),
    ],
)
def test_timestamps_follow_aws_parsing(text: str, valid: bool) -> None:
    assert (parse_timestamp(text) is not None) is valid
    assert matches({"Variable": "$", "IsTimestamp": True}, text) is valid


def test_timestamps_compare_by_instant_across_offsets_and_fractions() -> None:
    rule = {"Variable": "$.t", "TimestampEquals": "2012-10-09T19:00:55Z"}
    assert matches(rule, {"t": "2012-10-09T20:00:55+01:00"})
    assert matches(
        {"Variable": "$.t", "TimestampGreaterThan": "2012-10-09T19:00:55Z"},
        {"t": "2012-10-09T19:00:55.000000001Z"},
    )
    assert not matches({"Variable": "$.t", "TimestampLessThan": "2012-10-09T19:00:55Z"}, {"t": "not a date"})


def test_is_present_is_the_only_test_that_accepts_a_missing_variable() -> None:
    assert matches({"Variable": "$.missing", "IsPresent": False}, {})
    assert not matches({"Variable": "$.present", "IsPresent": False}, {"present": None})
    with pytest.raises(StatesError) as raised:
        matches({"Variable": "$.missing", "NumericEquals": 1}, {})
    assert raised.value.error == "States.Runtime"
    assert raised.value.cause == (
        "Invalid path '$.missing': The choice state's condition path references an invalid value."
    )


def test_an_index_past_the_end_or_a_step_into_a_scalar_is_not_present() -> None:
    assert matches({"Variable": "$.items[3]", "IsPresent": False}, {"items": [1, 2]})
    assert matches({"Variable": "$.name.first", "IsPresent": False}, {"name": "Ada"})
    assert matches({"Variable": "$.items[1]", "IsPresent": True}, {"items": [1, None]})


def test_a_missing_path_operand_fails_the_state() -> None:
    with pytest.raises(StatesError, match=r"Invalid path '\$.limit'"):
        matches({"Variable": "$.v", "NumericLessThanPath": "$.limit"}, {"v": 1})


def test_is_null_and_type_tests_with_false_operand() -> None:
    assert matches({"Variable": "$.v", "IsNull": True}, {"v": None})
    assert matches({"Variable": "$.v", "IsNull": False}, {"v": 0})
    assert matches({"Variable": "$.v", "IsBoolean": False}, {"v": "true"})
    assert matches({"Variable": "$.v", "IsNumeric": False}, {"v": True})


def test_path_operands_reach_variables_and_the_context_object() -> None:
    assert matches({"Variable": "$guess", "StringEqualsPath": "$answer"}, {})
    assert matches({"Variable": "$$.Execution.Input.input-value", "NumericLessThanEquals": 0}, {})
    assert matches(
        {"Variable": "$.a['b c'][1]", "NumericEqualsPath": "$$.Execution.Input['input-value']"},
        {"a": {"b c": [5, 0]}},
    )


def test_variable_fields_are_reached_through_the_variable() -> None:
    scope = Scope(variables={"order": {"items": [{"qty": 3}]}})
    assert matches({"Variable": "$order.items[0].qty", "NumericGreaterThan": 2}, {}, scope)
    assert matches({"Variable": "$nope", "IsPresent": False}, {}, scope)


def test_boolean_combinations_nest_and_short_circuit() -> None:
    rule = {
        "And": [
            {"Variable": "$.value", "NumericGreaterThanEquals": 20},
            {
                "Not": {
                    "Or": [
                        {"Variable": "$.type", "StringEquals": "Public"},
                        {"Variable": "$.value", "NumericEquals": 25},
                    ]
                }
            },
        ]
    }
    assert matches(rule, {"value": 22, "type": "Private"})
    assert not matches(rule, {"value": 25, "type": "Private"})
    # The second test would fail on the missing path; And stops at the first false, like AWS.
    assert not matches(
        {"And": [{"Variable": "$.a", "IsNull": True}, {"Variable": "$.missing", "IsNull": True}]}, {"a": 1}
    )


def test_choose_returns_the_first_matching_rule_or_none() -> None:
    choices = [
        {"Variable": "$.value", "NumericEquals": 0, "Next": "Zero"},
        {"Variable": "$.value", "NumericLessThan": 10, "Next": "Small"},
        {"Variable": "$.value", "NumericLessThan": 100, "Next": "Medium"},
    ]
    assert choose(choices, {"value": 5}, SCOPE) == choices[1]
    assert choose(choices, {"value": 500}, SCOPE) is None
