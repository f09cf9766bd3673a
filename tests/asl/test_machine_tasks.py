"""The transition function with Task states: handlers, Retry, Catch, timeouts, heartbeats, callbacks.

The corpus holds no Task executions (they need AWS services), so these pin down what Step Functions
documents for them, on the in-memory driver.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from stepdance.asl import machine
from stepdance.asl.definition import Definition
from stepdance.asl.protocol import (
    InvokeTask,
    StartTimer,
    StopRequested,
    TaskFailed,
    TaskHeartbeat,
    TaskStarted,
    TaskSucceeded,
    TimerFired,
)
from stepdance.asl.simulate import HandlerError, info_for, run


def saga(**task_fields: Any) -> Definition:
    return Definition.parse(
        {
            "StartAt": "Charge",
            "States": {
                "Charge": {
                    "Type": "Task",
                    "Resource": "charge",
                    "ResultPath": "$.payment",
                    "Next": "Reserve",
                    **task_fields,
                },
                "Reserve": {
                    "Type": "Task",
                    "Resource": "reserve",
                    "ResultPath": "$.reservation",
                    "Catch": [{"ErrorEquals": ["OutOfStock"], "ResultPath": "$.error", "Next": "Refund"}],
                    "Next": "Notify",
                },
                "Refund": {"Type": "Task", "Resource": "refund", "ResultPath": None, "Next": "Cancelled"},
                "Cancelled": {"Type": "Fail", "Error": "OrderCancelled", "Cause": "out of stock"},
                "Notify": {"Type": "Task", "Resource": "notify", "ResultPath": None, "End": True},
            },
        }
    )


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


def test_three_tasks_succeed_and_record_aws_task_events() -> None:
    handlers = {
        "charge": lambda p: {"charged": p["amount"]},
        "reserve": lambda p: {"reserved": True},
        "notify": lambda p: None,
    }
    out = run(saga(), json.dumps({"amount": 10}), handlers=handlers)
    assert out.status == "SUCCEEDED"
    assert json.loads(out.output or "") == {
        "amount": 10,
        "payment": {"charged": 10},
        "reservation": {"reserved": True},
    }
    assert types(out.events)[:6] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
    ]
    ids = [e["id"] for e in out.events]
    assert ids == list(range(1, len(ids) + 1))
    assert all(e["previousEventId"] < e["id"] for e in out.events)


def test_catch_runs_the_compensation_and_fails_the_order() -> None:
    def reserve(_: Any) -> Any:
        raise HandlerError("OutOfStock", "sku-1 has 0 left")

    refunds: list[Any] = []
    handlers = {"charge": lambda p: {"ok": 1}, "reserve": reserve, "refund": refunds.append}
    out = run(saga(), "{}", handlers=handlers)
    assert out.status == "FAILED"
    assert (out.error, out.cause) == ("OrderCancelled", "out of stock")
    assert refunds == [{"payment": {"ok": 1}, "error": {"Error": "OutOfStock", "Cause": "sku-1 has 0 left"}}]


def test_retry_backs_off_then_succeeds() -> None:
    calls: list[float] = []

    def flaky(_: Any) -> Any:
        calls.append(1)
        if len(calls) < 3:
            raise HandlerError("Busy")
        return {"ok": True}

    retry = [{"ErrorEquals": ["Busy"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 5}]
    handlers = {"charge": flaky, "reserve": lambda p: 1, "notify": lambda p: 1}
    out = run(saga(Retry=retry), "{}", handlers=handlers)
    assert out.status == "SUCCEEDED"
    assert len(calls) == 3
    charge = [e for e in out.events if e["type"] in ("TaskScheduled", "TaskFailed")][:5]
    assert types(charge) == ["TaskScheduled", "TaskFailed", "TaskScheduled", "TaskFailed", "TaskScheduled"]
    gaps = [b["timestamp"] - a["timestamp"] for a, b in zip(charge[1::2], charge[2::2], strict=False)]
    assert gaps == [2.0, 6.0]


def test_retries_exhausted_fail_the_execution_with_the_task_error() -> None:
    def down(_: Any) -> Any:
        raise HandlerError("Down", "still down")

    retry = [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 2}]
    out = run(saga(Retry=retry), "{}", handlers={"charge": down})
    assert (out.status, out.error, out.cause) == ("FAILED", "Down", "still down")
    assert types(out.events).count("TaskScheduled") == 3


def test_states_all_does_not_catch_data_limit_exceeded() -> None:
    big = "x" * 300_000
    definition = Definition.parse(
        {
            "StartAt": "Big",
            "States": {
                "Big": {
                    "Type": "Task",
                    "Resource": "big",
                    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                    "End": True,
                },
                "Caught": {"Type": "Succeed"},
            },
        }
    )
    out = run(definition, "{}", handlers={"big": lambda p: big})
    assert (out.status, out.error) == ("FAILED", "States.DataLimitExceeded")


def _drive(definition: Definition, signals: list[Any]) -> tuple[machine.Step, list[InvokeTask]]:
    """Start, then feed signals (callables of the last invoke get the task id)."""
    step = machine.start(definition, info_for(), "{}", 100.0)
    invokes = [c for c in step.commands if isinstance(c, InvokeTask)]
    now = 100.0
    for make in signals:
        now += 1
        step = machine.advance(definition, step.state, make(invokes[-1]), now)
        invokes += [c for c in step.commands if isinstance(c, InvokeTask)]
    return step, invokes


def one_task(**fields: Any) -> Definition:
    return Definition.parse(
        {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "work", "End": True, **fields}}}
    )


def test_timeout_seconds_fails_with_states_timeout() -> None:
    definition = one_task(TimeoutSeconds=5)
    step = machine.start(definition, info_for(), "{}", 100.0)
    timer = next(c for c in step.commands if isinstance(c, StartTimer))
    assert timer.due == 105.0
    step = machine.advance(definition, step.state, TimerFired(timer.timer_id), 105.0)
    assert step.status == "FAILED"
    assert types(step.events) == ["TaskTimedOut", "ExecutionFailed"]
    assert step.events[-1]["executionFailedEventDetails"]["error"] == "States.Timeout"


def test_a_heartbeat_pushes_the_heartbeat_deadline_back() -> None:
    definition = one_task(TimeoutSeconds=100, HeartbeatSeconds=10)
    step, _ = _drive(definition, [lambda t: TaskHeartbeat(t.task_id)])
    rearmed = [c for c in step.commands if isinstance(c, StartTimer)]
    assert [c.due for c in rearmed] == [111.0]
    step = machine.advance(definition, step.state, TimerFired(rearmed[0].timer_id), 111.0)
    assert step.events[-1]["executionFailedEventDetails"]["error"] == "States.HeartbeatTimeout"


def test_a_late_result_after_the_timeout_is_ignored() -> None:
    definition = one_task(TimeoutSeconds=5)
    step = machine.start(definition, info_for(), "{}", 100.0)
    invoke = next(c for c in step.commands if isinstance(c, InvokeTask))
    timer = next(c for c in step.commands if isinstance(c, StartTimer))
    step = machine.advance(definition, step.state, TimerFired(timer.timer_id), 105.0)
    late = machine.advance(definition, step.state, TaskSucceeded(invoke.task_id, "{}"), 106.0)
    assert late.events == [] and late.status == "FAILED"


def test_activity_records_activity_events_and_the_worker_name() -> None:
    arn = "arn:aws:states:us-east-1:123456789012:activity:pack"
    definition = one_task(Resource=arn)
    step, invokes = _drive(
        definition,
        [lambda t: TaskStarted(t.task_id, "worker-1"), lambda t: TaskSucceeded(t.task_id, '{"packed": 1}')],
    )
    assert invokes[0].kind == "activity" and invokes[0].token
    assert step.status == "SUCCEEDED"
    assert json.loads(step.state["output"]) == {"packed": 1}


def test_wait_for_task_token_exposes_the_token_to_parameters() -> None:
    definition = one_task(
        Resource="arn:aws:states:::sqs:sendMessage.waitForTaskToken", Parameters={"t.$": "$$.Task.Token"}
    )
    step, invokes = _drive(definition, [lambda t: TaskFailed(t.task_id, "Rejected", "no")])
    assert invokes[0].kind == "callback"
    assert invokes[0].payload == {"t": invokes[0].token}
    assert (step.status, step.state["error"]) == ("FAILED", "Rejected")


def test_stop_aborts_and_cancels_the_task() -> None:
    definition = one_task()
    step = machine.start(definition, info_for(), "{}", 100.0)
    step = machine.advance(definition, step.state, StopRequested("Stopped", "by operator"), 101.0)
    assert step.status == "ABORTED"
    assert types(step.events) == ["ExecutionAborted"]


def test_same_inputs_give_the_same_step() -> None:
    definition = saga()
    first = machine.start(definition, info_for(), '{"a": 1}', 100.0)
    second = machine.start(definition, info_for(), '{"a": 1}', 100.0)
    assert first.events == second.events and first.state == second.state


@pytest.mark.parametrize("fail_at", ["Charge", "Reserve"])
def test_redrive_resumes_from_the_failed_state(fail_at: str) -> None:
    definition = saga()
    step = machine.start(definition, info_for(), "{}", 100.0)
    invoke = next(c for c in step.commands if isinstance(c, InvokeTask))
    if fail_at == "Reserve":
        step = machine.advance(definition, step.state, TaskSucceeded(invoke.task_id, "{}"), 101.0)
        invoke = next(c for c in step.commands if isinstance(c, InvokeTask))
    step = machine.advance(definition, step.state, TaskFailed(invoke.task_id, "Boom"), 102.0)
    assert step.status == "FAILED"
    from stepdance.asl.protocol import RedriveRequested

    step = machine.advance(definition, step.state, RedriveRequested(), 103.0)
    assert step.status == "RUNNING"
    assert step.events[0]["type"] == "ExecutionRedriven"
    assert step.events[1]["stateEnteredEventDetails"]["name"] == fail_at


def test_an_endless_loop_fails_at_the_25000th_event() -> None:
    definition = Definition.parse(
        {
            "StartAt": "A",
            "States": {
                "A": {"Type": "Pass", "Next": "B"},
                "B": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.stop", "IsPresent": False, "Next": "A"}],
                    "Default": "Done",
                },
                "Done": {"Type": "Succeed"},
            },
        }
    )
    out = run(definition, "{}")
    assert (out.status, out.error) == ("FAILED", "States.Runtime")
    assert out.events[-1]["id"] == 25_000 and out.events[-1]["type"] == "ExecutionFailed"


def test_an_aborted_execution_can_be_redriven() -> None:
    from stepdance.asl.protocol import RedriveRequested

    definition = one_task()
    step = machine.start(definition, info_for(), "{}", 100.0)
    step = machine.advance(definition, step.state, StopRequested(), 101.0)
    step = machine.advance(definition, step.state, RedriveRequested(), 102.0)
    assert step.status == "RUNNING"
    assert [e["type"] for e in step.events][:3] == ["ExecutionRedriven", "TaskStateEntered", "TaskScheduled"]


def test_the_lazily_seeded_source_draws_what_a_seeded_random_draws() -> None:
    import random

    from stepdance.asl.scope import LazyRandom

    lazy, eager = LazyRandom(2026), random.Random(2026)
    assert [lazy.random(), lazy.getrandbits(70), lazy.randint(1, 6)] == [
        eager.random(),
        eager.getrandbits(70),
        eager.randint(1, 6),
    ]
