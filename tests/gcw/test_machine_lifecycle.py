"""An execution's life: stop, redrive, determinism, and a snapshot that is JSON between transitions."""

from __future__ import annotations

import json

from stepdance.asl.protocol import (
    CancelTask,
    CancelTimer,
    Finish,
    RedriveRequested,
    StopRequested,
    TaskFailed,
    TaskHeartbeat,
    TaskStarted,
    TaskSucceeded,
    TimerFired,
)
from stepdance.gcw import machine
from stepdance.gcw.expr import FunctionRef
from stepdance.gcw.machine_state import decode, encode
from stepdance.gcw.simulate import START, info_for
from tests.gcw.test_machine_support import Drive, example, run

WAITS = """
main:
  steps:
    - init:
        assign:
          - count: 1
    - nap:
        call: sys.sleep
        args: {seconds: 30}
    - fetch:
        call: sub
        result: r
    - done:
        return: ${count + r}
sub:
  steps:
    - get:
        call: http.get
        args: {url: "https://example.com/n"}
        result: answer
    - back:
        return: ${answer.body}
"""


def _http_error(code: int) -> str:
    return json.dumps(
        {"code": code, "message": f"HTTP server responded with error code {code}", "tags": ["HttpError"]}
    )


def test_stop_cancels_what_is_pending_and_aborts() -> None:
    drive = Drive(WAITS)
    [timer] = drive.timers()
    drive.send(TimerFired(timer.timer_id), at=timer.due)
    [task] = drive.tasks()
    step = drive.send(StopRequested(error="Stopped", cause="by a test"))
    assert step.status == "ABORTED"
    assert CancelTask(task.task_id) in step.commands
    assert CancelTimer(f"{task.task_id}#timeout") in step.commands
    assert step.commands[-1] == Finish("ABORTED", error="Stopped", cause="by a test")
    cancelled = [e["stepEntryDetails"]["step"] for e in step.events if e["type"] == "StepEntryCancelled"]
    assert cancelled == ["get", "fetch"]
    assert step.events[-1]["type"] == "ExecutionAborted"
    # a stopped execution takes no more signals
    late = drive.send(TaskSucceeded(task.task_id, json.dumps({"code": 200, "body": 1})))
    assert (late.status, late.events, late.commands) == ("ABORTED", [], [])


def test_stop_at_on_the_virtual_clock() -> None:
    stopped = run(WAITS, stop_at=START + 10)
    assert stopped.status == "ABORTED"
    assert stopped.events[-1]["timestamp"] == START + 10


def test_redrive_runs_the_failed_step_again_with_the_variables_it_had() -> None:
    drive = Drive(WAITS)
    [timer] = drive.timers()
    drive.send(TimerFired(timer.timer_id), at=timer.due)
    [task] = drive.tasks()
    failed = drive.send(TaskFailed(task.task_id, "HttpError", _http_error(503)))
    assert (failed.status, failed.state["error"]) == ("FAILED", "HttpError")
    redriven = drive.send(RedriveRequested())
    assert redriven.status == "RUNNING"
    assert redriven.events[0]["type"] == "ExecutionRedriven"
    assert redriven.state["info"]["redrive_count"] == 1
    [again] = drive.tasks()  # the call in the subworkflow, not the sleep before it
    assert again.payload["url"] == "https://example.com/n" and again.task_id != task.task_id
    done = drive.send(TaskSucceeded(again.task_id, json.dumps({"code": 200, "headers": {}, "body": 41})))
    assert (done.status, json.loads(done.state["output"])) == ("SUCCEEDED", 42)
    assert drive.send(RedriveRequested()).status == "SUCCEEDED"  # nothing to redrive


def test_redrive_after_the_retries_of_a_try_ran_out() -> None:
    drive = Drive(
        """
- call:
    try:
      call: http.get
      args: {url: "https://example.com/flaky"}
      result: r
    retry:
      predicate: ${retry.always}
      max_retries: 1
      backoff: {initial_delay: 1, max_delay: 1, multiplier: 1}
- done:
    return: ${r.body}
"""
    )
    [first] = drive.tasks()
    drive.send(TaskFailed(first.task_id, "HttpError", _http_error(503)))
    [timer] = drive.timers()
    drive.send(TimerFired(timer.timer_id), at=timer.due)
    [second] = drive.tasks()
    assert drive.send(TaskFailed(second.task_id, "HttpError", _http_error(503))).status == "FAILED"
    drive.send(RedriveRequested())
    [third] = drive.tasks()
    done = drive.send(TaskSucceeded(third.task_id, json.dumps({"code": 200, "headers": {}, "body": "ok"})))
    assert (done.status, done.state["output"]) == ("SUCCEEDED", '"ok"')


def test_redrive_after_a_stop_sleeps_again() -> None:
    drive = Drive(WAITS)
    drive.send(StopRequested())
    step = drive.send(RedriveRequested(), at=START + 100)
    [timer] = drive.timers()
    assert step.status == "RUNNING" and timer.due == START + 130


def test_signals_that_change_nothing() -> None:
    drive = Drive(WAITS)
    before = json.dumps(drive.last.state)
    for signal in (TaskStarted("nope"), TaskHeartbeat("nope"), TimerFired("nope"), TaskSucceeded("9", "1")):
        step = drive.send(signal)
        assert (step.events, step.commands, json.dumps(step.state)) == ([], [], before)


def test_the_same_inputs_give_the_same_steps() -> None:
    text = """
- make:
    assign:
      - id: ${uuid.generate()}
      - policy: ${http.default_retry}
- wait:
    call: sys.sleep
    args: {seconds: 2}
- call:
    try:
      call: http.get
      args: {url: '${"https://example.com/" + id}'}
    retry: ${policy}
- done:
    return: ${id}
"""
    first, second = run(text, http=lambda r: {"code": 503}), run(text, http=lambda r: {"code": 503})
    assert first.events == second.events and first.state == second.state
    assert first.cause == second.cause and first.error == "HttpError"
    assert len([e for e in first.events if e["type"] == "TaskScheduled"]) == 6  # the policy kept its kind
    drive = Drive(text)
    [timer] = drive.timers()
    state = json.dumps(drive.last.state)
    one = machine.advance(drive.definition, json.loads(state), TimerFired(timer.timer_id), timer.due)
    two = machine.advance(drive.definition, json.loads(state), TimerFired(timer.timer_id), timer.due)
    assert (one.events, one.state, one.commands) == (two.events, two.state, two.commands)


def test_the_snapshot_escapes_what_json_cannot_hold() -> None:
    values = {
        "raw": b"\x00\xffbytes",
        "fn": FunctionRef("http.default_retry_predicate"),
        "\x00tricky": {"\x00b": "not bytes"},
        "plain": [1, 2.5, None, True, "x"],
    }
    text = json.dumps(encode(values))
    assert decode(json.loads(text)) == values
    drive = Drive(
        '- a:\n    assign:\n      - raw: ${text.encode("x")}\n- s:\n    call: sys.sleep\n    args: {seconds: 1}\n'
    )
    assert drive.last.state["codec"] is True
    assert json.loads(json.dumps(drive.last.state)) == drive.last.state


def test_an_argument_that_is_not_json_fails_the_execution() -> None:
    step = machine.start(example("loops"), info_for(), "{not json", START)
    assert (step.status, step.state["error"]) == ("FAILED", "ValueError")
    assert [e["type"] for e in step.events] == ["ExecutionStarted", "ExecutionFailed"]
