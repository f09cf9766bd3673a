"""History events in AWS's names and shapes (as GetExecutionHistory returns them).

Payloads inside events are JSON *text*, as AWS stores them. Builders here only shape dicts; ids, previous
event ids and timestamps are filled in by the interpreter when it emits the event.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

# Event type prefixes per state type (PassStateEntered, TaskStateExited, ...).
_NOT_TRUNCATED = {"truncated": False}


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


# What is not a JSON type (datetimes, dataclasses, subclasses) goes to the standard encoder, which refuses
# it as it always did, rather than being written the way orjson would.
_STRICT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS


def to_json(value: Any) -> str:
    """Compact JSON, non-ASCII kept, as AWS writes payloads. orjson when it can (several times faster: this
    runs for every state's input and output); what it refuses (integers past 64 bits) or would write
    differently (NaN and infinities, which it writes as null) goes through the standard encoder."""
    try:
        text = orjson.dumps(value, option=_STRICT).decode()
    except TypeError:
        return _ENCODER.encode(value)
    if "null" in text and _has_non_finite(value):
        return _ENCODER.encode(value)
    return text


def _has_non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_non_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_non_finite(v) for v in value)
    return False


def execution_started(input_text: str, role_arn: str, sm_arn: str | None = None) -> dict[str, Any]:
    details: dict[str, Any] = {"input": input_text, "inputDetails": _NOT_TRUNCATED, "roleArn": role_arn}
    return {"type": "ExecutionStarted", "executionStartedEventDetails": details}


def state_entered(state_type: str, name: str, state_input: Any) -> dict[str, Any]:
    details = {"name": name, "input": to_json(state_input), "inputDetails": _NOT_TRUNCATED}
    return {"type": f"{state_type}StateEntered", "stateEnteredEventDetails": details}


def state_exited(
    state_type: str, name: str, output_text: str, assigned: dict[str, Any] | None = None
) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name, "output": output_text, "outputDetails": _NOT_TRUNCATED}
    if assigned:
        details["assignedVariables"] = {k: to_json(v) for k, v in assigned.items()}
        details["assignedVariablesDetails"] = _NOT_TRUNCATED
    return {"type": f"{state_type}StateExited", "stateExitedEventDetails": details}


def failure(event_type: str, error: str | None, cause: str | None) -> dict[str, Any]:
    """An event whose details are just error and cause (ExecutionFailed, TaskFailed, ...)."""
    details: dict[str, Any] = {}
    if error is not None:
        details["error"] = error
    if cause is not None:
        details["cause"] = cause
    key = event_type[0].lower() + event_type[1:] + "EventDetails"
    return {"type": event_type, key: details}


def evaluation_failed(error: str, cause: str | None, state: str, location: str | None) -> dict[str, Any]:
    details: dict[str, Any] = {"error": error, "state": state}
    if cause is not None:
        details["cause"] = cause
    if location is not None:
        details["location"] = location
    return {"type": "EvaluationFailed", "evaluationFailedEventDetails": details}


def execution_succeeded(output: str) -> dict[str, Any]:
    details = {"output": output, "outputDetails": _NOT_TRUNCATED}
    return {"type": "ExecutionSucceeded", "executionSucceededEventDetails": details}


def plain(event_type: str) -> dict[str, Any]:
    return {"type": event_type}


def map_started(length: int) -> dict[str, Any]:
    return {"type": "MapStateStarted", "mapStateStartedEventDetails": {"length": length}}


def map_iteration(kind: str, name: str, index: int) -> dict[str, Any]:
    """MapIterationStarted / Succeeded / Failed / Aborted."""
    key = "mapIteration" + kind + "EventDetails"
    return {"type": f"MapIteration{kind}", key: {"name": name, "index": index}}


def task_scheduled(
    resource_type: str,
    resource: str,
    region: str,
    parameters: str,
    timeout_seconds: float | None,
    heartbeat_seconds: float | None,
) -> dict[str, Any]:
    details: dict[str, Any] = {
        "resourceType": resource_type,
        "resource": resource,
        "region": region,
        "parameters": parameters,
    }
    if timeout_seconds is not None:
        details["timeoutInSeconds"] = int(timeout_seconds)
    if heartbeat_seconds is not None:
        details["heartbeatInSeconds"] = int(heartbeat_seconds)
    return {"type": "TaskScheduled", "taskScheduledEventDetails": details}


def task_event(kind: str, resource_type: str, resource: str, **extra: Any) -> dict[str, Any]:
    """TaskStarted / TaskSubmitted / TaskSucceeded / TaskFailed / TaskTimedOut."""
    details: dict[str, Any] = {"resourceType": resource_type, "resource": resource}
    details.update({k: v for k, v in extra.items() if v is not None})
    if "output" in details:
        details["outputDetails"] = _NOT_TRUNCATED
    key = "task" + kind + "EventDetails"
    return {"type": f"Task{kind}", key: details}


def activity_event(kind: str, **extra: Any) -> dict[str, Any]:
    """ActivityScheduled / ActivityStarted / ActivitySucceeded / ActivityFailed / ActivityTimedOut."""
    details = {k: v for k, v in extra.items() if v is not None}
    if "input" in details:
        details["inputDetails"] = _NOT_TRUNCATED
    if "output" in details:
        details["outputDetails"] = _NOT_TRUNCATED
    key = "activity" + kind + "EventDetails"
    return {"type": f"Activity{kind}", key: details}
