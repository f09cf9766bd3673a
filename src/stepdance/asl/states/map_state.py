"""Inline Map: one child frame per item, at most MaxConcurrency at a time, results in item order.

Iterations start lazily: the next one starts when a running one waits or finishes and a slot is free, so
iterations that never wait run one after the other, as AWS records them. A failed iteration fails the state
unless ToleratedFailureCount/Percentage allow it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from stepdance.asl import dataflow, errors, history
from stepdance.asl.definition import State
from stepdance.asl.errors import StatesError
from stepdance.asl.frames import Frame
from stepdance.asl.jsonpath import query, select
from stepdance.asl.payload import evaluate_template

if TYPE_CHECKING:
    from stepdance.asl.machine import Run


def run(run: Run, frame: Frame, state: State) -> None:
    if state.is_jsonata:
        value, items = _jsonata_items(run, frame, state)
        max_concurrency = _jsonata_number(run, frame, state, "MaxConcurrency", 0)
        count = _jsonata_number(run, frame, state, "ToleratedFailureCount", None)
        pct = _jsonata_number(run, frame, state, "ToleratedFailurePercentage", None)
    else:
        value = frame.input
        if "InputPath" in state.raw:
            value = select(state.raw["InputPath"], value, run.scope(frame), field="InputPath")
        items = _jsonpath_items(run, frame, state, value)
        max_concurrency = _jsonpath_number(run, frame, state, "MaxConcurrency", 0)
        count = _jsonpath_number(run, frame, state, "ToleratedFailureCount", None)
        pct = _jsonpath_number(run, frame, state, "ToleratedFailurePercentage", None)
    frame.work = {"value": value, "items": items, "max": max_concurrency, "tolerated": [count, pct]}
    _start(run, frame, state)


def retry(run: Run, frame: Frame, state: State) -> None:
    _start(run, frame, state)


def _start(run: Run, frame: Frame, state: State) -> None:
    items = frame.work["items"]
    frame.work["started"] = True
    run.emit(frame, history.map_started(len(items)))
    frame.wait = {"on": "children", "results": [None] * len(items), "next": 0, "running": 0, "failed": 0}
    if not items:
        _complete(run, frame, state)
        return
    fill(run, frame, trigger=None)


def fill(run: Run, frame: Frame, trigger: Frame | None, prev: int | None = None) -> None:
    """Start iterations while there are items left and free slots."""
    wait = frame.wait
    if wait is None or wait.get("on") != "children":
        return
    state = run.state_of(frame)
    limit = frame.work["max"] or math.inf
    items = frame.work["items"]
    if wait["running"] < limit and wait["next"] < len(items):
        index = wait["next"]
        wait["next"] += 1
        wait["running"] += 1
        _start_iteration(run, frame, state, index, items[index], prev)


def _start_iteration(run: Run, frame: Frame, state: State, index: int, item: Any, prev: int | None) -> None:
    run.st.seq += 1
    child = Frame(
        id=f"{frame.id}.{run.st.seq}",
        path=[*frame.path, [state.name, 0]],
        state=state.branches[0].start_at,
        input=None,
        parent=frame.id,
        index=index,
        item={"Index": index, "Value": item},
        last=frame.last if prev is None else prev,
    )
    run.st.frames[child.id] = child
    run.emit(child, history.map_iteration("Started", state.name, index))
    child_input = _item_input(run, frame, state, child, item)
    run.enter(child, child.state, child_input)


def _item_input(run: Run, frame: Frame, state: State, child: Frame, item: Any) -> Any:
    raw = state.raw
    selector = raw.get("ItemSelector", raw.get("Parameters"))
    if selector is None:
        return item
    context = run.context(frame)
    context["Map"] = {"Item": child.item}
    if state.is_jsonata:
        from stepdance.asl.jsonata_eval import evaluate_field

        states = {"input": frame.input, "context": context}
        return evaluate_field(selector, states, run.variables(frame), field="ItemSelector", random=run.rng())
    from stepdance.asl.scope import Scope

    scope = run.scope(frame)
    return evaluate_template(selector, frame.work["value"], Scope(context, scope.variables, scope.random))


def child_succeeded(run: Run, frame: Frame, state: State, child: Frame, output: Any) -> None:
    wait = frame.wait or {}
    wait["results"][child.index] = output
    wait["running"] -= 1
    run.emit(frame, history.map_iteration("Succeeded", state.name, child.index), prev=child.last)
    if wait["next"] >= len(frame.work["items"]) and wait["running"] == 0:
        _complete(run, frame, state)
    else:
        fill(run, frame, trigger=child, prev=child.last)


def child_failed(
    run: Run, frame: Frame, state: State, child: Frame, error: str | None, cause: str | None
) -> None:
    wait = frame.wait or {}
    wait["running"] -= 1
    wait["failed"] += 1
    run.emit(frame, history.map_iteration("Failed", state.name, child.index), prev=child.last, advance=False)
    frame.last = child.last
    if _tolerated(frame, wait["failed"]):
        failure: dict[str, Any] = {"Error": error}
        if cause is not None:
            failure["Cause"] = cause
        wait["results"][child.index] = failure
        if wait["next"] >= len(frame.work["items"]) and wait["running"] == 0:
            _complete(run, frame, state)
        else:
            fill(run, frame, trigger=child, prev=child.last)
        return
    run.drop_children(frame)
    frame.wait = None
    if _has_tolerance(frame):
        run.state_failed(
            frame,
            errors.EXCEED_TOLERATED_FAILURE_THRESHOLD,
            "The specified tolerated failure threshold was exceeded",
        )
    else:
        run.state_failed(frame, error, cause)


def _has_tolerance(frame: Frame) -> bool:
    count, pct = frame.work["tolerated"]
    return count is not None or pct is not None


def _tolerated(frame: Frame, failed: int) -> bool:
    count, pct = frame.work["tolerated"]
    total = len(frame.work["items"])
    if count is not None and failed <= count:
        return True
    return pct is not None and total > 0 and failed * 100.0 / total <= pct


def _complete(run: Run, frame: Frame, state: State) -> None:
    results = (frame.wait or {}).get("results", [])
    frame.wait = None
    run.emit(frame, history.plain("MapStateSucceeded"), advance=False)
    output, assigned = dataflow.finish(run, frame, state, results)
    run.exit_state(frame, output, assigned)


# --------------------------------------------------------------------------- reading the Map's fields


def _jsonpath_items(run: Run, frame: Frame, state: State, value: Any) -> list[Any]:
    items = (
        select(state.raw["ItemsPath"], value, run.scope(frame), field="ItemsPath")
        if "ItemsPath" in state.raw
        else value
    )
    if not isinstance(items, list):
        raise StatesError(
            errors.RUNTIME, f"Map state input must be an array but was: {history.to_json(items)}"
        )
    return items


def _jsonata_items(run: Run, frame: Frame, state: State) -> tuple[Any, list[Any]]:
    if "Items" not in state.raw:
        items = frame.input
        if not isinstance(items, list):
            raise StatesError(
                errors.QUERY_EVALUATION_ERROR,
                f"Map state input must be an array but was: {history.to_json(items)}",
            )
        return frame.input, items
    items = dataflow.jsonata(run, frame, state.raw["Items"], "Items", expect="array")
    return frame.input, items


def _jsonpath_number(run: Run, frame: Frame, state: State, name: str, default: Any) -> Any:
    raw = state.raw
    if name in raw:
        return raw[name]
    if f"{name}Path" not in raw:
        return default
    path = raw[f"{name}Path"]
    try:
        value = query(path, frame.input, run.scope(frame))
    except StatesError:
        raise StatesError(
            errors.RUNTIME, f"The {name}Path field refers to a value that does not exist: {path}"
        ) from None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)  # AWS parses numeric text, as Java's Integer.parseInt would
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value) or value < 0:
        raise StatesError(
            errors.RUNTIME,
            f'The {name}Path field refers to value "{_plain(value)}" which is not a valid integer: {path}',
        )
    return value


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else history.to_json(value)


def _jsonata_number(run: Run, frame: Frame, state: State, name: str, default: Any) -> Any:
    if name not in state.raw:
        return default
    value = dataflow.jsonata(run, frame, state.raw[name], name)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise StatesError(
            errors.QUERY_EVALUATION_ERROR,
            f"The {name} field must be a non-negative number, but was: {history.to_json(value)}",
            location=name,
        )
    return value
