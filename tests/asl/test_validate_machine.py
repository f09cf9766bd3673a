"""Validation of the definition as a whole: JSON text, top-level fields, transitions and state names."""

from __future__ import annotations

import pytest

from stepdance.asl.definition import Definition, DefinitionError
from stepdance.asl.validate import validate, validate_text
from tests.asl.validate_helpers import PASS_END, SUCCEED, errors, machine, single


def test_a_valid_definition_has_no_problem() -> None:
    assert validate(machine({"A": {"Type": "Pass", "Next": "B"}, "B": SUCCEED})) == []


def test_empty_text_and_non_objects_are_not_definitions() -> None:
    for text in ("", "  \n", "[]", "1", "null", '"x"'):
        assert errors(text) == ["SCHEMA_VALIDATION_FAILED: Definition must be a valid JSON object at /"]


def test_invalid_json_is_reported_with_line_and_column_as_aws_parser_words_it() -> None:
    (problem,) = validate_text("not a definition")
    assert problem.code == "INVALID_JSON_DESCRIPTION"
    assert problem.message.startswith("Unrecognized token 'not': was expecting (JSON String, Number")
    assert problem.location == '[Source: (String)"not a definition"; line: 1, column: 4]'


@pytest.mark.parametrize(
    ("text", "reason", "where"),
    [
        ('{\n  "StartAt": "A",\n}', "was expecting double-quote to start field name", "line: 3, column: 2"),
        ('{"a" 1}', "was expecting a colon to separate field name and value", "line: 1, column: 7"),
        ('{"a": 1 "b": 2}', "was expecting comma to separate Object entries", "line: 1, column: 10"),
        ("[1 2]", "was expecting comma to separate Array entries", "line: 1, column: 5"),
        ('{"a": [1, 2}', "was expecting comma to separate Array entries", "line: 1, column: 13"),
        ('{"a": {', "Unexpected end-of-input: expected close marker for OBJECT", "line: 1, column: 8"),
        ('{"a": "b', "Unexpected end-of-input: was expecting closing quote for a string value", "column: 9"),
        ('{"a": NaN}', "Non-standard token 'NaN'", ""),
    ],
)
def test_json_syntax_errors(text: str, reason: str, where: str) -> None:
    (problem,) = validate_text(text)
    assert problem.code == "INVALID_JSON_DESCRIPTION"
    assert reason in problem.message
    assert where in problem.location


def test_required_top_level_fields_are_listed_together() -> None:
    assert errors("{}") == ["SCHEMA_VALIDATION_FAILED: These fields are required: [States, StartAt] at /"]
    assert errors({"States": {"A": PASS_END}}) == [
        "SCHEMA_VALIDATION_FAILED: These fields are required: [StartAt] at /"
    ]


def test_top_level_fields_have_types_values_and_no_strangers() -> None:
    definition = machine(
        {"A": PASS_END}, Comment=1, Version="2.0", TimeoutSeconds=-1, QueryLanguage="XPath", Coment="typo"
    )
    assert errors(definition) == [
        "SCHEMA_VALIDATION_FAILED: Field 'Coment' is not supported at /",
        "SCHEMA_VALIDATION_FAILED: Value should be one of the following: [JSONPath, JSONata] at /QueryLanguage",
        "SCHEMA_VALIDATION_FAILED: Value should be one of the following: [1.0] at /Version",
        "SCHEMA_VALIDATION_FAILED: Minimum value is 0 at /TimeoutSeconds",
        "SCHEMA_VALIDATION_FAILED: Expected value of type String at /Comment",
    ]
    assert errors(machine({"A": PASS_END}, TimeoutSeconds="10")) == [
        "SCHEMA_VALIDATION_FAILED: Expected value of type Integer at /TimeoutSeconds"
    ]
    assert errors(machine({"A": PASS_END}, TimeoutSeconds=0, Version="1.0")) == []


def test_start_at_and_transition_targets_must_exist() -> None:
    definition = machine(
        {
            "A": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.x", "IsNull": True, "Next": "Gone"}],
                "Default": "Nope",
            },
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Lost"}],
                "Next": "Missing",
            },
        },
        start="Elsewhere",
    )
    assert errors(definition) == [
        "MISSING_TRANSITION_TARGET: Missing 'StartAt' target: Elsewhere at /StartAt",
        "MISSING_TRANSITION_TARGET: Missing 'Default' target: Nope at /States/A/Default",
        "MISSING_TRANSITION_TARGET: Missing 'Next' target: Gone at /States/A/Choices[0]/Next",
        "MISSING_TRANSITION_TARGET: Missing 'Next' target: Missing at /States/T/Next",
        "MISSING_TRANSITION_TARGET: Missing 'Next' target: Lost at /States/T/Catch[0]/Next",
        "MISSING_END_STATE: Workflow has no terminal state at /",
    ]


def test_unreachable_states_are_reported_even_in_a_cycle_of_their_own() -> None:
    definition = machine(
        {"A": PASS_END, "B": {"Type": "Pass", "Next": "C"}, "C": {"Type": "Pass", "Next": "B"}}
    )
    assert errors(definition) == [
        'MISSING_TRANSITION_TARGET: State "B" is not reachable. at /States/B',
        'MISSING_TRANSITION_TARGET: State "C" is not reachable. at /States/C',
    ]


def test_states_reached_only_through_catch_or_default_are_reachable() -> None:
    definition = machine(
        {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handle"}],
                "Next": "C",
            },
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.x", "IsNull": True, "Next": "Done"}],
                "Default": "D",
            },
            "Handle": {"Type": "Fail"},
            "D": SUCCEED,
            "Done": SUCCEED,
        }
    )
    assert errors(definition) == []


def test_a_machine_without_terminal_state_is_reported_without_unreachable_noise() -> None:
    definition = machine({"A": {"Type": "Pass", "Next": "A"}, "B": {"Type": "Pass", "Next": "A"}})
    assert errors(definition) == ["MISSING_END_STATE: Workflow has no terminal state at /"]


def test_state_names_are_unique_across_the_whole_machine_and_at_most_80_characters() -> None:
    branch = {"StartAt": "A", "States": {"A": PASS_END}}
    definition = machine(
        {"A": {"Type": "Parallel", "Branches": [branch], "Next": "x" * 81}, "x" * 81: SUCCEED}
    )
    assert errors(definition) == [
        "DUPLICATE_STATE_NAME: Duplicate State name: A at /States/A/Branches[0]/States/A",
        f"INVALID_STATE_NAME: State name '{'x' * 81}' must be between 1 and 80 characters long at /States/{'x' * 81}",
    ]
    duplicated = '{"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "A": {"Type": "Succeed"}}}'
    assert errors(duplicated) == ["DUPLICATE_STATE_NAME: Duplicate State name: A at /States/A"]


def test_branch_states_cannot_target_states_outside_their_branch() -> None:
    branch = {"StartAt": "Inner", "States": {"Inner": {"Type": "Pass", "Next": "Outer"}, "Done": SUCCEED}}
    definition = machine({"P": {"Type": "Parallel", "Branches": [branch], "Next": "Outer"}, "Outer": SUCCEED})
    assert errors(definition) == [
        "MISSING_TRANSITION_TARGET: Missing 'Next' target: Outer at /States/P/Branches[0]/States/Inner/Next",
        'MISSING_TRANSITION_TARGET: State "Done" is not reachable. at /States/P/Branches[0]/States/Done',
    ]


def test_every_problem_is_returned_not_only_the_first() -> None:
    definition = machine({"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Wait", "End": True}, "C": {}})
    assert len(errors(definition)) == 3  # Wait's duration, C's Type, C unreachable


def test_definition_parse_raises_with_every_error_and_ignores_warnings() -> None:
    with pytest.raises(DefinitionError) as raised:
        Definition.parse(machine({"A": {"Type": "Pass"}, "B": {"Type": "Wait"}}))
    assert len(raised.value.problems) >= 3
    parsed = Definition.parse(single({"Type": "Pass", "Parameters": {"a": "$.looks.like.a.path"}}))
    assert parsed.machine.start_at == "S"


def test_nested_problems_carry_their_full_location() -> None:
    processor = {
        "StartAt": "X",
        "States": {"X": {"Type": "Pass", "Next": "Y"}, "Y": {"Type": "Pass", "End": 1}},
    }
    definition = single({"Type": "Map", "ItemProcessor": processor})
    assert errors(definition) == [
        "SCHEMA_VALIDATION_FAILED: Expected value of type Boolean at /States/S/ItemProcessor/States/Y/End",
        "SCHEMA_VALIDATION_FAILED: This object should have only one of the following fields: [Next, End] "
        "at /States/S/ItemProcessor/States/Y",
        "MISSING_END_STATE: Workflow has no terminal state at /States/S/ItemProcessor",
    ]
