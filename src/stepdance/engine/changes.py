"""What one interpreter step writes: the :class:`~stepdance.store.Change` for a Step and the signal it applied.

Besides the events and the snapshot, the change keeps the execution's pending work in step with the
interpreter: tasks it invoked (rows an activity worker can poll and a token can find), timers it armed,
and the closing of both when a result, a timeout or a cancellation ends them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from stepdance.asl.history import to_json
from stepdance.asl.protocol import (
    RETRY_TIMER,
    CancelTask,
    CancelTimer,
    Finish,
    InvokeTask,
    Signal,
    StartTimer,
    Step,
    TaskFailed,
    TaskSucceeded,
    TimerFired,
)
from stepdance.store import Change, TaskRecord, TimerRecord

_KEEP_CLOSED = frozenset({"activity", "callback"})  # their tokens must still answer TaskTimedOut


@dataclass(slots=True)
class Pending:
    """The tasks and timers an execution waits on, as this worker knows them."""

    tasks: dict[str, TaskRecord] = field(default_factory=dict)
    timers: dict[str, float] = field(default_factory=dict)


def extend(change: Change, pending: Pending, step: Step, now: float, *, signal: Signal | None = None) -> None:
    """Add ``step`` (the interpreter's answer to ``signal``) to ``change``; ``pending`` becomes what is
    pending once the change commits."""
    change.events.extend(step.events)
    change.snapshot = step.state
    change.status = step.status
    if isinstance(signal, TaskSucceeded | TaskFailed):
        _close_task(change, pending, signal.task_id)
    elif isinstance(signal, TimerFired) and pending.timers.pop(signal.timer_id, None) is not None:
        change.timers_deleted.append(signal.timer_id)
    for command in step.commands:
        _apply(change, pending, command, now)


def scale_retries(step: Step, now: float, scale: float) -> None:
    """Multiply the waits of ``step``'s retry timers by ``scale`` (``Settings.retry_scale``: scenarios and
    tests that must exhaust a retry budget quickly). Only the runtime's timing changes; the interpreter's
    history and state are the same."""
    step.commands = [
        StartTimer(c.timer_id, now + (c.due - now) * scale)
        if isinstance(c, StartTimer) and RETRY_TIMER in c.timer_id
        else c
        for c in step.commands
    ]


def _apply(change: Change, pending: Pending, command: object, now: float) -> None:
    arn = change.execution_arn
    match command:
        case InvokeTask():
            task = task_record(arn, command, now)
            pending.tasks[command.task_id] = task
            change.tasks_added.append(task)
        case StartTimer(timer_id=timer_id, due=due):
            pending.timers[timer_id] = due
            change.timers_set = [t for t in change.timers_set if t.timer_id != timer_id]
            change.timers_set.append(TimerRecord(arn, timer_id, due))
            if timer_id in change.timers_deleted:
                change.timers_deleted.remove(timer_id)
        case CancelTimer(timer_id=timer_id):
            pending.timers.pop(timer_id, None)
            change.timers_set = [t for t in change.timers_set if t.timer_id != timer_id]
            change.timers_deleted.append(timer_id)
        case CancelTask(task_id=task_id):
            _close_task(change, pending, task_id)
        case Finish():
            change.output, change.error, change.cause = command.output, command.error, command.cause
            change.stop_date = now


def _close_task(change: Change, pending: Pending, task_id: str) -> None:
    task = pending.tasks.pop(task_id, None)
    if task is None:
        return
    added = next((t for t in change.tasks_added if t.task_id == task_id), None)
    if task.kind in _KEEP_CLOSED:
        if added is not None:
            added.status = "CLOSED"
        else:
            change.task_status[task_id] = "CLOSED"
    elif added is not None:
        change.tasks_added.remove(added)
    else:
        change.tasks_deleted.append(task_id)


def task_record(arn: str, command: InvokeTask, now: float) -> TaskRecord:
    return TaskRecord(
        execution_arn=arn,
        task_id=command.task_id,
        kind=command.kind,
        resource=command.resource,
        input=to_json(command.payload),
        created=now,
        token=command.token,
        state_name=command.state_name,
        timeout_seconds=command.timeout_seconds,
        heartbeat_seconds=command.heartbeat_seconds,
    )


def invocation(task: TaskRecord) -> InvokeTask:
    """The command that created a task row, to re-issue it after a takeover."""
    return InvokeTask(
        task_id=task.task_id,
        kind=task.kind,  # type: ignore[arg-type]
        resource=task.resource,
        payload=json.loads(task.input),
        timeout_seconds=task.timeout_seconds,
        heartbeat_seconds=task.heartbeat_seconds,
        token=task.token,
        state_name=task.state_name,
    )
