"""The batched write path: many executions' changes in one transaction, optimistic checks per change."""

from __future__ import annotations

import pytest

from stepdance.store import (
    ConflictError,
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    LeaseLost,
    Store,
)
from tests.store.factories import create, event, execution_arn, step, task, timer


def history_ids(store: Store, name: str) -> list[int]:
    return [e["id"] for e in store.get_history(execution_arn(name), 1000).items]


def test_a_new_execution_reads_back_with_its_snapshot_and_events(store: Store) -> None:
    assert store.commit([create("e1", events=3)]) == [None]
    record = store.get_execution(execution_arn("e1"))
    assert (record.status, record.version, record.last_event_id) == ("RUNNING", 1, 3)
    assert record.snapshot == {"step": 0}
    assert record.input == '{"n":1}'
    assert history_ids(store, "e1") == [1, 2, 3]
    assert store.get_history(execution_arn("e1"), 10).items[0] == event(1)


def test_an_unknown_execution_does_not_exist(store: Store) -> None:
    with pytest.raises(ExecutionDoesNotExist):
        store.get_execution(execution_arn("nope"))
    with pytest.raises(ExecutionDoesNotExist):
        store.get_history(execution_arn("nope"), 10)


def test_each_change_moves_the_version_by_one(store: Store) -> None:
    store.commit([create("e1")])
    assert store.commit([step("e1", 1, first_event=2)]) == [None]
    assert store.commit([step("e1", 2, first_event=3, snapshot={"step": "two"})]) == [None]
    record = store.get_execution(execution_arn("e1"))
    assert (record.version, record.snapshot, record.last_event_id) == (3, {"step": "two"}, 3)


def test_a_stale_version_is_refused_and_writes_nothing(store: Store) -> None:
    store.commit([create("e1")])
    results = store.commit([step("e1", 5, first_event=2, tasks_added=[task("e1", "2")])])
    assert isinstance(results[0], ConflictError)
    assert not isinstance(results[0], LeaseLost)
    assert history_ids(store, "e1") == [1]
    assert store.open_tasks([execution_arn("e1")]) == []


def test_another_owner_cannot_write(store: Store) -> None:
    store.commit([create("e1", owner="a")])
    (result,) = store.commit([step("e1", 1, first_event=2, owner="b")])
    assert isinstance(result, LeaseLost)
    assert store.get_execution(execution_arn("e1")).version == 1


def test_a_refused_change_does_not_stop_the_rest_of_the_batch(store: Store) -> None:
    store.commit([create("e1"), create("e2")])
    results = store.commit([step("e1", 9, first_event=2), step("e2", 1, first_event=2), create("e3")])
    assert isinstance(results[0], ConflictError)
    assert results[1:] == [None, None]
    assert history_ids(store, "e2") == [1, 2]
    assert store.get_execution(execution_arn("e3")).version == 1


def test_an_execution_name_is_taken_once(store: Store) -> None:
    store.commit([create("e1")])
    (again,) = store.commit([create("e1", events=2)])
    assert isinstance(again, ExecutionAlreadyExists)
    first, second = store.commit([create("e2"), create("e2")])
    assert first is None
    assert isinstance(second, ExecutionAlreadyExists)
    assert history_ids(store, "e1") == [1]


def test_changes_to_one_execution_in_one_batch_apply_in_order(store: Store) -> None:
    batch = [
        create("e1", timers_set=[timer("e1", "wait", 50.0)]),
        step("e1", 1, first_event=2, timers_set=[timer("e1", "wait", 70.0)], tasks_added=[task("e1", "2")]),
        step("e1", 2, first_event=3, timers_deleted=["wait"], task_status={"2": "STARTED"}),
        step("e1", 3, first_event=4, snapshot={"step": "last"}),
    ]
    assert store.commit(batch) == [None] * 4
    record = store.get_execution(execution_arn("e1"))
    assert (record.version, record.snapshot, record.last_event_id) == (4, {"step": "last"}, 4)
    assert history_ids(store, "e1") == [1, 2, 3, 4]
    assert store.timers([record.arn]) == []
    assert [(t.task_id, t.status) for t in store.open_tasks([record.arn])] == [("2", "STARTED")]


def test_a_terminal_change_records_the_outcome_and_clears_pending_work(store: Store) -> None:
    arn = execution_arn("e1")
    store.commit(
        [
            create(
                "e1",
                timers_set=[timer("e1", "t", 10.0)],
                tasks_added=[task("e1", "2"), task("e1", "3", kind="callback", token="tok-3")],
            )
        ]
    )
    store.add_signal(arn, {"type": "StopRequested"}, 5.0)
    finish = step("e1", 1, first_event=2, status="SUCCEEDED", output='{"ok":true}', stop_date=20.0)
    assert store.commit([finish]) == [None]
    record = store.get_execution(arn)
    assert (record.status, record.output, record.stop_date, record.error) == (
        "SUCCEEDED",
        '{"ok":true}',
        20.0,
        None,
    )
    assert store.timers([arn]) == []
    assert store.open_tasks([arn]) == []
    assert store.get_task("tok-3").status == "CLOSED"
    assert store.fetch_signals("worker-a", 10) == []


def test_work_added_by_the_batch_that_finishes_the_execution_is_cleared_too(store: Store) -> None:
    arn = execution_arn("e1")
    added = {"tasks_added": [task("e1", "2"), task("e1", "3", kind="callback", token="tok-3")]}
    batch = [
        create("e1", **added, timers_set=[timer("e1", "t", 10.0)]),
        step("e1", 1, first_event=2, status="ABORTED", stop_date=20.0),
    ]
    assert store.commit(batch) == [None, None]
    assert store.timers([arn]) == []
    assert store.open_tasks([arn]) == []
    assert store.get_task("tok-3").status == "CLOSED"


def test_a_failure_keeps_its_error_and_cause(store: Store) -> None:
    store.commit([create("e1")])
    store.commit(
        [step("e1", 1, first_event=2, status="FAILED", error="States.Timeout", cause="late", stop_date=3.0)]
    )
    record = store.get_execution(execution_arn("e1"))
    assert (record.status, record.error, record.cause, record.output) == (
        "FAILED",
        "States.Timeout",
        "late",
        None,
    )


def test_a_side_change_updates_a_task_without_a_version_check(store: Store) -> None:
    store.commit([create("e1", tasks_added=[task("e1", "2", kind="callback", token="tok")])])
    side = step("e1", 0, first_event=0, events=[], task_status={"2": "SUBMITTED"})
    side.version, side.snapshot, side.status = None, None, None
    assert store.commit([side]) == [None]
    assert store.get_task("tok").status == "SUBMITTED"
    assert store.get_execution(execution_arn("e1")).version == 1


def test_a_task_deleted_in_the_batch_that_added_it_never_appears(store: Store) -> None:
    store.commit(
        [create("e1", tasks_added=[task("e1", "2")]), step("e1", 1, first_event=2, tasks_deleted=["2"])]
    )
    assert store.open_tasks([execution_arn("e1")]) == []
    store.commit([step("e1", 2, first_event=3, tasks_added=[task("e1", "3")])])
    store.commit([step("e1", 3, first_event=4, tasks_deleted=["3"])])
    assert store.open_tasks([execution_arn("e1")]) == []


def test_an_empty_batch_is_a_no_op(store: Store) -> None:
    assert store.commit([]) == []
