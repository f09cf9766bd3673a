"""Run an execution to its end in memory, on a virtual clock: no database, no waiting.

Timers fire in due order by moving the virtual clock forward; tasks go to in-process handlers (plain
functions of the payload). This is how the language is tested and how the conformance runner executes cases;
it is the transition function plus the smallest possible loop, and shares nothing with the durable runtime
but :mod:`stepdance.asl.machine`.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stepdance.asl import machine
from stepdance.asl.definition import Definition
from stepdance.asl.protocol import (
    CancelTask,
    CancelTimer,
    ExecutionInfo,
    Finish,
    InvokeTask,
    Signal,
    StartTimer,
    Step,
    TaskFailed,
    TaskSucceeded,
    TimerFired,
)

Handler = Callable[[Any], Any]


class HandlerError(Exception):
    """Raise from a handler to fail the task with an ASL error name and cause."""

    def __init__(self, error: str, cause: str | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.cause = cause


@dataclass
class Outcome:
    status: str
    output: str | None
    error: str | None
    cause: str | None
    events: list[dict[str, Any]]
    state: dict[str, Any] = field(repr=False)


def info_for(
    name: str = "exec",
    *,
    state_machine: str = "sm",
    region: str = "us-east-1",
    account: str = "123456789012",
    start_time: str = "2026-01-01T00:00:00.000Z",
) -> ExecutionInfo:
    sm_arn = f"arn:aws:states:{region}:{account}:stateMachine:{state_machine}"
    return ExecutionInfo(
        execution_arn=f"arn:aws:states:{region}:{account}:execution:{state_machine}:{name}",
        name=name,
        state_machine_arn=sm_arn,
        state_machine_name=state_machine,
        role_arn=f"arn:aws:iam::{account}:role/stepdance",
        start_time=start_time,
    )


def run(
    definition: Definition,
    input_text: str = "{}",
    *,
    info: ExecutionInfo | None = None,
    handlers: dict[str, Handler] | None = None,
    now: float = 1_767_225_600.0,
    max_steps: int = 1_000_000,
) -> Outcome:
    """Execute to completion; returns the final status and the whole history."""
    handlers = handlers or {}
    clock = now
    events: list[dict[str, Any]] = []
    timers: list[tuple[float, int, str]] = []
    live_timers: dict[str, float] = {}
    pending: list[Signal] = []
    order = 0
    step: Step = machine.start(definition, info or info_for(), input_text, clock)
    for _ in range(max_steps):
        events.extend(step.events)
        for command in step.commands:
            if isinstance(command, StartTimer):
                order += 1
                live_timers[command.timer_id] = command.due
                heapq.heappush(timers, (command.due, order, command.timer_id))
            elif isinstance(command, CancelTimer):
                live_timers.pop(command.timer_id, None)
            elif isinstance(command, InvokeTask):
                pending.append(_invoke(command, handlers))
            elif isinstance(command, CancelTask | Finish):
                pass
        if step.status != "RUNNING":
            break
        signal = pending.pop(0) if pending else _next_timer(timers, live_timers)
        if signal is None:
            break  # nothing left to wait for: a callback or activity nobody will answer
        if isinstance(signal, TimerFired):
            clock = max(clock, live_timers.pop(signal.timer_id))
        step = machine.advance(definition, step.state, signal, clock)
    st = step.state
    return Outcome(st["status"], st.get("output"), st.get("error"), st.get("cause"), events, st)


def _next_timer(timers: list[tuple[float, int, str]], live: dict[str, float]) -> TimerFired | None:
    while timers:
        due, _, timer_id = heapq.heappop(timers)
        if live.get(timer_id) == due:
            return TimerFired(timer_id)
    return None


def _invoke(command: InvokeTask, handlers: dict[str, Handler]) -> Signal:
    handler = handlers.get(command.resource)
    if handler is None:
        return TaskFailed(
            command.task_id, "States.TaskFailed", f"No handler registered for {command.resource}"
        )
    try:
        result = handler(command.payload)
    except HandlerError as exc:
        return TaskFailed(command.task_id, exc.error, exc.cause)
    except Exception as exc:  # a handler's own bug fails the task, as a Lambda exception would
        return TaskFailed(command.task_id, type(exc).__name__, str(exc))
    return TaskSucceeded(command.task_id, json.dumps(result))
