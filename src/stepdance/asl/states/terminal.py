"""Succeed and Fail: the two states that end a frame."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stepdance.asl import dataflow, errors, history
from stepdance.asl.definition import State
from stepdance.asl.errors import StatesError
from stepdance.asl.frames import Frame
from stepdance.asl.jsonpath import select
from stepdance.asl.payload import evaluate_expression

if TYPE_CHECKING:
    from stepdance.asl.machine import Run


def run_succeed(run: Run, frame: Frame, state: State) -> None:
    if state.is_jsonata:
        output, _ = dataflow.jsonata_output(run, frame, state, frame.input)
    else:
        output = frame.input
        scope = run.scope(frame)
        if "InputPath" in state.raw:
            output = select(state.raw["InputPath"], output, scope, field="InputPath")
        if "OutputPath" in state.raw:
            output = select(state.raw["OutputPath"], output, scope, field="OutputPath")
    run.emit(frame, history.state_exited(state.type, state.name, history.to_json(output)))
    run.end_frame(frame, output)


def run_fail(run: Run, frame: Frame, state: State) -> None:
    error = _field(run, frame, state, "Error")
    cause = _field(run, frame, state, "Cause")
    run.fail_frame(frame, error, cause)


def _field(run: Run, frame: Frame, state: State, name: str) -> str | None:
    raw = state.raw
    value: Any
    if state.is_jsonata:
        if name not in raw:
            return None
        value = dataflow.jsonata(run, frame, raw[name], name)
    elif f"{name}Path" in raw:
        path = raw[f"{name}Path"]
        value = _path_value(run, frame, path, f"{name}Path")
    else:
        value = raw.get(name)
    if value is not None and not isinstance(value, str):
        raise StatesError(
            errors.RUNTIME if not state.is_jsonata else errors.QUERY_EVALUATION_ERROR,
            f"The {name}{'' if state.is_jsonata else 'Path'} field must resolve to a string.",
        )
    return value


def _path_value(run: Run, frame: Frame, path: str, field: str) -> Any:
    return evaluate_expression(path, frame.input, run.scope(frame), field=field)
