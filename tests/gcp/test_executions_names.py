"""The Executions API's pure part: resource names and ARNs, fields, views, pages and errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stepdance.engine.errors import (
    ExecutionDoesNotExist,
    InvalidExecutionInput,
    InvalidToken,
    ServiceUnavailable,
    StateMachineDoesNotExist,
    StepFunctionsError,
    TaskTimedOut,
)
from stepdance.gcp.executions import (
    ApiError,
    check_listing,
    engine_input,
    execution_fields,
    from_engine,
    not_active,
    page_size,
    parse_execution,
    parse_workflow,
    view_of,
)
from stepdance.settings import Settings

pytestmark = pytest.mark.timeout(10)

WORKFLOW = "projects/local/locations/us-central1/workflows/order-saga"
EXECUTION = f"{WORKFLOW}/executions/6f1c8f0e-8d4e-4a52-9a8b-1d2e3f4a5b6c"
START = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_a_workflow_is_the_state_machine_of_its_name_and_keeps_its_project_and_location() -> None:
    settings = Settings()
    workflow = parse_workflow(WORKFLOW)
    assert (workflow.project, workflow.location, workflow.workflow) == ("local", "us-central1", "order-saga")
    assert workflow.resource == WORKFLOW
    assert workflow.state_machine_arn(settings) == (
        f"arn:aws:states:{settings.region}:{settings.account}:stateMachine:order-saga"
    )


def test_an_execution_is_the_execution_of_its_id() -> None:
    settings = Settings()
    name = parse_execution(EXECUTION)
    assert name.resource == EXECUTION
    assert name.workflow.resource == WORKFLOW
    assert name.execution_arn(settings) == (
        f"arn:aws:states:{settings.region}:{settings.account}:execution:order-saga:{name.execution_id}"
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "order-saga",
        "projects/local/locations/us-central1",
        "projects/local/locations/us-central1/workflows/",
        f"{WORKFLOW}/executions/x",
        "projects/local/locations/us-central1/workflows/a:b",
        "/projects/local/locations/us-central1/workflows/order-saga",
    ],
)
def test_a_malformed_parent_is_an_invalid_argument_naming_the_field(text: str) -> None:
    with pytest.raises(ApiError) as raised:
        parse_workflow(text)
    assert raised.value.code == "INVALID_ARGUMENT"
    assert "'parent'" in raised.value.message


@pytest.mark.parametrize("text", [WORKFLOW, f"{EXECUTION}/more", f"{WORKFLOW}/executions/a b"])
def test_a_malformed_execution_name_is_an_invalid_argument_naming_the_field(text: str) -> None:
    with pytest.raises(ApiError) as raised:
        parse_execution(text)
    assert (raised.value.code, "'name'" in raised.value.message) == ("INVALID_ARGUMENT", True)


@pytest.mark.parametrize(
    ("argument", "expected"),
    [('{"orderId": "o-1"}', '{"orderId": "o-1"}'), ("[1, 2]", "[1, 2]"), ('"text"', '"text"'), ("", "null")],
)
def test_an_argument_is_any_json_value_and_none_is_null(argument: str, expected: str) -> None:
    assert engine_input(argument) == expected


@pytest.mark.parametrize("argument", ["{", "{'orderId': 1}", "order", '{"a": 1} x'])
def test_an_argument_that_is_not_json_is_an_invalid_argument(argument: str) -> None:
    with pytest.raises(ApiError) as raised:
        engine_input(argument)
    assert raised.value.code == "INVALID_ARGUMENT"
    assert "valid JSON" in raised.value.message


def test_an_argument_over_the_limit_is_an_invalid_argument() -> None:
    with pytest.raises(ApiError, match="larger than the limit"):
        engine_input('"' + "x" * 600_000 + '"')


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("RUNNING", "ACTIVE"),
        ("SUCCEEDED", "SUCCEEDED"),
        ("FAILED", "FAILED"),
        ("TIMED_OUT", "FAILED"),
        ("ABORTED", "CANCELLED"),
    ],
)
def test_statuses_become_workflows_states(status: str, state: str) -> None:
    fields = execution_fields(parse_execution(EXECUTION), {"status": status, "startDate": START})
    assert fields["state"] == state


def test_a_succeeded_execution_has_its_result_times_and_duration() -> None:
    described = {
        "status": "SUCCEEDED",
        "startDate": START,
        "stopDate": START + timedelta(seconds=1.5),
        "input": '{"orderId": "o-1"}',
        "output": '"o-1"',
    }
    fields = execution_fields(parse_execution(EXECUTION), described, revision_id="r1")
    assert fields == {
        "name": EXECUTION,
        "start_time": START,
        "end_time": START + timedelta(seconds=1.5),
        "duration": timedelta(seconds=1.5),
        "state": "SUCCEEDED",
        "argument": '{"orderId": "o-1"}',
        "result": '"o-1"',
        "workflow_revision_id": "r1",
    }


def test_a_failed_execution_has_the_cause_as_payload_and_the_error_as_context() -> None:
    described = {"status": "FAILED", "startDate": START, "error": "OrderFailed", "cause": "no stock"}
    fields = execution_fields(parse_execution(EXECUTION), described)
    assert fields["error"] == {"payload": "no stock", "context": "OrderFailed"}
    assert "result" not in fields


def test_the_basic_view_leaves_out_argument_result_and_error() -> None:
    described = {
        "status": "FAILED",
        "startDate": START,
        "stopDate": START,
        "input": "{}",
        "error": "E",
        "cause": "c",
    }
    fields = execution_fields(parse_execution(EXECUTION), described, view="BASIC")
    assert set(fields) == {"name", "start_time", "end_time", "duration", "state", "workflow_revision_id"}


def test_views_default_per_method() -> None:
    assert view_of("EXECUTION_VIEW_UNSPECIFIED", "BASIC") == "BASIC"
    assert view_of("EXECUTION_VIEW_UNSPECIFIED", "FULL") == "FULL"
    assert view_of("FULL", "BASIC") == "FULL"


@pytest.mark.parametrize(
    ("requested", "view", "size"),
    [(0, "BASIC", 100), (7, "BASIC", 7), (5000, "BASIC", 1000), (5000, "FULL", 100), (0, "FULL", 100)],
)
def test_page_sizes_default_to_100_and_are_coerced_to_the_views_maximum(
    requested: int, view: str, size: int
) -> None:
    assert page_size(requested, view) == size


def test_a_negative_page_size_is_an_invalid_argument() -> None:
    with pytest.raises(ApiError, match="page_size"):
        page_size(-1, "BASIC")


def test_only_the_default_ordering_and_no_filter_are_supported() -> None:
    check_listing("", "")
    check_listing("", "startTime desc")
    for filter_text, order_by in [('state="SUCCEEDED"', ""), ("", "duration")]:
        with pytest.raises(ApiError) as raised:
            check_listing(filter_text, order_by)
        assert raised.value.code == "UNIMPLEMENTED"


def test_cancelling_a_finished_execution_is_a_failed_precondition() -> None:
    error = not_active(parse_execution(EXECUTION), "SUCCEEDED")
    assert error.code == "FAILED_PRECONDITION"
    assert error.message.startswith("Execution is not active")
    assert "SUCCEEDED" in error.message


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (StateMachineDoesNotExist("x"), "NOT_FOUND"),
        (ExecutionDoesNotExist("x"), "NOT_FOUND"),
        (InvalidExecutionInput("Invalid Execution Input: 'x'"), "INVALID_ARGUMENT"),
        (InvalidToken("x"), "INVALID_ARGUMENT"),
        (ServiceUnavailable("down"), "UNAVAILABLE"),
        (TaskTimedOut("x"), "INTERNAL"),
    ],
)
def test_engine_errors_become_grpc_codes(error: StepFunctionsError, code: str) -> None:
    mapped = from_engine(error, WORKFLOW)
    assert mapped.code == code


def test_not_found_names_the_resource_as_google_does() -> None:
    assert (
        from_engine(StateMachineDoesNotExist("x"), WORKFLOW).message == f"Resource '{WORKFLOW}' was not found"
    )
