"""Parallel: every branch runs in a child frame on the same input; the result is their outputs in order.

A failing branch stops the others and fails the state with the branch's error (then Retry/Catch apply).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stepdance.asl import dataflow, history
from stepdance.asl.definition import State
from stepdance.asl.frames import Frame

if TYPE_CHECKING:
    from stepdance.asl.machine import Run


def run(run: Run, frame: Frame, state: State) -> None:
    if state.is_jsonata:
        value = (
            dataflow.jsonata(run, frame, state.raw["Arguments"], "Arguments")
            if "Arguments" in state.raw
            else frame.input
        )
    else:
        value = dataflow.effective_input(run, frame, state)
    _start(run, frame, state, value)


def retry(run: Run, frame: Frame, state: State) -> None:
    globals()["run"](run, frame, state)


def _start(run: Run, frame: Frame, state: State, value: Any) -> None:
    frame.work["started"] = True
    run.emit(frame, history.plain("ParallelStateStarted"))
    count = len(state.branches)
    frame.wait = {"on": "children", "results": [None] * count, "pending": count}
    if count == 0:
        _complete(run, frame, state)
        return
    started = frame.last
    for index, branch in enumerate(state.branches):
        run.st.seq += 1
        child = Frame(
            id=f"{frame.id}.{run.st.seq}",
            path=[*frame.path, [state.name, index]],
            state=branch.start_at,
            input=value,
            parent=frame.id,
            index=index,
            last=started,
        )
        run.st.frames[child.id] = child
        run.enter(child, branch.start_at, value)


def child_succeeded(run: Run, frame: Frame, state: State, child: Frame, output: Any) -> None:
    wait = frame.wait or {}
    wait["results"][child.index] = output
    wait["pending"] -= 1
    frame.last = child.last
    if wait["pending"] == 0:
        _complete(run, frame, state)


def _complete(run: Run, frame: Frame, state: State) -> None:
    results = (frame.wait or {}).get("results", [])
    frame.wait = None
    run.emit(frame, history.plain("ParallelStateSucceeded"), advance=False)
    output, assigned = dataflow.finish(run, frame, state, results)
    run.exit_state(frame, output, assigned)


def child_failed(
    run: Run, frame: Frame, state: State, child: Frame, error: str | None, cause: str | None
) -> None:
    run.drop_children(frame)
    frame.wait = None
    frame.last = child.last
    run.state_failed(frame, error, cause)
