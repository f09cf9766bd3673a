"""How a state's input becomes its output, in both query languages.

JSONPath: InputPath -> Parameters -> (work) -> ResultSelector -> ResultPath -> OutputPath, with Assign
evaluated against the result. JSONata: Arguments -> (work) -> Output and Assign, both computed from
``$states`` and the variables as they were *before* the state assigns any (AWS's rule), then written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stepdance.asl import errors
from stepdance.asl.definition import Catcher, State
from stepdance.asl.errors import StatesError
from stepdance.asl.frames import Frame
from stepdance.asl.jsonata_eval import evaluate_field
from stepdance.asl.jsonpath import apply_result_path, query, select
from stepdance.asl.payload import evaluate_template

if TYPE_CHECKING:
    from stepdance.asl.machine import Run

_MISSING = object()


# --------------------------------------------------------------------------- JSONPath


def effective_input(run: Run, frame: Frame, state: State, *, token: str | None = None) -> Any:
    """InputPath, then Parameters. ``token`` makes ``$$.Task.Token`` visible to Parameters."""
    value = frame.input
    if "InputPath" in state.raw:
        value = select(state.raw["InputPath"], value, run.scope(frame), field="InputPath")
    if "Parameters" in state.raw:
        value = evaluate_template(state.raw["Parameters"], value, run.scope(frame, token=token))
    return value


def jsonpath_output(
    run: Run, frame: Frame, state: State, result: Any, *, selector: bool = True, assign_from: Any = _MISSING
) -> tuple[Any, dict[str, Any] | None]:
    """ResultSelector, Assign, ResultPath, OutputPath; returns (output, variables to assign)."""
    raw = state.raw
    # A scope is built only for the fields that read one: most states have none of them.
    if selector and "ResultSelector" in raw:
        result = evaluate_template(raw["ResultSelector"], result, run.scope(frame))
    assigned = None
    if "Assign" in raw:
        source = result if assign_from is _MISSING else assign_from
        assigned = evaluate_template(raw["Assign"], source, run.scope(frame))
    output = apply_result_path(raw.get("ResultPath", "$"), frame.input, result)
    if "OutputPath" in raw:
        output = select(raw["OutputPath"], output, run.scope(frame), field="OutputPath")
    return output, assigned


def lookup(run: Run, frame: Frame, path: str, field: str) -> Any:
    """A ``...Path`` field's value (SecondsPath, TimeoutSecondsPath, ...), with AWS's wording for a miss."""
    try:
        return query(path, frame.input, run.scope(frame))
    except StatesError:
        raise StatesError(
            errors.RUNTIME, f"The {field} parameter does not reference an input value: {path}"
        ) from None


# --------------------------------------------------------------------------- JSONata


def states_binding(run: Run, frame: Frame, **extra: Any) -> dict[str, Any]:
    binding: dict[str, Any] = {
        "input": frame.input,
        "context": run.context(frame, token=extra.pop("token", None)),
    }
    binding.update(extra)
    return binding


def jsonata(
    run: Run, frame: Frame, template: Any, field: str, *, expect: str | None = None, **extra: Any
) -> Any:
    """Evaluate one JSONata template field of the current state (``expect``: the JSONata type required)."""
    return evaluate_field(
        template,
        states_binding(run, frame, **extra),
        run.variables(frame),
        field=field,
        random=run.rng(),
        expect=expect,
    )


def jsonata_output(
    run: Run, frame: Frame, state: State, default: Any, **extra: Any
) -> tuple[Any, dict[str, Any] | None]:
    """Output (default: ``default``) and Assign, both from the variables as they were on entry."""
    assigned = None
    if "Assign" in state.raw:
        assigned = jsonata(run, frame, state.raw["Assign"], "Assign", **extra)
    output = jsonata(run, frame, state.raw["Output"], "Output", **extra) if "Output" in state.raw else default
    return output, assigned


# --------------------------------------------------------------------------- either


def finish(run: Run, frame: Frame, state: State, result: Any) -> tuple[Any, dict[str, Any] | None]:
    """Output and assignments of a state whose work produced ``result`` (Task, Map, Parallel)."""
    if state.is_jsonata:
        return jsonata_output(run, frame, state, result, result=result)
    return jsonpath_output(run, frame, state, result)


def catch_output(
    run: Run, frame: Frame, state: State, catcher: Catcher, error_output: dict[str, Any]
) -> tuple[Any, dict[str, Any] | None]:
    """The output a Catch passes to its Next state, and the variables it assigns."""
    raw = catcher.raw
    if state.is_jsonata:
        assigned = None
        if "Assign" in raw:
            assigned = jsonata(run, frame, raw["Assign"], "Assign", errorOutput=error_output)
        if "Output" in raw:
            return jsonata(run, frame, raw["Output"], "Output", errorOutput=error_output), assigned
        return error_output, assigned
    assigned = evaluate_template(raw["Assign"], error_output, run.scope(frame)) if "Assign" in raw else None
    return apply_result_path(raw.get("ResultPath", "$"), frame.input, error_output), assigned
