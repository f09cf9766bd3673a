"""Task: hand the effective input to a target, wait for its result, enforce TimeoutSeconds/HeartbeatSeconds.

Targets (the runtime resolves them): a Python handler registered under the resource name, an activity
(``arn:...:activity:name``, polled by workers), a callback (``...waitForTaskToken``: done when someone sends the
token back) or HTTP. The machine only records what AWS records and asks for the invocation; the task id is
the TaskScheduled event id, stable however often the runtime re-invokes the task.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stepdance.asl import dataflow, errors, history
from stepdance.asl.definition import State
from stepdance.asl.errors import StatesError
from stepdance.asl.frames import Frame
from stepdance.asl.protocol import (
    CancelTask,
    CancelTimer,
    InvokeTask,
    Signal,
    StartTimer,
    TaskFailed,
    TaskHeartbeat,
    TaskKind,
    TaskStarted,
    TaskSucceeded,
    TimerFired,
)

if TYPE_CHECKING:
    from stepdance.asl.machine import Run

_DEFAULT_TIMEOUT = 99_999_999


@dataclass(frozen=True, slots=True)
class Target:
    kind: TaskKind
    resource_type: str
    resource: str  # the short name AWS shows in Task* events
    full: str  # what the runtime resolves


def classify(resource: str) -> Target:
    """Which kind of target a Resource names."""
    parts = resource.split(":")
    if resource.startswith("arn:") and len(parts) >= 7 and parts[5] == "activity":
        return Target("activity", "activity", resource, resource)
    callback = resource.endswith(".waitForTaskToken")
    base = resource.removesuffix(".waitForTaskToken")
    if (
        resource.startswith("arn:")
        and len(parts) >= 6
        and parts[2] == "states"
        and parts[3] == ""
        and parts[4] == ""
    ):
        service, action = parts[5], ":".join(parts[6:]) or ""
        kind: TaskKind = "callback" if callback else ("http" if service == "http" else "handler")
        return Target(kind, service, action, base)
    if resource.startswith("arn:") and len(parts) >= 7 and parts[2] == "lambda":
        return Target("callback" if callback else "handler", "lambda", "invoke", base)
    return Target("callback" if callback else "handler", "stepdance", base, base)


def run(run: Run, frame: Frame, state: State) -> None:
    target = classify(state.raw["Resource"])
    token = _token(run) if target.kind in ("activity", "callback") else None
    if state.is_jsonata:
        extra = {"token": token} if token else {}
        payload = (
            dataflow.jsonata(run, frame, state.raw["Arguments"], "Arguments", **extra)
            if "Arguments" in state.raw
            else frame.input
        )
    else:
        payload = dataflow.effective_input(run, frame, state, token=token)
    timeout = _seconds(run, frame, state, "TimeoutSeconds")
    heartbeat = _seconds(run, frame, state, "HeartbeatSeconds")
    _schedule(run, frame, state, target, payload, token, timeout, heartbeat)


def _schedule(
    run: Run,
    frame: Frame,
    state: State,
    target: Target,
    payload: Any,
    token: str | None,
    timeout: float | None,
    heartbeat: float | None,
) -> None:
    text = history.to_json(payload)
    if target.kind == "activity":
        event = history.activity_event(
            "Scheduled",
            resource=target.full,
            input=text,
            timeoutInSeconds=int(timeout) if timeout is not None else None,
            heartbeatInSeconds=int(heartbeat) if heartbeat is not None else None,
        )
        task_id = str(run.emit(frame, event))
    else:
        region = (
            run.st.info["state_machine_arn"].split(":")[3]
            if run.st.info["state_machine_arn"].count(":") >= 3
            else ""
        )
        event = history.task_scheduled(
            target.resource_type, target.resource, region, text, timeout, heartbeat
        )
        task_id = str(run.emit(frame, event))
        run.emit(frame, history.task_event("Started", target.resource_type, target.resource))
    timers: list[str] = []
    if timeout is not None:
        timers.append(f"{task_id}#timeout")
        run.command(StartTimer(timers[-1], run.now + timeout))
    if heartbeat is not None:
        timers.append(f"{task_id}#heartbeat")
        run.command(StartTimer(timers[-1], run.now + heartbeat))
    for timer in timers:
        run.st.timers[timer] = frame.id
    run.st.tasks[task_id] = frame.id
    frame.wait = {
        "on": "task",
        "task": task_id,
        "timers": timers,
        "kind": target.kind,
        "heartbeat": heartbeat,
    }
    frame.work = {"resource_type": target.resource_type, "resource": target.resource, "full": target.full}
    run.command(
        InvokeTask(
            task_id=task_id,
            kind=target.kind,
            resource=target.full,
            payload=payload,
            timeout_seconds=timeout,
            heartbeat_seconds=heartbeat,
            token=token,
            state_name=state.name,
        )
    )


def retry(run: Run, frame: Frame, state: State) -> None:
    """Invoke again after a retrier's back-off: a new TaskScheduled, a new task id."""
    globals()["run"](run, frame, state)


def resume(run: Run, frame: Frame, state: State, signal: Signal) -> None:
    wait = frame.wait or {}
    task_id = wait.get("task", "")
    if isinstance(signal, TaskStarted):
        if wait.get("kind") == "activity" and not frame.work.get("started"):
            frame.work["started"] = True
            run.emit(frame, history.activity_event("Started", workerName=signal.worker_name))
        return
    if isinstance(signal, TaskHeartbeat):
        if wait.get("heartbeat") is not None:
            run.command(StartTimer(f"{task_id}#heartbeat", run.now + float(wait["heartbeat"])))
        return
    if isinstance(signal, TimerFired):
        heartbeat = signal.timer_id.endswith("#heartbeat")
        _close(run, frame)
        error = errors.HEARTBEAT_TIMEOUT if heartbeat else errors.TIMEOUT
        _record(run, frame, "TimedOut", error=error, cause=None)
        run.command(CancelTask(task_id))
        run.state_failed(frame, error, None)
        return
    if isinstance(signal, TaskSucceeded):
        _close(run, frame)
        _record(run, frame, "Succeeded", output=signal.output)
        run.check_size(signal.output, state.name)
        result = _decode(signal.output)
        output, assigned = dataflow.finish(run, frame, state, result)
        run.exit_state(frame, output, assigned)
        return
    if isinstance(signal, TaskFailed):
        _close(run, frame)
        _record(run, frame, "Failed", error=signal.error, cause=signal.cause)
        run.state_failed(frame, signal.error or errors.TASK_FAILED, signal.cause)


def _close(run: Run, frame: Frame) -> None:
    wait = frame.wait or {}
    run.st.tasks.pop(wait.get("task", ""), None)
    for timer in wait.get("timers", []):
        if run.st.timers.pop(timer, None) is not None:
            run.command(CancelTimer(timer))
    frame.wait = None


def _record(run: Run, frame: Frame, kind: str, **details: Any) -> None:
    work = frame.work
    if work.get("resource_type") == "activity":
        run.emit(frame, history.activity_event(kind, **details))
    else:
        run.emit(frame, history.task_event(kind, work["resource_type"], work["resource"], **details))


def _decode(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _seconds(run: Run, frame: Frame, state: State, name: str) -> float | None:
    raw = state.raw
    value: Any
    if state.is_jsonata:
        if name not in raw:
            return None
        value = dataflow.jsonata(run, frame, raw[name], name)
    elif name in raw:
        value = raw[name]
    elif f"{name}Path" in raw:
        value = dataflow.lookup(run, frame, raw[f"{name}Path"], f"{name}Path")
    else:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0 or value != int(value):
        error = errors.QUERY_EVALUATION_ERROR if state.is_jsonata else errors.RUNTIME
        raise StatesError(
            error, f"The {name} field must be a positive integer, but was: {value}", location=name
        )
    return float(min(value, _DEFAULT_TIMEOUT))


def _token(run: Run) -> str:
    rng = run.rng()
    return "".join(f"{rng.getrandbits(32):08x}" for _ in range(8))
