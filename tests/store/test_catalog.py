"""State machines (with revisions) and activities, on every backend."""

from __future__ import annotations

import pytest

from stepdance.store import (
    ActivityAlreadyExists,
    ActivityDoesNotExist,
    ActivityRecord,
    InvalidPageToken,
    StateMachineAlreadyExists,
    StateMachineDoesNotExist,
    Store,
)
from tests.store.factories import machine


def test_a_state_machine_reads_back_as_created(store: Store) -> None:
    record = machine()
    store.create_state_machine(record)
    assert store.get_state_machine(record.arn) == record


def test_creating_a_state_machine_twice_is_refused(store: Store) -> None:
    store.create_state_machine(machine())
    with pytest.raises(StateMachineAlreadyExists):
        store.create_state_machine(machine(revision="r2"))


def test_an_unknown_state_machine_does_not_exist(store: Store) -> None:
    with pytest.raises(StateMachineDoesNotExist):
        store.get_state_machine(machine().arn)
    with pytest.raises(StateMachineDoesNotExist):
        store.update_state_machine(
            machine().arn, definition="{}", role_arn="r", revision_id="r2", update_date=1.0
        )


def test_an_update_makes_a_new_revision_and_keeps_the_old_one(store: Store) -> None:
    first = machine(definition='{"v":1}')
    store.create_state_machine(first)
    updated = store.update_state_machine(
        first.arn, definition='{"v":2}', role_arn="arn:role/new", revision_id="r2", update_date=2000.0
    )
    assert (updated.definition, updated.revision_id, updated.update_date) == ('{"v":2}', "r2", 2000.0)
    assert store.get_state_machine(first.arn) == updated
    assert store.get_revision(first.arn, "r1").definition == '{"v":1}'
    assert store.get_revision(first.arn, "r2").role_arn == "arn:role/new"


def test_revisions_outlive_a_deleted_state_machine(store: Store) -> None:
    record = machine()
    store.create_state_machine(record)
    store.delete_state_machine(record.arn)
    store.delete_state_machine(record.arn)  # deleting again is not an error
    with pytest.raises(StateMachineDoesNotExist):
        store.get_state_machine(record.arn)
    assert store.get_revision(record.arn, "r1").definition == record.definition
    with pytest.raises(StateMachineDoesNotExist):
        store.get_revision(record.arn, "r9")


def test_state_machines_list_by_name_in_pages(store: Store) -> None:
    names = [f"m{i:02d}" for i in range(7)]
    for name in reversed(names):
        store.create_state_machine(machine(name))
    seen: list[str] = []
    token = None
    while True:
        page = store.list_state_machines(3, token)
        seen += [m.name for m in page.items]
        if page.next_token is None:
            break
        token = page.next_token
    assert seen == names


def test_a_foreign_page_token_is_invalid(store: Store) -> None:
    with pytest.raises(InvalidPageToken):
        store.list_state_machines(3, "not-a-token")
    store.create_state_machine(machine("a"))
    store.create_state_machine(machine("b"))
    token = store.list_state_machines(1).next_token
    assert token is not None
    with pytest.raises(InvalidPageToken):
        store.list_activities(1, token)


def test_activities_are_created_listed_and_deleted(store: Store) -> None:
    arns = [f"arn:aws:states:us-east-1:123456789012:activity:a{i}" for i in range(3)]
    for i, arn in enumerate(arns):
        store.create_activity(ActivityRecord(arn, f"a{i}", 10.0 + i))
    with pytest.raises(ActivityAlreadyExists):
        store.create_activity(ActivityRecord(arns[0], "a0", 99.0))
    assert store.get_activity(arns[1]) == ActivityRecord(arns[1], "a1", 11.0)
    first = store.list_activities(2)
    assert [a.name for a in first.items] == ["a0", "a1"]
    assert [a.name for a in store.list_activities(2, first.next_token).items] == ["a2"]
    store.delete_activity(arns[0])
    with pytest.raises(ActivityDoesNotExist):
        store.get_activity(arns[0])
