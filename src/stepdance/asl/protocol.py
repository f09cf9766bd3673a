"""What flows in and out of the transition function.

The interpreter (:mod:`stepdance.asl.machine`) is a pure function::

    start(definition, info, input_text, now)           -> Step
    advance(definition, state, signal, now)            -> Step

A :class:`Step` holds the history events to append (AWS's shapes, ids already assigned), the new execution
state (a JSON-serialisable snapshot) and the commands the runtime must carry out once the step is committed.
Signals are what the outside world reports back: a task's result, a timer that fired, a stop request.

Everything here is plain data so that the runtime can persist it and a replay can feed the same signals in
again and get the same steps out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Json = Any
TaskKind = Literal["handler", "activity", "callback", "http"]


# --------------------------------------------------------------------------- commands (machine -> runtime)


@dataclass(frozen=True, slots=True)
class InvokeTask:
    """Run a task. ``task_id`` is unique within the execution and stable across replays and re-invocations:
    the runtime derives the idempotency key from it. ``token`` is set for activities and
    ``.waitForTaskToken`` callbacks."""

    task_id: str
    kind: TaskKind
    resource: str
    payload: Json
    timeout_seconds: float | None = None
    heartbeat_seconds: float | None = None
    token: str | None = None
    state_name: str = ""


@dataclass(frozen=True, slots=True)
class StartTimer:
    """Fire :class:`TimerFired` with ``timer_id`` at ``due`` (epoch seconds). A timer id is reused when the
    timer is rescheduled (a heartbeat pushes back its deadline): the latest due time wins."""

    timer_id: str
    due: float


@dataclass(frozen=True, slots=True)
class CancelTimer:
    timer_id: str


@dataclass(frozen=True, slots=True)
class CancelTask:
    """The task's result is no longer wanted (timeout, stop, a sibling branch failed)."""

    task_id: str


@dataclass(frozen=True, slots=True)
class Finish:
    """The execution reached a terminal status; the runtime records it on the execution row."""

    status: Literal["SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"]
    output: str | None = None
    error: str | None = None
    cause: str | None = None


Command = InvokeTask | StartTimer | CancelTimer | CancelTask | Finish


# --------------------------------------------------------------------------- signals (runtime -> machine)


@dataclass(frozen=True, slots=True)
class TaskStarted:
    """An activity worker picked the task up (``ActivityStarted``), or a handler began."""

    task_id: str
    worker_name: str | None = None


@dataclass(frozen=True, slots=True)
class TaskSucceeded:
    task_id: str
    output: str  # JSON text, as SendTaskSuccess carries it


@dataclass(frozen=True, slots=True)
class TaskFailed:
    task_id: str
    error: str | None = None
    cause: str | None = None


@dataclass(frozen=True, slots=True)
class TaskHeartbeat:
    task_id: str


@dataclass(frozen=True, slots=True)
class TimerFired:
    timer_id: str


@dataclass(frozen=True, slots=True)
class StopRequested:
    error: str | None = None
    cause: str | None = None


@dataclass(frozen=True, slots=True)
class RedriveRequested:
    """Resume a FAILED/TIMED_OUT/ABORTED execution from the state that failed, as RedriveExecution does."""


Signal = (
    TaskStarted | TaskSucceeded | TaskFailed | TaskHeartbeat | TimerFired | StopRequested | RedriveRequested
)


# --------------------------------------------------------------------------- the result of one transition


@dataclass(frozen=True, slots=True)
class ExecutionInfo:
    """Facts about the execution that the context object ``$$`` exposes and events echo."""

    execution_arn: str
    name: str
    state_machine_arn: str
    state_machine_name: str
    role_arn: str
    start_time: str  # ISO-8601 with milliseconds and Z, as $$.Execution.StartTime shows it
    redrive_count: int = 0
    trace_header: str | None = None  # W3C traceparent of the caller's span: the execution's trace

    def to_json(self) -> dict[str, Json]:
        """The facts as the snapshot keeps them (``trace_header`` only when there is one)."""
        shaped: dict[str, Json] = {
            "execution_arn": self.execution_arn,
            "name": self.name,
            "state_machine_arn": self.state_machine_arn,
            "state_machine_name": self.state_machine_name,
            "role_arn": self.role_arn,
            "start_time": self.start_time,
            "redrive_count": self.redrive_count,
        }
        if self.trace_header is not None:
            shaped["trace_header"] = self.trace_header
        return shaped


RETRY_TIMER = "#retry"  # in the id of every timer that waits before a Retry (the runtime may scale those)


@dataclass(slots=True)
class Step:
    events: list[dict[str, Json]]
    state: dict[str, Json]
    commands: list[Command] = field(default_factory=list)
    status: Literal["RUNNING", "SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"] = "RUNNING"
