"""describe_execution: the execution's row as get_execution reads it, the snapshot possibly left out."""

from __future__ import annotations

from dataclasses import replace

import pytest

from stepdance.store import ExecutionDoesNotExist, Store
from tests.store.factories import create, execution_arn, step


def test_a_described_execution_is_the_read_one_but_for_the_snapshot(store: Store) -> None:
    store.commit([create("e1", events=2)])
    store.commit([step("e1", 1, first_event=3, status="SUCCEEDED", output='{"ok":1}', stop_date=9.0)])
    described = store.describe_execution(execution_arn("e1"))
    read = store.get_execution(execution_arn("e1"))
    assert described.snapshot in (None, read.snapshot)
    assert replace(described, snapshot=None) == replace(read, snapshot=None)
    assert (described.status, described.output, described.version) == ("SUCCEEDED", '{"ok":1}', 2)


def test_an_unknown_execution_cannot_be_described(store: Store) -> None:
    with pytest.raises(ExecutionDoesNotExist):
        store.describe_execution(execution_arn("nope"))
