"""One small module per state type, and the dispatch between them and the interpreter core.

Each module exposes ``run(run, frame, state)`` (do the state's work after StateEntered) and, where the state
waits for something, ``resume``/``retry``/child callbacks. The core (:mod:`stepdance.asl.machine`) never
looks at a state's type; this package routes by it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from stepdance.asl import errors, history
from stepdance.asl.errors import StatesError
from stepdance.asl.frames import Frame
from stepdance.asl.protocol import Signal, TimerFired

from . import choice_state, map_state, parallel_state, pass_state, task_state, terminal, wait_state

if TYPE_CHECKING:
    from stepdance.asl.definition import State
    from stepdance.asl.machine import Run

_RUN = {
    "Pass": pass_state.run,
    "Task": task_state.run,
    "Choice": choice_state.run,
    "Wait": wait_state.run,
    "Succeed": terminal.run_succeed,
    "Fail": terminal.run_fail,
    "Parallel": parallel_state.run,
    "Map": map_state.run,
}
_RETRY = {"Task": task_state.retry, "Parallel": parallel_state.retry, "Map": map_state.retry}
_PARENTS = {"Parallel": parallel_state, "Map": map_state}


def decode_input(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def run_frame(run: Run, frame: Frame) -> None:
    state = run.state_of(frame)
    try:
        _RUN[state.type](run, frame, state)
    except StatesError as exc:
        run.fail_with(frame, exc)
    if frame.wait is not None and frame.parent is not None:
        parent = run.st.frames.get(frame.parent)
        if parent is not None and run.state_of(parent).type == "Map":
            map_state.fill(run, parent, trigger=frame)


def resume_signal(run: Run, signal: Signal) -> None:
    if isinstance(signal, TimerFired):
        owner = run.st.timers.pop(signal.timer_id, None)
        frame = run.st.frames.get(owner) if owner else None
        if frame is None or frame.wait is None or signal.timer_id not in frame.wait.get("timers", ()):
            return  # a stale timer: its frame moved on (or was cancelled) since it was set
        purpose = frame.wait.get("purpose")
        _guarded(run, frame, lambda state: _on_timer(run, frame, state, purpose, signal))
        return
    task_id = getattr(signal, "task_id", None)
    owner = run.st.tasks.get(task_id) if task_id else None
    frame = run.st.frames.get(owner) if owner else None
    if frame is not None:
        _guarded(run, frame, lambda state: task_state.resume(run, frame, state, signal))


def _on_timer(run: Run, frame: Frame, state: State, purpose: Any, signal: TimerFired) -> None:
    if purpose == "retry":
        frame.wait = None
        _RETRY[state.type](run, frame, state)
    elif purpose == "wait":
        wait_state.resume(run, frame, state)
    else:
        task_state.resume(run, frame, state, signal)


def _guarded(run: Run, frame: Frame, action: Any) -> None:
    state = run.state_of(frame)
    try:
        action(state)
    except StatesError as exc:
        run.fail_with(frame, exc)


def child_succeeded(run: Run, child: Frame, output: Any) -> None:
    parent = run.st.frames[child.parent or ""]
    state = run.state_of(parent)
    try:
        _PARENTS[state.type].child_succeeded(run, parent, state, child, output)
    except StatesError as exc:
        run.fail_with(parent, exc)


def child_failed(run: Run, child: Frame, error: str | None, cause: str | None) -> None:
    parent = run.st.frames[child.parent or ""]
    state = run.state_of(parent)
    _PARENTS[state.type].child_failed(run, parent, state, child, error, cause)


def failed_event(run: Run, frame: Frame, state: State, error: str | None) -> None:
    """Map and Parallel record their own failure before Retry/Catch take over, once they have started
    (a path that fails while the state reads its fields fails the execution directly, as on AWS)."""
    started = frame.work.get("started", False)
    if state.type in ("Map", "Parallel") and (started or error == errors.QUERY_EVALUATION_ERROR):
        run.emit(frame, history.plain(f"{state.type}StateFailed"))


def redrive(run: Run) -> None:
    """Re-enter the state the execution failed in, with the input it had (RedriveExecution)."""
    failed = run.st.failed_at
    if failed is None:
        return
    frame = Frame.from_json(failed["frame"])
    run.st.frames = {frame.id: frame}
    run.st.status = "RUNNING"
    run.st.info["redrive_count"] = run.st.info.get("redrive_count", 0) + 1
    run.emit(
        frame,
        {
            "type": "ExecutionRedriven",
            "executionRedrivenEventDetails": {"redriveCount": run.st.info["redrive_count"]},
        },
    )
    run.enter(frame, frame.state, frame.input)
