"""Validation of single states: fields per type and query language, values, paths and expressions."""

from __future__ import annotations

from typing import Any

import pytest

from tests.asl.validate_helpers import PASS_END, errors, machine, single, warnings

LAMBDA = "arn:aws:states:::lambda:invoke"


def s(message: str, location: str) -> str:
    return f"SCHEMA_VALIDATION_FAILED: {message} at {location}"


@pytest.mark.parametrize(
    "state",
    [
        {"Type": "Pass", "TimeoutSeconds": 5},
        {"Type": "Pass", "Catch": []},
        {"Type": "Wait", "Seconds": 1, "Retry": []},
        {"Type": "Choice", "Choices": [{"Variable": "$.a", "IsNull": True, "Next": "S"}], "Next": "S"},
        {"Type": "Fail", "InputPath": "$"},
        {"Type": "Succeed", "Resource": LAMBDA},
        {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": PASS_END}}], "TimeoutSeconds": 1},
    ],
)
def test_fields_the_state_type_does_not_take(state: dict[str, Any]) -> None:
    field = next(key for key in reversed(state) if key not in ("Type",))
    assert s(f"Field '{field}' is not supported", "/States/S") in errors(single(state))


def test_jsonpath_fields_in_jsonata_states_and_jsonata_fields_in_jsonpath_states() -> None:
    jsonata = single(
        {"Type": "Pass", "InputPath": "$.a", "ResultPath": "$.r", "Assign": {"a": 1}}, QueryLanguage="JSONata"
    )
    assert errors(jsonata) == [
        s("The QueryLanguage is set to 'JSONata', but field 'InputPath' is only supported for the 'JSONPath' QueryLanguage", "/States/S/InputPath"),
        s("The QueryLanguage is set to 'JSONata', but field 'ResultPath' is only supported for the 'JSONPath' QueryLanguage", "/States/S/ResultPath"),
    ]  # fmt: skip
    jsonpath = single({"Type": "Task", "Resource": LAMBDA, "Arguments": {}, "Output": 1, "Assign": {"a": 1}})
    assert errors(jsonpath) == [
        s("The QueryLanguage is set to 'JSONPath', but field 'Arguments' is only supported for the 'JSONata' QueryLanguage", "/States/S"),
        s("The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage", "/States/S"),
    ]  # fmt: skip


def test_a_state_may_not_downgrade_a_jsonata_machine_to_jsonpath() -> None:
    definition = single({"Type": "Pass", "QueryLanguage": "JSONPath"}, QueryLanguage="JSONata")
    assert errors(definition) == [
        s("'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine", "/States/S")
    ]
    assert errors(single({"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% $states.input %}"})) == []


def test_states_inside_a_map_take_the_machines_language_not_the_maps() -> None:
    processor = {"StartAt": "X", "States": {"X": {"Type": "Pass", "Output": 1, "End": True}}}
    definition = single({"Type": "Map", "QueryLanguage": "JSONata", "ItemProcessor": processor})
    assert errors(definition) == [
        s("The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage", "/States/S/ItemProcessor/States/X")
    ]  # fmt: skip


def test_next_and_end() -> None:
    both = machine({"A": {"Type": "Pass", "Next": "B", "End": True}, "B": PASS_END})
    assert errors(both) == [s("There should only be one of the following fields: [Next, End]", "/States/A")]
    neither = machine({"A": {"Type": "Pass", "End": False}, "B": PASS_END})
    assert errors(neither)[0] == s(
        "This object should have only one of the following fields: [Next, End]", "/States/A"
    )


def test_task_resource_timeouts_and_heartbeats() -> None:
    assert errors(single({"Type": "Task"})) == [s("These fields are required: [Resource]", "/States/S")]
    assert errors(single({"Type": "Task", "Resource": ""})) == [
        s("Value cannot be empty", "/States/S/Resource")
    ]
    handler_name = single({"Type": "Task", "Resource": "charge-card"})
    assert errors(handler_name) == []
    assert warnings(handler_name) == [
        "INVALID_RESOURCE: Value is not a valid resource ARN: charge-card (AWS would refuse it) at /States/S/Resource"
    ]
    task = {
        "Type": "Task",
        "Resource": LAMBDA,
        "TimeoutSeconds": 10,
        "TimeoutSecondsPath": "$.t",
        "HeartbeatSeconds": 10,
    }
    assert errors(single(task)) == [
        s("There should only be one of the following fields: [TimeoutSeconds, TimeoutSecondsPath]", "/States/S/TimeoutSeconds"),
        s("HeartbeatSeconds must be smaller than TimeoutSeconds", "/States/S/HeartbeatSeconds"),
    ]  # fmt: skip
    wrong = {
        "Type": "Task",
        "Resource": LAMBDA,
        "TimeoutSeconds": 0,
        "HeartbeatSeconds": 1.5,
        "HeartbeatSecondsPath": "$.a[*]",
    }
    assert errors(single(wrong)) == [
        s("Minimum value is 1", "/States/S/TimeoutSeconds"),
        s("Expected value of type Integer", "/States/S/HeartbeatSeconds"),
        s("Value is not a Reference Path: Reference path can only contain names and single indexes", "/States/S/HeartbeatSecondsPath"),
        s("There should only be one of the following fields: [HeartbeatSeconds, HeartbeatSecondsPath]", "/States/S/HeartbeatSeconds"),
    ]  # fmt: skip
    jsonata = {
        "Type": "Task",
        "Resource": LAMBDA,
        "TimeoutSeconds": "{% 30 %}",
        "Arguments": "{% $states.input %}",
    }
    assert errors(single(jsonata, QueryLanguage="JSONata")) == []


def test_wait_takes_exactly_one_duration() -> None:
    assert errors(single({"Type": "Wait"})) == [
        s("This object should have only one of the following fields: [Seconds, Timestamp, SecondsPath, TimestampPath]", "/States/S")
    ]  # fmt: skip
    assert errors(single({"Type": "Wait", "Seconds": 1, "TimestampPath": "$.t"})) == [
        s("There should only be one of the following fields: [Seconds, TimestampPath]", "/States/S/Seconds")
    ]
    assert errors(single({"Type": "Wait", "Seconds": -1})) == [s("Minimum value is 0", "/States/S/Seconds")]
    assert errors(single({"Type": "Wait", "Timestamp": "tomorrow"})) == [
        s("Value is not a valid timestamp", "/States/S/Timestamp")
    ]
    assert errors(single({"Type": "Wait", "Timestamp": "2016-03-14T01:59:00Z"})) == []


def test_fail_error_and_cause_exclude_their_path_forms() -> None:
    fail = {"Type": "Fail", "Error": "E", "ErrorPath": "$.e", "Cause": "C", "CausePath": "States.Nope($.c)"}
    assert errors(single(fail)) == [
        s("The value for the field 'CausePath' must be a valid JSONPath or a valid intrinsic function call", "/States/S/CausePath"),
        s("There should only be one of the following fields: [Error, ErrorPath]", "/States/S/Error"),
        s("There should only be one of the following fields: [Cause, CausePath]", "/States/S/Cause"),
    ]  # fmt: skip
    ok = {"Type": "Fail", "ErrorPath": "$$.State.Name", "CausePath": "States.Format('{} failed', $.what)"}
    assert errors(single(ok)) == []


def _choice(*rules: dict[str, Any], **top: Any) -> dict[str, Any]:
    return machine({"C": {"Type": "Choice", "Choices": list(rules), "Default": "D"}, "D": PASS_END}, **top)


def test_choice_rules_are_well_formed() -> None:
    assert errors(machine({"C": {"Type": "Choice", "Choices": [], "Default": "D"}, "D": PASS_END})) == [
        s("Value cannot be empty", "/States/C/Choices")
    ]
    assert errors(_choice({"Variable": "$.a", "StringEquals": "x"})) == [
        s("These fields are required: [Next]", "/States/C/Choices[0]")
    ]
    assert errors(_choice({"Variable": "$.a", "StringEquals": "x", "NumericEquals": 1, "Next": "D"})) == [
        s("There should only be one of the following fields: [StringEquals, NumericEquals]", "/States/C/Choices[0]/StringEquals")
    ]  # fmt: skip
    nested = {
        "And": [{"Variable": "$.a", "IsPresent": True, "Next": "D"}],
        "Not": {"Variable": "$.b"},
        "Next": "D",
    }
    problems = errors(_choice(nested))
    assert problems[0] == s(
        "There should only be one of the following fields: [And, Not]", "/States/C/Choices[0]/And"
    )
    assert s("Field 'Next' is not supported", "/States/C/Choices[0]/And[0]") in problems
    assert any(p.startswith("SCHEMA_VALIDATION_FAILED: This object should have only one of the following fields: [StringEquals") and p.endswith("at /States/C/Choices[0]/Not") for p in problems)  # fmt: skip


def test_choice_operands_have_the_operators_type() -> None:
    rules = [
        {"Variable": "$.a", "NumericEquals": "1", "Next": "D"},
        {"Variable": "$.a", "BooleanEquals": 1, "Next": "D"},
        {"Variable": "$.a", "IsNull": "true", "Next": "D"},
        {"Variable": "$.a", "StringEqualsPath": "a", "Next": "D"},
        {"Variable": "a", "TimestampEquals": "2016-03-14", "Next": "D"},
    ]
    assert errors(_choice(*rules)) == [
        s("Expected value of type Number", "/States/C/Choices[0]/NumericEquals"),
        s("Expected value of type Boolean", "/States/C/Choices[1]/BooleanEquals"),
        s("Expected value of type Boolean", "/States/C/Choices[2]/IsNull"),
        s(
            "Value must be a valid JSONPath: Path didn't start with '$'",
            "/States/C/Choices[3]/StringEqualsPath",
        ),
        s("Value must be a valid JSONPath: Path didn't start with '$'", "/States/C/Choices[4]/Variable"),
        s("Value is not a valid timestamp", "/States/C/Choices[4]/TimestampEquals"),
    ]


def test_jsonata_choice_rules_take_a_condition() -> None:
    ok = _choice(
        {"Condition": "{% $states.input.a > 1 %}", "Next": "D", "Output": {"b": "{% 2 %}"}},
        QueryLanguage="JSONata",
    )
    assert errors(ok) == []
    wrong = _choice({"Variable": "$.a", "IsNull": True, "Next": "D"}, QueryLanguage="JSONata")
    assert errors(wrong) == [
        s("The QueryLanguage is set to 'JSONata', but field 'Variable' is only supported for the 'JSONPath' QueryLanguage", "/States/C/Choices[0]/Variable"),
        s("The QueryLanguage is set to 'JSONata', but field 'IsNull' is only supported for the 'JSONPath' QueryLanguage", "/States/C/Choices[0]/IsNull"),
        s("These fields are required: [Condition]", "/States/C/Choices[0]"),
    ]  # fmt: skip
    assert errors(_choice({"Condition": "{% $states.input.a", "Next": "D"}, QueryLanguage="JSONata")) == [
        s("JSONata string must start with {% and end with %}", "/States/C/Choices[0]/Condition")
    ]


def test_retriers() -> None:
    retry = [
        {"ErrorEquals": ["States.ALL", "Custom"], "MaxAttempts": -1, "BackoffRate": 0.5},
        {"ErrorEquals": [], "IntervalSeconds": 0, "MaxDelaySeconds": 0, "JitterStrategy": "HALF", "Foo": 1},
        {"ErrorEquals": ["States.ALL"]},
    ]
    assert errors(single({"Type": "Task", "Resource": LAMBDA, "Retry": retry})) == [
        s("States.ALL must appear alone and at end of list", "/States/S/Retry[0]/ErrorEquals"),
        s("Minimum value is 0", "/States/S/Retry[0]/MaxAttempts"),
        s("Minimum value is 1", "/States/S/Retry[0]/BackoffRate"),
        s("Field 'Foo' is not supported", "/States/S/Retry[1]"),
        s("Value cannot be empty", "/States/S/Retry[1]/ErrorEquals"),
        s("Minimum value is 1", "/States/S/Retry[1]/MaxDelaySeconds"),
        s("Value should be one of the following: [NONE, FULL]", "/States/S/Retry[1]/JitterStrategy"),
    ]


def test_catchers() -> None:
    catch = [
        {"ErrorEquals": ["States.ALL"], "Next": "H"},
        {"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.errors[*]"},
    ]
    definition = machine(
        {"S": {"Type": "Task", "Resource": LAMBDA, "Catch": catch, "End": True}, "H": {"Type": "Fail"}}
    )
    assert errors(definition) == [
        s("States.ALL must appear alone and at end of list", "/States/S/Catch[0]/ErrorEquals"),
        s("These fields are required: [Next]", "/States/S/Catch[1]"),
        s(
            "Value is not a Reference Path: Reference path can only contain names and single indexes",
            "/States/S/Catch[1]/ResultPath",
        ),
    ]


def test_paths_and_dynamic_template_values() -> None:
    state = {
        "Type": "Pass",
        "InputPath": "input",
        "OutputPath": None,
        "ResultPath": "$.list[*]",
        "Parameters": {
            "ok.$": "$.items[?(@.price > 10)].name",
            "fmt.$": "States.Format('{} and {}', $.a, States.JsonToString($.b))",
            "bad.$": "$.a[",
            "nested": [{"unknown.$": "States.Nope()"}],
            "number.$": 5,
        },
    }
    assert errors(single(state)) == [
        s("Value must be a valid JSONPath: Path didn't start with '$'", "/States/S/InputPath"),
        s("Value is not a Reference Path: Reference path can only contain names and single indexes", "/States/S/ResultPath"),
        s("The value for the field 'bad.$' must be a valid JSONPath or a valid intrinsic function call", "/States/S/Parameters/bad.$"),
        s("The value for the field 'unknown.$' must be a valid JSONPath or a valid intrinsic function call", "/States/S/Parameters/nested[0]/unknown.$"),
        s("The value for the field 'number.$' must be a valid JSONPath or a valid intrinsic function call", "/States/S/Parameters/number.$"),
    ]  # fmt: skip


def test_jsonata_expressions_must_parse_and_read_no_top_level_name() -> None:
    state = {
        "Type": "Pass",
        "Output": {
            "a": "{% $states.input.a + %}",
            "b": "{% phone & $states.input.x %}",
            "c": "{% 1 + 1",
            "d": "{%",
        },
        "Assign": {"ok": "{% $map($states.input.items, function($v) { $v.price }) %}"},
    }
    assert errors(single(state, QueryLanguage="JSONata")) == [
        "INVALID_JSONATA_EXPRESSION: Unexpected end of expression at /States/S/Output/a",
        "UNSUPPORTED_JSONATA_EXPRESSION: Reference to 'phone' at the top level is not supported. at /States/S/Output/b",
        s("JSONata string must start with {% and end with %}", "/States/S/Output/c"),
        s("JSONata string must start with {% and end with %}", "/States/S/Output/d"),
    ]


def test_assign_variable_names() -> None:
    state = {"Type": "Pass", "Assign": {"good_1": 1, "copy.$": "$.a", "states": 1, "bad-name": 2, "1st": 3}}
    assert errors(single(state)) == [
        "RESERVED_VARIABLE_NAME: Cannot assign to reserved variable '$states'. at /States/S/Assign/states",
        "INVALID_VARIABLE_NAME: Invalid variable name 'bad-name': the variable name contains invalid characters. at /States/S/Assign/bad-name",
        "INVALID_VARIABLE_NAME: Invalid variable name '1st': the variable name contains invalid characters. at /States/S/Assign/1st",
    ]  # fmt: skip


def test_map_fields() -> None:
    processor = {"StartAt": "X", "States": {"X": PASS_END}}
    assert errors(single({"Type": "Map"})) == [
        s("This object should have only one of the following fields: [ItemProcessor, Iterator]", "/States/S")
    ]
    crowded = {
        "Type": "Map",
        "ItemProcessor": processor,
        "Iterator": processor,
        "MaxConcurrency": 2,
        "MaxConcurrencyPath": "$.m",
        "ToleratedFailurePercentage": 101,
        "ItemSelector": {},
        "Parameters": {},
        "Label": "L" * 41,
    }
    assert errors(single(crowded)) == [
        s("Maximum value is 100", "/States/S/ToleratedFailurePercentage"),
        s("There should only be one of the following fields: [ItemProcessor, Iterator]", "/States/S/ItemProcessor"),
        "DUPLICATE_STATE_NAME: Duplicate State name: X at /States/S/Iterator/States/X",
        s("There should only be one of the following fields: [MaxConcurrency, MaxConcurrencyPath]", "/States/S/MaxConcurrency"),
        s("There should only be one of the following fields: [ItemSelector, Parameters]", "/States/S/ItemSelector"),
        f"INVALID_LABEL_NAME: Label '{'L' * 41}' must be between 1 and 40 characters long at /States/S/Label",
    ]  # fmt: skip


def test_item_processor_config_and_query_language() -> None:
    processor = {
        "QueryLanguage": "JSONata",
        "ProcessorConfig": {"Mode": "DISTRIBUTED"},
        "StartAt": "X",
        "States": {"X": PASS_END},
    }
    assert errors(single({"Type": "Map", "ItemProcessor": processor})) == [
        s("Field 'QueryLanguage' is not supported", "/States/S/ItemProcessor"),
        s("These fields are required: [ExecutionType]", "/States/S/ItemProcessor/ProcessorConfig"),
    ]
    inline = {
        "ProcessorConfig": {"Mode": "INLINE", "ExecutionType": "EXPRESS"},
        "StartAt": "X",
        "States": {"X": PASS_END},
    }
    assert errors(single({"Type": "Map", "ItemProcessor": inline})) == [
        s("Field 'ExecutionType' is not supported", "/States/S/ItemProcessor/ProcessorConfig")
    ]


def test_parallel_branches() -> None:
    assert errors(single({"Type": "Parallel", "Branches": []})) == [
        s("Value cannot be empty", "/States/S/Branches")
    ]
    assert errors(single({"Type": "Parallel", "Branches": [{"States": {"B": PASS_END}}, 3]})) == [
        s("These fields are required: [StartAt]", "/States/S/Branches[0]"),
        s("Expected value of type Object", "/States/S/Branches[1]"),
    ]
    assert errors(single({"Type": "Parallel"})) == [s("These fields are required: [Branches]", "/States/S")]


def test_state_type_and_shape() -> None:
    assert errors(machine({"A": {"Type": "Lambda"}})) == [
        s("Value should be one of the following: [Pass, Task, Choice, Wait, Succeed, Fail, Parallel, Map]", "/States/A/Type")
    ]  # fmt: skip
    assert errors(machine({"A": []})) == [s("Expected value of type Object", "/States/A")]
    assert errors(machine({"A": {"End": True}})) == [s("These fields are required: [Type]", "/States/A")]


def test_warnings_do_not_make_a_definition_invalid() -> None:
    definition = single({"Type": "Pass", "Result": {"a.$": "$.x"}, "Parameters": {"b": "$.y"}})
    assert errors(definition) == []
    assert warnings(definition) == [
        "NO_DOLLAR: The value for the field 'b' looks like a JSONPath or an intrinsic function, but the field name "
        "does not end with '.$' at /States/S/Parameters/b",
        "PASS_RESULT_IS_STATIC: Attempt to use a path in the result of a pass state at /States/S/Result",
    ]
