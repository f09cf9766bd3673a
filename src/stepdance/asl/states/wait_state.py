"""Wait: a timer for Seconds or until Timestamp (or their Path forms), then on to the next state."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from stepdance.asl import dataflow, errors
from stepdance.asl.definition import State
from stepdance.asl.errors import StatesError
from stepdance.asl.frames import Frame
from stepdance.asl.jsonpath import select
from stepdance.asl.protocol import StartTimer

if TYPE_CHECKING:
    from stepdance.asl.machine import Run

_MAX_WAIT_SECONDS = 99_999_999


def run(run: Run, frame: Frame, state: State) -> None:
    due = (
        run.now + _seconds(run, frame, state) if not _uses_timestamp(state) else _timestamp(run, frame, state)
    )
    timer_id = f"{frame.id}#{frame.entered_id}#wait"
    frame.wait = {"on": "timer", "timers": [timer_id], "purpose": "wait"}
    run.st.timers[timer_id] = frame.id
    run.command(StartTimer(timer_id, due))


def resume(run: Run, frame: Frame, state: State) -> None:
    frame.wait = None
    if state.is_jsonata:
        output, assigned = dataflow.jsonata_output(run, frame, state, frame.input)
    else:
        scope = run.scope(frame)
        value = frame.input
        if "InputPath" in state.raw:
            value = select(state.raw["InputPath"], value, scope, field="InputPath")
        assigned = None
        if "Assign" in state.raw:
            from stepdance.asl.payload import evaluate_template

            assigned = evaluate_template(state.raw["Assign"], value, scope)
        output = value
        if "OutputPath" in state.raw:
            output = select(state.raw["OutputPath"], output, scope, field="OutputPath")
    run.exit_state(frame, output, assigned)


def _uses_timestamp(state: State) -> bool:
    return "Timestamp" in state.raw or "TimestampPath" in state.raw


def _seconds(run: Run, frame: Frame, state: State) -> float:
    raw = state.raw
    if state.is_jsonata:
        value = dataflow.jsonata(run, frame, raw["Seconds"], "Seconds")
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or value != int(value):
            raise StatesError(
                errors.QUERY_EVALUATION_ERROR,
                f"The Seconds field must be a non-negative integer, but was: {value}",
                location="Seconds",
            )
        return float(value)
    if "Seconds" in raw:
        return float(raw["Seconds"])
    path = raw["SecondsPath"]
    value = dataflow.lookup(run, frame, path, "SecondsPath")
    shown = f"{path} == {_java_text(value)}"
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise StatesError(
            errors.RUNTIME, f"The SecondsPath parameter cannot be parsed as a long value: {shown}"
        )
    if value < 0:
        raise StatesError(errors.RUNTIME, f"The SecondsPath parameter references a negative value: {shown}")
    return float(min(value, _MAX_WAIT_SECONDS))


def _timestamp(run: Run, frame: Frame, state: State) -> float:
    raw = state.raw
    if state.is_jsonata:
        value = dataflow.jsonata(run, frame, raw["Timestamp"], "Timestamp")
        parsed = parse_timestamp(value)
        if parsed is None:
            raise StatesError(
                errors.QUERY_EVALUATION_ERROR,
                "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format "
                f"string: {value}",
                location="Timestamp",
            )
        return parsed
    if "Timestamp" in raw:
        parsed = parse_timestamp(raw["Timestamp"])
        return parsed if parsed is not None else run.now
    path = raw["TimestampPath"]
    value = dataflow.lookup(run, frame, path, "TimestampPath")
    parsed = parse_timestamp(value)
    if parsed is None:
        raise StatesError(
            errors.RUNTIME,
            "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time "
            f"format string: {path} == {_java_text(value)}",
        )
    return parsed


def _java_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_timestamp(value: Any) -> float | None:
    """RFC 3339 with a mandatory zone (Z or an offset), as Step Functions accepts; None if invalid."""
    if not isinstance(value, str) or "T" not in value:
        return None
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    date_part = text.split("T", 1)[0]
    if len(date_part) != 10:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.timestamp()
