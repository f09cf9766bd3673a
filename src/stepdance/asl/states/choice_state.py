"""Choice: the first rule that matches names the next state; else Default; else States.NoChoiceMatched."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stepdance.asl import dataflow, errors
from stepdance.asl.choice import choose
from stepdance.asl.definition import State
from stepdance.asl.errors import StatesError
from stepdance.asl.frames import Frame
from stepdance.asl.jsonata_eval import evaluate_condition
from stepdance.asl.jsonpath import select
from stepdance.asl.payload import evaluate_template

if TYPE_CHECKING:
    from stepdance.asl.machine import Run


def run(run: Run, frame: Frame, state: State) -> None:
    if state.is_jsonata:
        _run_jsonata(run, frame, state)
    else:
        _run_jsonpath(run, frame, state)


def _run_jsonpath(run: Run, frame: Frame, state: State) -> None:
    scope = run.scope(frame)
    value = frame.input
    if "InputPath" in state.raw:
        value = select(state.raw["InputPath"], value, scope, field="InputPath")
    rule = choose(state.raw["Choices"], value, scope)
    target = rule["Next"] if rule is not None else _default(state)
    assigned: dict[str, Any] = {}
    # Both the state's and the matched rule's Assign see the variables as they were on entry.
    if "Assign" in state.raw:
        assigned.update(evaluate_template(state.raw["Assign"], value, scope))
    if rule is not None and "Assign" in rule:
        assigned.update(evaluate_template(rule["Assign"], value, scope))
    output = value
    if "OutputPath" in state.raw:
        output = select(state.raw["OutputPath"], output, scope, field="OutputPath")
    run.exit_state(frame, output, assigned or None, next_state=target)


def _run_jsonata(run: Run, frame: Frame, state: State) -> None:
    states = dataflow.states_binding(run, frame)
    variables = run.variables(frame)
    rng = run.rng()
    rule = next(
        (
            r
            for r in state.raw["Choices"]
            if evaluate_condition(r["Condition"], states, variables, random=rng)
        ),
        None,
    )
    target = rule["Next"] if rule is not None else _default(state)
    source = rule if rule is not None and ("Output" in rule or "Assign" in rule) else state.raw
    assigned = None
    if "Assign" in source:
        assigned = dataflow.jsonata(run, frame, source["Assign"], "Assign")
    output = dataflow.jsonata(run, frame, source["Output"], "Output") if "Output" in source else frame.input
    run.exit_state(frame, output, assigned, next_state=target)


def _default(state: State) -> str:
    if "Default" in state.raw:
        return str(state.raw["Default"])
    raise StatesError(errors.NO_CHOICE_MATCHED, "No Matches!")
