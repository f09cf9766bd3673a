"""The operations ``stepdance serve`` answers, by ``X-Amz-Target``, and where their input shapes come from.

``AWSStepFunctions.StartExecution`` is the Step Functions client's ``start_execution``;
``AWSEvents.PutEvents`` the EventBridge client's ``put_events``. The input shape of each is botocore's model
of AWS's own API, so a request is checked against what AWS accepts, field by field.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import botocore.session
from botocore import xform_name
from botocore.model import OperationModel

from stepdance.api.errors import UnknownOperationException

# target prefix -> (botocore service name, what stepdance serves of it)
SERVICES: dict[str, tuple[str, tuple[str, ...]]] = {
    "AWSStepFunctions": (
        "stepfunctions",
        (
            "CreateStateMachine",
            "DescribeStateMachine",
            "UpdateStateMachine",
            "DeleteStateMachine",
            "ListStateMachines",
            "ValidateStateMachineDefinition",
            "StartExecution",
            "StartSyncExecution",
            "DescribeExecution",
            "ListExecutions",
            "GetExecutionHistory",
            "StopExecution",
            "RedriveExecution",
            "CreateActivity",
            "DeleteActivity",
            "DescribeActivity",
            "ListActivities",
            "GetActivityTask",
            "SendTaskSuccess",
            "SendTaskFailure",
            "SendTaskHeartbeat",
        ),
    ),
    "AWSEvents": (
        "events",
        (
            "PutEvents",
            "PutRule",
            "DescribeRule",
            "ListRules",
            "DeleteRule",
            "EnableRule",
            "DisableRule",
            "PutTargets",
            "ListTargetsByRule",
            "RemoveTargets",
            "TestEventPattern",
            "CreateEventBus",
            "DescribeEventBus",
            "ListEventBuses",
            "DeleteEventBus",
            "CreateArchive",
            "DescribeArchive",
            "ListArchives",
            "UpdateArchive",
            "DeleteArchive",
            "StartReplay",
            "DescribeReplay",
            "ListReplays",
            "CancelReplay",
        ),
    ),
}


@dataclass(frozen=True, slots=True)
class Operation:
    service: str  # "stepfunctions" or "events"
    name: str  # "StartExecution"
    method: str  # the client's method: "start_execution"
    model: OperationModel

    @property
    def json_version(self) -> str:
        return str(self.model.service_model.metadata.get("jsonVersion", "1.0"))


def supported() -> dict[str, list[str]]:
    """Every operation served, by botocore service name (for the docs and ``stepdance serve --help``)."""
    return {service: list(names) for service, names in SERVICES.values()}


def lookup(target: str | None) -> Operation:
    """The operation ``X-Amz-Target`` names; UnknownOperationException when stepdance does not serve it."""
    if not target:
        raise UnknownOperationException("Missing X-Amz-Target header: it names the operation to call")
    prefix, _, name = target.partition(".")
    found = _operations().get((prefix, name))
    if found is None:
        known = prefix in SERVICES
        raise UnknownOperationException(
            f"Operation {name!r} is not supported by stepdance's {SERVICES[prefix][0]} API"
            if known
            else f"Unknown operation {target!r}"
        )
    return found


@functools.cache
def _operations() -> dict[tuple[str, str], Operation]:
    session = botocore.session.get_session()
    table: dict[tuple[str, str], Operation] = {}
    for prefix, (service, names) in SERVICES.items():
        model: Any = session.get_service_model(service)
        for name in names:
            table[(prefix, name)] = Operation(service, name, xform_name(name), model.operation_model(name))
    return table
