"""The dashboard's pure shaping: an execution's history as a row per state, and the timelines' SVG."""

from __future__ import annotations

from typing import Any

from stepdance.api.dashboard import views


def entered(name: str, at: float, kind: str = "Task") -> dict[str, Any]:
    return {
        "type": f"{kind}StateEntered",
        "timestamp": at,
        "stateEnteredEventDetails": {"name": name, "input": '{"a":1}'},
    }


def exited(name: str, at: float, kind: str = "Task") -> dict[str, Any]:
    return {
        "type": f"{kind}StateExited",
        "timestamp": at,
        "stateExitedEventDetails": {"name": name, "output": "{}"},
    }


def failed(at: float, error: str = "ServiceUnavailable") -> dict[str, Any]:
    return {
        "type": "TaskFailed",
        "timestamp": at,
        "taskFailedEventDetails": {"error": error, "cause": "down"},
    }


def test_states_are_rows_with_their_tries_failures_and_times() -> None:
    history = [
        {"type": "ExecutionStarted", "timestamp": 0.0},
        entered("Charge", 1.0),
        {"type": "TaskScheduled", "timestamp": 1.0},
        failed(1.1),
        {"type": "TaskScheduled", "timestamp": 2.0},
        {"type": "TaskSucceeded", "timestamp": 2.1},
        exited("Charge", 2.2),
        entered("Reserve", 2.3),
        {"type": "TaskScheduled", "timestamp": 2.3},
        failed(2.4, "OutOfStock"),
        {"type": "ExecutionFailed", "timestamp": 2.5, "executionFailedEventDetails": {"error": "OutOfStock"}},
    ]
    charge, reserve = views.state_rows(history)
    assert (charge.name, charge.kind, charge.status, charge.attempts) == ("Charge", "Task", "retried", 2)
    assert charge.failures == ["ServiceUnavailable: down"] and charge.seconds is not None
    assert round(charge.seconds, 3) == 1.2 and '"a": 1' in charge.input
    assert (reserve.status, reserve.error, reserve.exited) == ("failed", "OutOfStock", None)


def test_a_running_state_stays_running_and_a_loop_has_a_row_per_entry() -> None:
    history = [
        entered("Wait", 0.0, "Wait"),
        exited("Wait", 1.0, "Wait"),
        entered("Wait", 1.5, "Wait"),
    ]
    first, second = views.state_rows(history)
    assert (first.status, second.status) == ("succeeded", "running")
    picture = views.timeline_svg([first, second], now=2.0)
    assert picture.count("<rect") == 2 and "2000 ms" in picture


def test_the_svgs_escape_names_and_steps() -> None:
    rows = views.state_rows([entered("<b>x</b>", 0.0), exited("<b>x</b>", 0.5)])
    assert "<b>" not in views.timeline_svg(rows, now=1.0)
    steps = [{"at": 0.0, "where": "<i>bus</i>", "what": "deliver failed: <script>"}]
    picture = views.steps_svg(steps)
    assert "<script>" not in picture and "&lt;script&gt;" in picture and 'class="dot failed"' in picture
