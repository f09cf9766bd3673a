"""run_orders over a design that decides orders by itself, straight in the orders view: how many are in
flight, what the run counts, and what it reports when orders stay undecided."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from stepdance.order import Order, Orders, open_service_db
from stepdance.order.run import RunResult, run_orders
from tests.order.helpers import order


class Deciding:
    """Completes each order (cancels those whose card is declined) a moment after it is placed, except
    those it is told to leave pending; counts how many were in flight at most."""

    name = "orchestrated"

    def __init__(self, view: Orders, *, leave: frozenset[str] = frozenset()) -> None:
        self.view = view
        self.leave = leave
        self.in_flight = 0
        self.most = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        pass

    async def place(self, order: Order) -> None:
        await asyncio.to_thread(self.view.place, None, order, self.name)
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        if order.order_id not in self.leave:
            task = asyncio.create_task(self._decide(order))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _decide(self, order: Order) -> None:
        await asyncio.sleep(0.01)  # the design's work
        if order.card == "tok_declined":
            await asyncio.to_thread(self.view.cancel, None, order.order_id, "PaymentDeclined: declined")
        else:
            await asyncio.to_thread(self.view.complete, None, order.order_id)
        self.in_flight -= 1

    async def stop(self) -> None:
        await asyncio.gather(*self._tasks)


@pytest.fixture
def view(tmp_path: Path) -> Iterator[Orders]:
    engine = open_service_db("orders", None, tmp_path)
    yield Orders(engine).create()
    engine.dispose()


def batch(count: int) -> list[Order]:
    return [order(f"o-{i:03d}", card="tok_declined" if i % 4 == 0 else "tok_visa") for i in range(count)]


async def test_at_most_concurrency_orders_are_in_flight_and_all_are_counted(view: Orders) -> None:
    design = Deciding(view)
    seen: list[tuple[int, int]] = []

    result = await run_orders(
        design, batch(40), concurrency=5, view=view, progress=lambda d, n: seen.append((d, n))
    )
    await design.stop()

    assert design.most <= 5
    assert (result.orders, result.completed, result.cancelled, result.undecided) == (40, 30, 10, 0)
    assert seen[-1] == (40, 40)
    assert 0.01 <= result.p50 <= result.p99
    assert result.seconds > 0 and result.orders_per_second > 0
    assert result.to_json()["ordersPerSecond"] == round(result.orders_per_second, 1)


async def test_orders_left_undecided_are_reported_after_the_timeout(view: Orders) -> None:
    design = Deciding(view, leave=frozenset({"o-003"}))

    result = await run_orders(design, batch(8), concurrency=2, view=view, timeout=1.0)
    await design.stop()

    assert (result.completed + result.cancelled, result.undecided) == (7, 1)


async def test_the_view_is_the_designs_services_orders_unless_given(view: Orders) -> None:
    with pytest.raises(TypeError, match=r"has no services\.orders"):
        await run_orders(Deciding(view), batch(1))
    with pytest.raises(ValueError, match="concurrency"):
        await run_orders(Deciding(view), batch(1), concurrency=0, view=view)
    with pytest.raises(ValueError, match="distinct"):
        await run_orders(Deciding(view), batch(2) * 2, view=view)


async def test_a_placement_that_fails_ends_the_run_with_its_error(view: Orders) -> None:
    class Refusing(Deciding):
        async def place(self, order: Order) -> None:
            if order.order_id == "o-002":
                raise RuntimeError("cannot place o-002")
            await super().place(order)

    design = Refusing(view)
    with pytest.raises(RuntimeError, match="cannot place o-002"):
        await run_orders(design, batch(5), concurrency=2, view=view)
    await design.stop()


def test_a_result_without_decisions_has_no_rate() -> None:
    empty = RunResult("hybrid", 3, 0, 0, 3, 0.0, 0.0, 0.0, 64)
    assert empty.orders_per_second == 0.0
