"""The Workflows Executions API over the engine, the pure part: resource names, fields, errors.

A workflow ``projects/P/locations/L/workflows/W`` is the engine's state machine named ``W``; its execution
``.../workflows/W/executions/ID`` is the engine's execution named ``ID``. The project and location are taken as
given and echoed back: one stepdance is one project in one location, whatever the caller calls them.

Nothing here does I/O; :mod:`stepdance.gcp.executions_grpc` serves it. Errors are :class:`ApiError` with a
gRPC status code name, so the serving module maps them to gRPC in one line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from stepdance.engine import arns
from stepdance.engine.errors import (
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    InvalidArn,
    InvalidExecutionInput,
    InvalidName,
    InvalidToken,
    ServiceUnavailable,
    StateMachineDoesNotExist,
    StepFunctionsError,
    ValidationException,
)
from stepdance.gcp.status import GoogleApiError
from stepdance.settings import Settings

WORKFLOW_FORMAT = "projects/{project}/locations/{location}/workflows/{workflow}"
EXECUTION_FORMAT = WORKFLOW_FORMAT + "/executions/{execution}"
_WORKFLOW = re.compile(r"projects/([^/]+)/locations/([^/]+)/workflows/([^/]+)")
_EXECUTION = re.compile(_WORKFLOW.pattern + r"/executions/([^/]+)")

# The engine's statuses as Workflows states: Workflows has no TIMED_OUT, a timeout is a failure there.
STATES = {
    "RUNNING": "ACTIVE",
    "SUCCEEDED": "SUCCEEDED",
    "FAILED": "FAILED",
    "TIMED_OUT": "FAILED",
    "ABORTED": "CANCELLED",
}
BASIC_FIELDS = ("name", "start_time", "end_time", "duration", "state", "workflow_revision_id")
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = {"BASIC": 1000, "FULL": 100}
MAX_ARGUMENT = 512 * 1024
# Google's default ordering, the only one the engine's listing keeps.
ORDERS = ("", "startTime desc", "start_time desc")


class ApiError(GoogleApiError):
    """An answer of the Executions API other than OK."""


@dataclass(frozen=True, slots=True)
class WorkflowName:
    project: str
    location: str
    workflow: str

    @property
    def resource(self) -> str:
        return WORKFLOW_FORMAT.format(project=self.project, location=self.location, workflow=self.workflow)

    def state_machine_arn(self, settings: Settings) -> str:
        return arns.make(settings, "stateMachine", self.workflow)

    def execution(self, execution_id: str) -> ExecutionName:
        return ExecutionName(self, execution_id)


@dataclass(frozen=True, slots=True)
class ExecutionName:
    workflow: WorkflowName
    execution_id: str

    @property
    def resource(self) -> str:
        return f"{self.workflow.resource}/executions/{self.execution_id}"

    def execution_arn(self, settings: Settings) -> str:
        return arns.make(settings, "execution", self.workflow.workflow, self.execution_id)


def parse_workflow(text: str, field: str = "parent") -> WorkflowName:
    found = _WORKFLOW.fullmatch(text)
    if found is None:
        raise _malformed(field, text, WORKFLOW_FORMAT)
    name = WorkflowName(*found.groups())
    _check_id(field, text, name.workflow)
    return name


def parse_execution(text: str, field: str = "name") -> ExecutionName:
    found = _EXECUTION.fullmatch(text)
    if found is None:
        raise _malformed(field, text, EXECUTION_FORMAT)
    project, location, workflow, execution_id = found.groups()
    name = WorkflowName(project, location, workflow).execution(execution_id)
    _check_id(field, text, workflow)
    _check_id(field, text, execution_id)
    return name


def _check_id(field: str, text: str, segment: str) -> None:
    """Ids become parts of ARNs, so they must be names the engine accepts (no ``:``, no spaces...)."""
    try:
        arns.check_name(segment)
    except InvalidName:
        raise ApiError("INVALID_ARGUMENT", f"Invalid value for field '{field}': '{text}'") from None


def _malformed(field: str, text: str, expected: str) -> ApiError:
    return ApiError(
        "INVALID_ARGUMENT", f"Invalid value for field '{field}': '{text}'; expected format: {expected}"
    )


def engine_input(argument: str) -> str:
    """The engine's input for a Workflows ``argument``: any JSON value, and ``null`` when there is none
    (Workflows then gives ``main`` a null parameter, and shows the argument as ``null``)."""
    if not argument:
        return "null"
    if len(argument.encode()) > MAX_ARGUMENT:
        raise ApiError(
            "INVALID_ARGUMENT", f"Execution argument is larger than the limit of {MAX_ARGUMENT} bytes"
        )
    try:
        json.loads(argument)
    except json.JSONDecodeError as error:
        raise ApiError(
            "INVALID_ARGUMENT", f"Execution argument must be valid JSON: {error.msg} at position {error.pos}"
        ) from None
    return argument


def view_of(requested: str, default: str) -> str:
    """``BASIC`` or ``FULL`` for a request's view name (unspecified takes the method's default)."""
    return default if requested in ("", "EXECUTION_VIEW_UNSPECIFIED") else requested


def page_size(requested: int, view: str) -> int:
    """Google's rule: 100 when unset; anything above the view's maximum is coerced down to it."""
    if requested < 0:
        raise ApiError("INVALID_ARGUMENT", "Invalid value for field 'page_size': must not be negative")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE[view])


def check_listing(filter_text: str, order_by: str) -> None:
    if filter_text:
        raise ApiError("UNIMPLEMENTED", "Filtering executions is not supported by stepdance")
    if order_by.strip() not in ORDERS:
        raise ApiError("UNIMPLEMENTED", "stepdance lists executions by descending start time only")


def execution_fields(
    name: ExecutionName, described: dict[str, Any], *, view: str = "FULL", revision_id: str = ""
) -> dict[str, Any]:
    """The fields of a Workflows ``Execution`` for the engine's DescribeExecution (or ListExecutions item)
    answer; BASIC leaves out what Google's BASIC view leaves out."""
    status = str(described["status"])
    started: datetime = described["startDate"]
    fields: dict[str, Any] = {
        "name": name.resource,
        "start_time": started,
        "state": STATES.get(status, "STATE_UNSPECIFIED"),
        "workflow_revision_id": revision_id,
    }
    stopped: datetime | None = described.get("stopDate")
    if stopped is not None:
        fields["end_time"] = stopped
        fields["duration"] = stopped - started
    if "input" in described:
        fields["argument"] = described["input"]
    if status == "SUCCEEDED" and "output" in described:
        fields["result"] = described["output"]
    if status != "SUCCEEDED" and ("error" in described or "cause" in described):
        fields["error"] = {"payload": described.get("cause") or "", "context": described.get("error") or ""}
    if view == "BASIC":
        fields = {key: value for key, value in fields.items() if key in BASIC_FIELDS}
    return fields


def not_active(name: ExecutionName, status: str) -> ApiError:
    state = STATES.get(status, status)
    return ApiError(
        "FAILED_PRECONDITION",
        f"Execution is not active and cannot be cancelled: '{name.resource}' is {state}",
    )


def from_engine(error: StepFunctionsError, resource: str) -> ApiError:
    """The Workflows answer for an engine error about ``resource`` (a workflow or execution name)."""
    match error:
        case StateMachineDoesNotExist() | ExecutionDoesNotExist():
            return ApiError("NOT_FOUND", f"Resource '{resource}' was not found")
        case InvalidExecutionInput() | ValidationException() | InvalidArn() | InvalidName():
            return ApiError("INVALID_ARGUMENT", error.message)
        case InvalidToken():
            return ApiError("INVALID_ARGUMENT", "Invalid value for field 'page_token'")
        case ExecutionAlreadyExists():
            return ApiError("ALREADY_EXISTS", f"Resource '{resource}' already exists")
        case ServiceUnavailable():
            return ApiError("UNAVAILABLE", "The service is unavailable; try again")
    return ApiError("INTERNAL", f"{error.code}: {error.message}")
