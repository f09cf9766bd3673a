from __future__ import annotations

import contextlib
import functools
from datetime import UTC, datetime
from typing import Any

import botocore.model
import botocore.session
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepdance.api.errors import SerializationException, ValidationException
from stepdance.api.validation import check_input
from stepdance.awserror import AwsError

ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:orders"
ROLE = "arn:aws:iam::123456789012:role/sfn"


@functools.cache
def operation(service: str, name: str) -> botocore.model.OperationModel:
    return botocore.session.get_session().get_service_model(service).operation_model(name)


def sfn(name: str) -> botocore.model.OperationModel:
    return operation("stepfunctions", name)


def events(name: str) -> botocore.model.OperationModel:
    return operation("events", name)


def error(op: botocore.model.OperationModel, body: Any) -> AwsError:
    with pytest.raises((SerializationException, ValidationException)) as caught:
        check_input(op, body)
    return caught.value


# A made-up service for the shapes the two real models do not use in their inputs.
TOY = botocore.model.ServiceModel(
    {
        "metadata": {
            "protocol": "json",
            "jsonVersion": "1.1",
            "targetPrefix": "Toy",
            "apiVersion": "2024-01-01",
        },
        "operations": {"Put": {"name": "Put", "input": {"shape": "PutInput"}}},
        "shapes": {
            "PutInput": {
                "type": "structure",
                "members": {
                    "Data": {"shape": "Data"},
                    "Doc": {"shape": "Doc"},
                    "Labels": {"shape": "Labels"},
                    "Node": {"shape": "Node"},
                    "Ratio": {"shape": "Ratio"},
                },
            },
            "Data": {"type": "blob"},
            "Doc": {"type": "structure", "members": {}, "document": True},
            "Labels": {"type": "map", "key": {"shape": "LabelKey"}, "value": {"shape": "LabelValue"}},
            "LabelKey": {"type": "string", "min": 1, "max": 3, "pattern": "[a-z]+"},
            "LabelValue": {"type": "string", "max": 5},
            "Node": {"type": "structure", "members": {"Next": {"shape": "Node"}}},
            "Ratio": {"type": "double", "min": 0, "max": 1},
        },
    },
    service_name="toy",
)
PUT = TOY.operation_model("Put")


def test_a_missing_required_member_is_null() -> None:
    assert error(sfn("StartExecution"), {}).message == (
        "1 validation error detected: Value null at 'stateMachineArn' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_an_explicit_null_counts_as_missing() -> None:
    assert (
        "Value null at 'stateMachineArn'" in error(sfn("StartExecution"), {"stateMachineArn": None}).message
    )


def test_a_long_string_breaks_max_length_and_is_cut_short_in_the_message() -> None:
    body = {"stateMachineArn": ARN, "name": "x" * 81}
    assert error(sfn("StartExecution"), body).message == (
        f"1 validation error detected: Value '{'x' * 60}...' at 'name' failed to satisfy constraint: "
        "Member must have length less than or equal to 80"
    )


def test_a_wrong_type_is_a_serialization_error_naming_the_path() -> None:
    failure = error(sfn("StartExecution"), {"stateMachineArn": ARN, "name": 5})
    assert isinstance(failure, SerializationException)
    assert failure.message == "Value 5 at 'name' could not be read: expected a string"


def test_a_sensitive_value_is_left_out_of_the_message() -> None:
    failure = error(sfn("StartExecution"), {"stateMachineArn": ARN, "input": {"card": "4111"}})
    assert isinstance(failure, SerializationException)
    assert failure.message == "Value at 'input' could not be read: expected a string"


def test_unknown_members_are_dropped() -> None:
    body = {"stateMachineArn": ARN, "input": "{}", "bogus": 1, "Name": "wrong case"}
    assert check_input(sfn("StartExecution"), body) == {"stateMachineArn": ARN, "input": "{}"}


def test_a_value_outside_the_enum() -> None:
    body = {"name": "orders", "definition": "{}", "roleArn": ROLE, "type": "FAST"}
    assert error(sfn("CreateStateMachine"), body).message == (
        "1 validation error detected: Value 'FAST' at 'type' failed to satisfy constraint: "
        "Member must satisfy enum value set: [STANDARD, EXPRESS]"
    )


def test_every_broken_constraint_is_in_one_error() -> None:
    failure = error(sfn("CreateStateMachine"), {"name": "n" * 81, "roleArn": ROLE})
    assert isinstance(failure, ValidationException)
    assert failure.message == (
        f"2 validation errors detected: Value '{'n' * 60}...' at 'name' failed to satisfy constraint: "
        "Member must have length less than or equal to 80; "
        "Value null at 'definition' failed to satisfy constraint: Member must not be null"
    )


def test_a_type_error_wins_over_constraint_errors() -> None:
    failure = error(sfn("CreateStateMachine"), {"name": "n" * 81, "publish": "yes"})
    assert failure.message == "Value 'yes' at 'publish' could not be read: expected true or false"


def test_a_number_above_max_breaks_the_value_constraint() -> None:
    assert error(sfn("ListExecutions"), {"maxResults": 1001}).message == (
        "1 validation error detected: Value 1001 at 'maxResults' failed to satisfy constraint: "
        "Member must have value less than or equal to 1000"
    )


@pytest.mark.parametrize("value", ["10", 10.5, True, 2**31, [10]])
def test_an_integer_member_reads_only_integers_that_fit(value: Any) -> None:
    failure = error(sfn("ListExecutions"), {"maxResults": value})
    assert isinstance(failure, SerializationException)
    assert failure.message.endswith("at 'maxResults' could not be read: expected a 32-bit integer")


def test_output_length_counts_characters() -> None:
    op = sfn("SendTaskSuccess")
    assert check_input(op, {"taskToken": "t", "output": "é" * 262144})["output"] == "é" * 262144
    assert error(op, {"taskToken": "t", "output": "x" * 262145}).message == (
        "1 validation error detected: Value at 'output' failed to satisfy constraint: "
        "Member must have length less than or equal to 262144"
    )


def test_entries_must_be_a_list() -> None:
    failure = error(events("PutEvents"), {"Entries": {"Source": "shop"}})
    assert isinstance(failure, SerializationException)
    assert failure.message == "Value '{\"Source\":\"shop\"}' at 'entries' could not be read: expected a list"


@pytest.mark.parametrize(
    ("time", "expected"),
    [
        (1700000000, datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        (1700000000.5, datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=UTC)),
        ("2023-11-14T22:13:20Z", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        ("2023-11-14T23:13:20+01:00", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        ("2023-11-14T22:13:20", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
    ],
)
def test_a_timestamp_becomes_an_aware_datetime(time: Any, expected: datetime) -> None:
    params = check_input(events("PutEvents"), {"Entries": [{"Source": "shop", "Time": time}]})
    assert params == {"Entries": [{"Source": "shop", "Time": expected}]}
    assert params["Entries"][0]["Time"].tzinfo is not None


@pytest.mark.parametrize("time", ["yesterday", True, 1e300, {"epoch": 1}])
def test_an_unreadable_timestamp(time: Any) -> None:
    failure = error(events("PutEvents"), {"Entries": [{"Time": time}]})
    assert isinstance(failure, SerializationException)
    assert "at 'entries.1.member.time' could not be read" in failure.message


def test_entries_length_is_checked_both_ways() -> None:
    assert error(events("PutEvents"), {"Entries": []}).message == (
        "1 validation error detected: Value '[]' at 'entries' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )
    too_many = error(events("PutEvents"), {"Entries": [{"Source": "shop"}] * 11}).message
    assert (
        "at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10"
        in too_many
    )


def test_nested_paths_are_written_like_aws() -> None:
    failure = error(events("PutEvents"), {"Entries": [{"Source": 5}]})
    assert failure.message == "Value 5 at 'entries.1.member.source' could not be read: expected a string"
    body = {"Entries": [{"Source": "shop"}, {"Resources": ["r" * 2049], "EventBusName": "no spaces"}, None]}
    assert error(events("PutEvents"), body).message == (
        "3 validation errors detected: "
        f"Value '{'r' * 60}...' at 'entries.2.member.resources.1.member' failed to satisfy constraint: "
        "Member must have length less than or equal to 2048; "
        "Value 'no spaces' at 'entries.2.member.eventBusName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: "
        "(arn:aws[\\w-]*:events:[a-z]+-[a-z]+-[\\w-]+:[0-9]{12}:event-bus\\/)?[\\.\\-_A-Za-z0-9]+; "
        "Value null at 'entries.3.member' failed to satisfy constraint: Member must not be null"
    )


@pytest.mark.parametrize("name", ["bad name", "ok\n", "ünïcode"])
def test_a_pattern_matches_the_whole_value(name: str) -> None:
    # `[\.\-_A-Za-z0-9]+` is not anchored, yet AWS rejects "bad name": the whole value must match.
    assert error(events("PutRule"), {"Name": name}).message.endswith(
        "at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+"
    )


def test_a_matching_pattern_passes() -> None:
    assert check_input(events("PutRule"), {"Name": "orders.placed-v2_x"}) == {"Name": "orders.placed-v2_x"}


def test_a_pattern_python_cannot_compile_is_not_checked() -> None:
    body = {"stateMachineArn": ARN, "traceHeader": "Root=1-ünïcode"}  # `\p{ASCII}*` in the model
    assert check_input(sfn("StartExecution"), body)["traceHeader"] == "Root=1-ünïcode"


@pytest.mark.parametrize("body", [[], "x", 5, None])
def test_the_body_must_be_an_object(body: Any) -> None:
    failure = error(sfn("StartExecution"), body)
    assert isinstance(failure, SerializationException)
    assert failure.message.startswith("The request body could not be read: expected a JSON object")


def test_a_blob_is_decoded_from_base64() -> None:
    assert check_input(PUT, {"Data": "aGk="}) == {"Data": b"hi"}
    assert error(PUT, {"Data": "not base64!"}).message == (
        "Value 'not base64!' at 'data' could not be read: expected a base64 string"
    )


@pytest.mark.parametrize("data", ["aGk", "\x80", "é===", 5])
def test_an_unreadable_blob(data: Any) -> None:
    assert isinstance(error(PUT, {"Data": data}), SerializationException)


def test_a_document_passes_as_it_is() -> None:
    doc = {"any": [1, {"thing": None}], "At": "x"}
    assert check_input(PUT, {"Doc": doc}) == {"Doc": doc}


def test_map_keys_and_values_are_checked() -> None:
    assert check_input(PUT, {"Labels": {"ab": "v"}}) == {"Labels": {"ab": "v"}}
    assert error(PUT, {"Labels": {"ABCD": "v", "ab": "toolong", "c": None}}).message == (
        "3 validation errors detected: Value 'ABCD' at 'labels' failed to satisfy constraint: "
        "Map keys must satisfy constraint: [Member must have length less than or equal to 3, "
        "Member must satisfy regular expression pattern: [a-z]+]; "
        "Value 'toolong' at 'labels.ab' failed to satisfy constraint: Member must have length less than or equal to 5; "
        "Value null at 'labels.c' failed to satisfy constraint: Member must not be null"
    )


def test_a_double_takes_integers_and_checks_its_range() -> None:
    assert check_input(PUT, {"Ratio": 1}) == {"Ratio": 1.0}
    assert error(PUT, {"Ratio": 1.5}).message.endswith("Member must have value less than or equal to 1")


def test_deep_nesting_is_a_serialization_error_not_a_crash() -> None:
    node: dict[str, Any] = {}
    for _ in range(10_000):
        node = {"Next": node}
    assert "nested too deeply" in error(PUT, {"Node": node}).message
    deep: list[Any] = []
    for _ in range(10_000):
        deep = [deep]
    assert error(sfn("StartExecution"), {"stateMachineArn": deep}).message == (
        "Value '[...]' at 'stateMachineArn' could not be read: expected a string"
    )


def member_names(shape: botocore.model.Shape, seen: frozenset[str] = frozenset()) -> set[str]:
    if shape.name in seen:
        return set()
    seen |= {shape.name}
    if shape.type_name == "structure":
        children = list(shape.members.values())
        names = set(shape.members)
    else:
        children = [getattr(shape, part) for part in ("member", "key", "value") if hasattr(shape, part)]
        names = set()
    return names.union(*(member_names(child, seen) for child in children))


OPERATIONS = [
    sfn("StartExecution"),
    sfn("CreateStateMachine"),
    sfn("ListExecutions"),
    events("PutEvents"),
    events("PutRule"),
    events("PutTargets"),
    PUT,
]


def bodies(op: botocore.model.OperationModel) -> st.SearchStrategy[Any]:
    # Keys drawn from the operation's own member names reach the nested shapes; random ones test dropping.
    keys = st.sampled_from(sorted(member_names(op.input_shape))) | st.text(max_size=5)
    scalars = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=12)
    )
    values = st.recursive(
        scalars,
        lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3),
        max_leaves=10,
    )
    return st.dictionaries(keys, values, max_size=5) | values


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(OPERATIONS).flatmap(lambda op: st.tuples(st.just(op), bodies(op))))
def test_any_json_is_read_or_refused_with_an_aws_error(
    case: tuple[botocore.model.OperationModel, Any],
) -> None:
    op, body = case
    with contextlib.suppress(SerializationException, ValidationException):
        assert isinstance(check_input(op, body), dict)
