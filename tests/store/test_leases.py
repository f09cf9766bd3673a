"""Leases: a worker owns the executions it advances; expired leases are taken over."""

from __future__ import annotations

from stepdance.store import Store
from tests.store.factories import create, execution_arn, step


def test_only_expired_or_unowned_running_executions_are_claimed(store: Store) -> None:
    store.commit(
        [
            create("live", owner="a", lease_until=100.0),
            create("expired", owner="a", lease_until=40.0),
            create("unowned", owner=None, lease_until=0.0),
            create("done", owner="a", lease_until=10.0, status="SUCCEEDED"),
        ]
    )
    claimed = store.claim_executions("b", now=50.0, lease_until=60.0, limit=10)
    assert sorted(e.name for e in claimed) == ["expired", "unowned"]
    record = next(e for e in claimed if e.name == "expired")
    assert (record.owner, record.lease_until, record.version, record.snapshot) == ("b", 60.0, 2, {"step": 0})
    assert store.claim_executions("c", now=50.0, lease_until=60.0, limit=10) == []


def test_claims_take_the_longest_expired_first_up_to_the_limit(store: Store) -> None:
    store.commit([create(f"e{i}", owner="a", lease_until=float(10 - i)) for i in range(5)])
    assert sorted(e.name for e in store.claim_executions("b", 50.0, 60.0, 2)) == ["e3", "e4"]


def test_the_old_owner_cannot_write_after_a_takeover(store: Store) -> None:
    store.commit([create("e1", owner="a", lease_until=1.0)])
    store.claim_executions("b", now=2.0, lease_until=10.0, limit=5)
    (result,) = store.commit([step("e1", 1, first_event=2, owner="a")])
    assert type(result).__name__ == "LeaseLost"
    assert store.commit([step("e1", 2, first_event=2, owner="b")]) == [None]


def test_renewal_keeps_a_lease_and_release_gives_it_up(store: Store) -> None:
    store.commit([create("e1", owner="a", lease_until=10.0), create("e2", owner="a", lease_until=10.0)])
    assert store.renew_leases("a", 100.0) == 2
    assert store.claim_executions("b", now=50.0, lease_until=60.0, limit=10) == []
    assert store.release_leases("a", [execution_arn("e1")]) == 1
    assert [e.name for e in store.claim_executions("b", now=50.0, lease_until=60.0, limit=10)] == ["e1"]
    assert store.release_leases("a") == 1
    assert store.get_execution(execution_arn("e2")).owner is None
