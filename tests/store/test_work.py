"""Timers, tasks (activities and tokens) and the signals non-owners queue for an execution."""

from __future__ import annotations

from typing import Any

import pytest

from stepdance.store import (
    ExecutionDoesNotExist,
    ExecutionNotRedrivable,
    Store,
    TaskClosed,
    TaskDoesNotExist,
    TaskRecord,
)
from tests.store.factories import OWNER, create, execution_arn, step, task, timer

ACTIVITY = "arn:aws:states:us-east-1:123456789012:activity:pack"


def started(task: TaskRecord) -> dict[str, Any]:
    return {"type": "TaskStarted", "task_id": task.task_id, "worker": task.worker}


def test_timers_are_set_rescheduled_and_listed_when_due(store: Store) -> None:
    store.commit([create("e1", timers_set=[timer("e1", "a", 30.0), timer("e1", "b", 10.0)]), create("e2")])
    store.commit([step("e2", 1, first_event=2, timers_set=[timer("e2", "c", 20.0)])])
    store.commit([step("e1", 1, first_event=2, timers_set=[timer("e1", "a", 5.0)])])
    assert [(t.timer_id, t.due) for t in store.due_timers(25.0, 10)] == [("a", 5.0), ("b", 10.0), ("c", 20.0)]
    assert [t.timer_id for t in store.due_timers(25.0, 1)] == ["a"]
    assert sorted(t.timer_id for t in store.timers([execution_arn("e1")])) == ["a", "b"]


def test_a_task_is_found_by_its_token(store: Store) -> None:
    store.commit(
        [create("e1", tasks_added=[task("e1", "2", kind="callback", token="tok-1", state_name="Pay")])]
    )
    found = store.get_task("tok-1")
    assert (found.execution_arn, found.task_id, found.kind, found.state_name) == (
        execution_arn("e1"),
        "2",
        "callback",
        "Pay",
    )
    with pytest.raises(TaskDoesNotExist):
        store.get_task("tok-unknown")


def test_an_activity_task_goes_to_one_worker_oldest_first(store: Store) -> None:
    tasks = [
        task("e1", "2", kind="activity", token="t-new", resource=ACTIVITY, created=20.0),
        task("e1", "3", kind="activity", token="t-old", resource=ACTIVITY, created=10.0),
        task("e1", "4", kind="activity", token="t-other", resource=ACTIVITY + "2", created=1.0),
    ]
    store.commit([create("e1", tasks_added=tasks)])
    first = store.claim_activity_task(ACTIVITY, "w1", 50.0, started)
    second = store.claim_activity_task(ACTIVITY, "w2", 51.0, started)
    assert first is not None and second is not None
    assert (first.token, first.status, first.worker) == ("t-old", "STARTED", "w1")
    assert second.token == "t-new"
    assert store.claim_activity_task(ACTIVITY, "w3", 52.0, started) is None
    assert store.get_task("t-old").worker == "w1"
    bodies = [s.body for s in store.fetch_signals(OWNER, 10)]
    assert bodies == [started(first), started(second)]


def test_a_task_result_is_queued_once_and_the_task_stays_open_until_applied(store: Store) -> None:
    arn = execution_arn("e1")
    store.commit([create("e1", tasks_added=[task("e1", "2", kind="callback", token="tok")])])
    store.signal_task("tok", 1.0, lambda t: {"type": "TaskHeartbeat", "task_id": t.task_id}, close=False)
    answered = store.signal_task(
        "tok", 2.0, lambda t: {"type": "TaskSucceeded", "task_id": t.task_id}, close=True
    )
    assert answered.status == "ANSWERED"
    with pytest.raises(TaskClosed):
        store.signal_task("tok", 3.0, lambda t: {"type": "TaskSucceeded"}, close=True)
    with pytest.raises(TaskDoesNotExist):
        store.signal_task("nope", 3.0, lambda t: {}, close=True)
    assert [s.body["type"] for s in store.fetch_signals(OWNER, 10)] == ["TaskHeartbeat", "TaskSucceeded"]
    # A worker taking the execution over must still see the task as awaited, with its answer queued.
    assert [t.status for t in store.open_tasks([arn])] == ["ANSWERED"]
    store.commit([step("e1", 1, first_event=2, task_status={"2": "CLOSED"})])
    assert store.open_tasks([arn]) == []


def test_signals_reach_only_the_owner_and_are_consumed_by_a_commit(store: Store) -> None:
    store.commit([create("e1"), create("e2", owner="other")])
    first = store.add_signal(execution_arn("e1"), {"type": "StopRequested", "cause": "x"}, 1.0)
    store.add_signal(execution_arn("e2"), {"type": "StopRequested"}, 1.0)
    second = store.add_signal(execution_arn("e1"), {"type": "TimerFired"}, 2.0)
    mine = store.fetch_signals(OWNER, 10)
    assert [(s.id, s.body["type"]) for s in mine] == [(first, "StopRequested"), (second, "TimerFired")]
    assert mine[0].body == {"type": "StopRequested", "cause": "x"}
    assert store.fetch_signals(OWNER, 1)[0].id == first
    store.commit([step("e1", 1, first_event=2, signals_consumed=[first])])
    assert [s.id for s in store.fetch_signals(OWNER, 10)] == [second]
    with pytest.raises(ExecutionDoesNotExist):
        store.add_signal(execution_arn("nope"), {}, 1.0)


def test_only_a_failed_execution_can_be_redriven(store: Store) -> None:
    arn = execution_arn("e1")
    store.commit([create("e1")])
    with pytest.raises(ExecutionNotRedrivable):
        store.redrive_execution(
            arn, owner="b", lease_until=99.0, now=5.0, signal={"type": "RedriveRequested"}
        )
    store.commit([step("e1", 1, first_event=2, status="FAILED", error="E", cause="C", stop_date=3.0)])
    record = store.redrive_execution(
        arn, owner="b", lease_until=99.0, now=5.0, signal={"type": "RedriveRequested"}
    )
    assert (record.status, record.redrive_count, record.redrive_date, record.owner) == (
        "RUNNING",
        1,
        5.0,
        "b",
    )
    assert (record.error, record.cause, record.stop_date, record.version) == (None, None, None, 3)
    assert record.snapshot == {"step": 1}
    assert [s.body for s in store.fetch_signals("b", 10)] == [{"type": "RedriveRequested"}]
    with pytest.raises(ExecutionDoesNotExist):
        store.redrive_execution(execution_arn("x"), owner="b", lease_until=1.0, now=1.0, signal={})
