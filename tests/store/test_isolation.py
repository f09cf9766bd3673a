"""What a store hands out and takes in is never shared with it: changing it afterwards changes nothing stored."""

from __future__ import annotations

from stepdance.store import Store
from tests.store.factories import OWNER, create, event, execution_arn, step


def test_changing_a_history_page_changes_neither_the_store_nor_the_other_events(store: Store) -> None:
    shared = {"truncated": False}  # the interpreter shares constant parts between events like this
    events = [event(i, details={"name": f"s{i}", "inputDetails": shared}) for i in (1, 2)]
    change = create("e1", events=0)
    change.events = events
    store.commit([change])
    first, second = store.get_history(execution_arn("e1"), 10).items
    first["details"]["inputDetails"]["truncated"] = True
    first["type"] = "Changed"
    assert second["details"]["inputDetails"] == {"truncated": False}
    assert store.get_history(execution_arn("e1"), 10).items == events


def test_changing_what_was_committed_changes_nothing_stored(store: Store) -> None:
    change = create("e1", events=2)
    snapshot = {"frames": {"r": {"input": {"n": 1}}}}
    change.snapshot = snapshot
    store.commit([change])
    change.events[0]["type"] = "Changed"
    snapshot["frames"]["r"]["input"]["n"] = 2
    assert store.get_history(execution_arn("e1"), 10).items[0]["type"] == "PassStateEntered"
    assert store.get_execution(execution_arn("e1")).snapshot == {"frames": {"r": {"input": {"n": 1}}}}


def test_changing_a_read_snapshot_changes_nothing_stored(store: Store) -> None:
    store.commit([create("e1")])
    record = store.get_execution(execution_arn("e1"))
    assert record.snapshot is not None
    record.snapshot["step"] = "mine"
    record.status = "FAILED"
    again = store.get_execution(execution_arn("e1"))
    assert (again.snapshot, again.status) == ({"step": 0}, "RUNNING")


def test_history_pages_span_many_commits_both_ways(store: Store) -> None:
    store.commit([create("e1", events=2)])
    for version, first in enumerate(range(3, 13, 2), start=1):
        change = step("e1", version, first_event=first, events=[event(first), event(first + 1)])
        assert store.commit([change]) == [None]
    arn = execution_arn("e1")
    forwards, token = [], None
    while True:
        page = store.get_history(arn, 5, token)
        forwards.append([e["id"] for e in page.items])
        if (token := page.next_token) is None:
            break
    assert forwards == [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [11, 12]]
    backwards = store.get_history(arn, 3, store.get_history(arn, 4, reverse=True).next_token, reverse=True)
    assert [e["id"] for e in backwards.items] == [8, 7, 6]
    assert store.get_execution(arn).last_event_id == 12
    assert store.get_execution(arn).owner == OWNER
