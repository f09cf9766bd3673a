"""Pass: its output is its input, or its Result, shaped by the data-flow fields."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stepdance.asl import dataflow
from stepdance.asl.definition import State
from stepdance.asl.frames import Frame

if TYPE_CHECKING:
    from stepdance.asl.machine import Run


def run(run: Run, frame: Frame, state: State) -> None:
    if state.is_jsonata:
        output, assigned = dataflow.jsonata_output(run, frame, state, frame.input)
    else:
        value = dataflow.effective_input(run, frame, state)
        result = state.raw.get("Result", value)
        output, assigned = dataflow.jsonpath_output(run, frame, state, result, selector=False)
    run.exit_state(frame, output, assigned)
