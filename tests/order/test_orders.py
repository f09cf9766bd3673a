from __future__ import annotations

import pytest

from stepdance.order import Orders, UnknownOrder, percentile
from tests.order.conftest import Backend
from tests.order.helpers import on_threads, order


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def orders(backend: Backend, clock: Clock) -> Orders:
    return Orders(backend.db("orders"), clock=clock).create()


def test_a_placed_order_is_pending(orders: Orders) -> None:
    placed = orders.place(None, order("o-1"), "orchestrated")
    assert (placed["orderId"], placed["status"], placed["design"], placed["placedAt"]) == (
        "o-1",
        "pending",
        "orchestrated",
        1_000.0,
    )
    assert placed["decidedAt"] is None
    assert orders.get("o-1") == placed
    assert orders.get("o-2") is None


def test_placing_again_keeps_the_first_placement(orders: Orders, clock: Clock) -> None:
    first = orders.place(None, order("o-1"), "orchestrated")
    clock.now += 5
    assert orders.place(None, order("o-1"), "hybrid") == first


def test_a_completed_order_stays_completed(orders: Orders, clock: Clock) -> None:
    orders.place(None, order("o-1"), "choreographed")
    clock.now += 2.5
    done = orders.complete(None, "o-1")
    assert (done["status"], done["decidedAt"], done["reason"]) == ("completed", 1_002.5, None)
    clock.now += 1
    assert orders.cancel(None, "o-1", "late report") == done
    assert orders.complete(None, "o-1") == done


def test_a_cancelled_order_stays_cancelled_with_its_reason(orders: Orders) -> None:
    orders.place(None, order("o-1"), "hybrid")
    cancelled = orders.cancel(None, "o-1", "PaymentDeclined: card tok_declined declined")
    assert (cancelled["status"], cancelled["reason"]) == (
        "cancelled",
        "PaymentDeclined: card tok_declined declined",
    )
    assert orders.complete(None, "o-1")["status"] == "cancelled"


def test_racing_decisions_leave_the_first(orders: Orders) -> None:
    orders.place(None, order("o-1"), "choreographed")

    def decide(i: int) -> None:
        if i % 2:
            orders.complete(None, "o-1")
        else:
            orders.cancel(None, "o-1", f"reason {i}")

    on_threads(8, decide)
    record = orders.get("o-1")
    assert record is not None
    assert record["status"] in ("completed", "cancelled")
    assert orders.counts()["pending"] == 0


def test_deciding_an_order_never_placed_raises(orders: Orders) -> None:
    with pytest.raises(UnknownOrder, match="no order 'o-9' was placed"):
        orders.complete(None, "o-9")
    with pytest.raises(UnknownOrder):
        orders.cancel(None, "o-9", "why")


def test_an_unknown_design_is_refused(orders: Orders) -> None:
    with pytest.raises(ValueError, match="unknown design 'serverless'"):
        orders.place(None, order("o-1"), "serverless")


def test_counts_and_latencies_per_design(orders: Orders, clock: Clock) -> None:
    for i in range(4):
        orders.place(None, order(f"o-{i}"), "orchestrated" if i < 3 else "hybrid")
    clock.now += 1
    orders.complete(None, "o-0")
    clock.now += 2
    orders.cancel(None, "o-1", "OutOfStock")
    orders.complete(None, "o-3")
    assert orders.counts() == {"pending": 1, "completed": 2, "cancelled": 1}
    assert orders.counts("orchestrated") == {"pending": 1, "completed": 1, "cancelled": 1}
    assert orders.counts("choreographed") == {"pending": 0, "completed": 0, "cancelled": 0}
    assert orders.latencies() == [1.0, 3.0, 3.0]
    assert orders.latencies("orchestrated") == [1.0, 3.0]


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == (50.0, 99.0, 100.0)
    assert percentile([], 50) == 0.0
    assert percentile([7.0], 0) == 7.0


def test_recent_orders_come_last_placed_first_filtered_and_paged(orders: Orders, clock: Clock) -> None:
    for i, design in enumerate(["orchestrated", "choreographed", "orchestrated", "hybrid"]):
        clock.now = 1_000.0 + i
        orders.place(None, order(f"o-{i}"), design)
    orders.complete(None, "o-2")
    assert [o["orderId"] for o in orders.recent()] == ["o-3", "o-2", "o-1", "o-0"]
    assert [o["orderId"] for o in orders.recent(design="orchestrated")] == ["o-2", "o-0"]
    assert [o["orderId"] for o in orders.recent(status="completed")] == ["o-2"]
    first = orders.recent(2)
    assert [o["orderId"] for o in orders.recent(2, before=first[-1]["placedAt"])] == ["o-1", "o-0"]
