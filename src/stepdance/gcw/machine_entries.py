"""History events of a Cloud Workflows execution, shaped for the engine's history table.

The engine stores and shows the ASL interpreter's events unchanged for Workflows executions too: ids
contiguous from 1, ``previousEventId``, a ``timestamp`` in epoch seconds, a ``type``, and one
``...EventDetails`` map. The execution's own events use the ASL shapes (``ExecutionStarted``,
``ExecutionSucceeded``, ``ExecutionFailed``, ``ExecutionAborted``, ``ExecutionRedriven``; ``TaskScheduled``,
``TaskSucceeded``, ``TaskFailed``, ``TaskTimedOut`` for HTTP requests and connector calls); payloads in them
are JSON text, as in ASL events.

What Workflows' step entries API shows of each step is two events, one when the entry is created and one
when it ends (``StepEntryStarted``, then ``StepEntrySucceeded``, ``StepEntryFailed`` or
``StepEntryCancelled``), with::

    "stepEntryDetails": {"routine": "main", "step": "charge", "stepType": "STD_LIB_CALL", "entryId": 7,
                         "state": "STATE_SUCCEEDED", "path": "main.steps[1].charge.try", "line": 12,
                         "thread": "t0", ...}

``stepType`` is the API's StepType without ``STEP_`` (``ASSIGN``, ``STD_LIB_CALL``, ``CONNECTOR_CALL``,
``SUBWORKFLOW_CALL``, ``SWITCH``, ``FOR``, ``FOR_ITERATION``, ``PARALLEL_FOR``, ``PARALLEL_BRANCH``,
``PARALLEL_BRANCH_ENTRY``, ``TRY_RETRY_EXCEPT``, ``RETRY``, ``EXCEPT``, ``RETURN``, ``RAISE``, ``GOTO``, and
``STEPS`` for nested steps, which the API has no type for). Ended entries may add ``output`` (JSON text of a
call's result or a returned value), ``variables`` (``{target: JSON text}`` an assign step set),
``exception`` (``{"payload": JSON text of the error}``, as the API's Exception has it), ``condition`` (the
index of the switch condition that held), ``iteration`` / ``branch``. ``LogWritten`` records a ``sys.log``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from stepdance.asl import history
from stepdance.gcw.expr import Backoff, FunctionRef, RetryPolicy
from stepdance.gcw.syntax import (
    Assign,
    Call,
    For,
    Next,
    Parallel,
    Raise,
    Return,
    Step,
    Steps,
    Switch,
    Try,
)
from stepdance.gcw.syntax_calls import CONNECTOR_PREFIX

IN_PROGRESS, SUCCEEDED, FAILED, CANCELLED = (
    "STATE_IN_PROGRESS",
    "STATE_SUCCEEDED",
    "STATE_FAILED",
    "STATE_CANCELLED",
)
_ENDED = {SUCCEEDED: "StepEntrySucceeded", FAILED: "StepEntryFailed", CANCELLED: "StepEntryCancelled"}
_TYPES: dict[type, str] = {
    Assign: "ASSIGN",
    Switch: "SWITCH",
    For: "FOR",
    Try: "TRY_RETRY_EXCEPT",
    Raise: "RAISE",
    Return: "RETURN",
    Steps: "STEPS",
    Next: "GOTO",
}


def step_type(step: Step, subworkflows: Any) -> str:
    if isinstance(step, Call):
        if step.function in subworkflows:
            return "SUBWORKFLOW_CALL"
        return "CONNECTOR_CALL" if step.function.startswith(CONNECTOR_PREFIX) else "STD_LIB_CALL"
    if isinstance(step, Parallel):
        return "PARALLEL_FOR" if step.loop is not None else "PARALLEL_BRANCH"
    return _TYPES.get(type(step), "STEP")


def record(entry_id: int, step_type_: str, name: str, path: str, line: int) -> dict[str, Any]:
    """What an open step entry keeps in the snapshot until it ends."""
    return {"e": entry_id, "t": step_type_, "n": name, "p": path, "l": line}


def entry_event(
    kind: str, routine: str, rec: dict[str, Any], state: str, thread: str, extra: dict[str, Any]
) -> dict[str, Any]:
    details: dict[str, Any] = {
        "routine": routine,
        "step": rec["n"],
        "stepType": rec["t"],
        "entryId": rec["e"],
        "state": state,
        "path": rec["p"],
        "line": rec["l"],
        "thread": thread,
    }
    details.update(extra)
    return {"type": kind, "stepEntryDetails": details}


def started(routine: str, rec: dict[str, Any], thread: str, extra: dict[str, Any]) -> dict[str, Any]:
    return entry_event("StepEntryStarted", routine, rec, IN_PROGRESS, thread, extra)


def ended(
    routine: str, rec: dict[str, Any], state: str, thread: str, extra: dict[str, Any]
) -> dict[str, Any]:
    return entry_event(_ENDED[state], routine, rec, state, thread, extra)


def link(routine: str, rec: dict[str, Any], thread: str) -> dict[str, Any]:
    """The step a task or log event belongs to, so the dashboard can put it on the step's line."""
    return {
        "routine": routine,
        "step": rec["n"],
        "entryId": rec["e"],
        "path": rec["p"],
        "line": rec["l"],
        "thread": thread,
    }


def log_written(severity: str, payload: Any, step: dict[str, Any]) -> dict[str, Any]:
    details = {"severity": severity, "payload": to_json(payload)}
    return {"type": "LogWritten", "logWrittenEventDetails": details, "stepEntryDetails": step}


def execution_started(input_text: str, role_arn: str) -> dict[str, Any]:
    return history.execution_started(input_text, role_arn)


def execution_succeeded(output_text: str) -> dict[str, Any]:
    return history.execution_succeeded(output_text)


def failure(event_type: str, error: str | None, cause: str | None) -> dict[str, Any]:
    return history.failure(event_type, error, cause)


def exception(error: Any) -> dict[str, Any]:
    return {"exception": {"payload": to_json(error)}}


def to_json(value: Any) -> str:
    """A value as event text: compact JSON; what JSON has no form for is shown readably (bytes as their
    base64 text, a function by its name), since events are for reading, not for resuming."""
    try:
        return history.to_json(value)
    except (TypeError, ValueError):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_shown)


def _shown(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, FunctionRef):
        return f"<function {value.name}>"
    if isinstance(value, RetryPolicy | Backoff):
        return value.as_map()
    return repr(value)
