"""Run a batch of orders through any design and measure it from the orders view.

::

    result = await run_orders(design, workload.orders(1000), concurrency=64, progress=bar.update)
    result.completed, result.cancelled, result.undecided
    result.p50, result.p99, result.orders_per_second

At most ``concurrency`` orders are in flight: placed and not yet decided (completed or cancelled) in the
orders view. A new order is placed as soon as one in flight is seen decided; the view is polled every
``poll_seconds`` for the orders in flight, by primary key. Latencies and the rate come from the times the
view recorded (placed -> decided; first placement -> last decision), not from when this loop noticed, so
the polling does not add to them. Nothing here knows which design runs: the design places, the view tells.

A database or engine store that is away for a while (restarting) does not end the run: a placement that
failed for it is made again, with back-off, as any client would (placing is idempotent: the order's id
names its record and its execution), and the view is looked at again when it answers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from stepdance.aio import in_thread
from stepdance.away import away as database_away
from stepdance.engine.errors import ServiceUnavailable
from stepdance.order.db import reading
from stepdance.order.designs.base import Design
from stepdance.order.model import Order
from stepdance.order.orders import COMPLETED, PENDING, Orders, order_table, percentile

Progress = Callable[[int, int], None]  # (orders decided, orders in the run)
Stuck = Callable[[list[str]], Awaitable[Collection[str]]]
DEFAULT_TIMEOUT = 600.0
POLL_SECONDS = 0.02
STUCK_SECONDS = 0.5
AWAY_BACKOFF = (0.05, 1.0)  # first and longest wait before placing or looking again while a database is away


@dataclass(frozen=True, slots=True)
class RunResult:
    """How a run went, as the orders view saw it. Times are in seconds."""

    design: str
    orders: int
    completed: int
    cancelled: int
    undecided: int  # still pending (or never placed) when the run timed out
    seconds: float  # from the first placement to the last decision
    p50: float
    p99: float
    concurrency: int
    stuck: int = 0  # placed, and found needing a person (``stuck=``): not waited for
    placed: frozenset[str] = frozenset()  # the orders the design accepted (its ``place`` returned)

    @property
    def orders_per_second(self) -> float:
        decided = self.completed + self.cancelled
        return decided / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "design": self.design,
            "orders": self.orders,
            "completed": self.completed,
            "cancelled": self.cancelled,
            "undecided": self.undecided,
            "seconds": round(self.seconds, 4),
            "ordersPerSecond": round(self.orders_per_second, 1),
            "p50Ms": round(self.p50 * 1000, 2),
            "p99Ms": round(self.p99 * 1000, 2),
            "concurrency": self.concurrency,
            "stuck": self.stuck,
        }


async def run_orders(
    design: Design,
    orders: Sequence[Order],
    *,
    concurrency: int = 64,
    progress: Progress | None = None,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - a deadline that ends the run with a result, not an error
    view: Orders | None = None,
    poll_seconds: float = POLL_SECONDS,
    stuck: Stuck | None = None,
) -> RunResult:
    """Place ``orders`` on the started ``design`` with at most ``concurrency`` in flight and wait until all
    are decided or ``timeout`` seconds passed (then ``undecided`` counts the rest). ``view`` defaults to
    ``design.services.orders``. A placement that raises ends the run with its error. ``stuck``, given the
    orders in flight, answers those that will not be decided without a person (a dead-lettered event, a
    failed execution); asked every ``STUCK_SECONDS``, it frees their places for the next orders."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, not {concurrency}")
    if len({o.order_id for o in orders}) != len(orders):
        raise ValueError("the orders of a run must have distinct order ids")
    tracker = _Tracker(view or _view_of(design), len(orders), progress, stuck)
    pending = iter(orders)

    async def place_one_after_another() -> None:
        for order in pending:  # shared: each worker takes the next order not yet taken
            decided = tracker.expect(order.order_id)
            await _place(design, order)
            tracker.placed(order.order_id)
            await decided

    try:
        async with asyncio.timeout(timeout), asyncio.TaskGroup() as group:
            group.create_task(tracker.poll(poll_seconds))
            for _ in range(min(concurrency, len(orders))):
                group.create_task(place_one_after_another())
    except TimeoutError:
        pass
    except ExceptionGroup as failed:  # a placement failed: its error, not the task group's wrapper
        raise failed.exceptions[0] from None
    return tracker.result(design.name, concurrency)


async def _place(design: Design, order: Order) -> None:
    """``design.place(order)``, made again while what it writes to is away (the run's timeout ends it)."""
    wait = AWAY_BACKOFF[0]
    while True:
        try:
            await design.place(order)
            return
        except Exception as error:
            if not away(error):
                raise
        await asyncio.sleep(wait)
        wait = min(wait * 2, AWAY_BACKOFF[1])


def away(error: BaseException) -> bool:
    """Whether ``error`` says a database or the engine's store could not be reached (or dropped the
    connection): what was asked was committed entirely or not at all, and asking again is safe."""
    return database_away(error) or isinstance(error, ServiceUnavailable)


def _view_of(design: Design) -> Orders:
    services = getattr(design, "services", None)
    found = getattr(services, "orders", None)
    if not isinstance(found, Orders):
        raise TypeError(f"design {design.name!r} has no services.orders: pass view=")
    return found


@dataclass
class _Tracker:
    """The orders in flight and what the view said about those decided."""

    view: Orders
    total: int
    progress: Progress | None
    stuck_check: Stuck | None = None
    stuck: set[str] = field(default_factory=set)
    accepted: set[str] = field(default_factory=set)
    checked_at: float = 0.0
    waiting: dict[str, asyncio.Future[None]] = field(default_factory=dict)
    in_flight: set[str] = field(default_factory=set)  # placed, not seen decided
    latencies: list[float] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: {"completed": 0, "cancelled": 0})
    first_placed: float = float("inf")
    last_decided: float = float("-inf")
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def expect(self, order_id: str) -> asyncio.Future[None]:
        future = self.waiting[order_id] = asyncio.get_running_loop().create_future()
        return future

    def placed(self, order_id: str) -> None:
        self.in_flight.add(order_id)
        self.accepted.add(order_id)
        self.wake.set()

    @property
    def decided(self) -> int:
        return self.counts["completed"] + self.counts["cancelled"]

    async def poll(self, seconds: float) -> None:
        """Until every order is decided: look up the orders in flight, settle those decided."""
        wait = AWAY_BACKOFF[0]
        while self.decided + len(self.stuck) < self.total:
            if not self.in_flight:
                await self.wake.wait()
                self.wake.clear()
                continue
            started = time.monotonic()
            try:
                await self._look()
            except Exception as error:
                if not away(error):
                    raise
                await asyncio.sleep(wait)  # the database is away: look again when it may be back
                wait = min(wait * 2, AWAY_BACKOFF[1])
                continue
            wait = AWAY_BACKOFF[0]
            await asyncio.sleep(max(0.0, seconds - (time.monotonic() - started)))

    async def _look(self) -> None:
        """Settle the orders in flight the view shows decided; now and then, give up those stuck."""
        found = await in_thread(_decided, self.view, list(self.in_flight))
        for order_id, status, placed_at, decided_at in found:
            self._settle(order_id, status, placed_at, decided_at)
        if found and self.progress is not None:
            self.progress(self.decided, self.total)
        if self.stuck_check is not None and time.monotonic() - self.checked_at >= STUCK_SECONDS:
            self.checked_at = time.monotonic()
            for order_id in await self.stuck_check(sorted(self.in_flight)):
                self._give_up(order_id)

    def _settle(self, order_id: str, status: str, placed_at: float, decided_at: float) -> None:
        self.in_flight.discard(order_id)
        self.counts["completed" if status == COMPLETED else "cancelled"] += 1
        self.latencies.append(decided_at - placed_at)
        self.first_placed = min(self.first_placed, placed_at)
        self.last_decided = max(self.last_decided, decided_at)
        future = self.waiting.pop(order_id, None)
        if future is not None and not future.done():
            future.set_result(None)

    def _give_up(self, order_id: str) -> None:
        if order_id not in self.in_flight:
            return
        self.in_flight.discard(order_id)
        self.stuck.add(order_id)
        future = self.waiting.pop(order_id, None)
        if future is not None and not future.done():
            future.set_result(None)

    def result(self, design: str, concurrency: int) -> RunResult:
        ordered = sorted(self.latencies)
        return RunResult(
            design=design,
            orders=self.total,
            completed=self.counts["completed"],
            cancelled=self.counts["cancelled"],
            undecided=self.total - self.decided - len(self.stuck),
            seconds=max(0.0, self.last_decided - self.first_placed) if ordered else 0.0,
            p50=percentile(ordered, 50),
            p99=percentile(ordered, 99),
            concurrency=concurrency,
            stuck=len(self.stuck),
            placed=frozenset(self.accepted),
        )


def _decided(view: Orders, order_ids: list[str]) -> list[tuple[str, str, float, float]]:
    """(order id, status, placed at, decided at) of those of ``order_ids`` that are decided. Written for the
    driver rather than through Core's expanding IN, which recompiled it at every look and cost a few per cent
    of a run. PostgreSQL gets the ids as one array, looked up one by one by primary key: an IN list (or
    ``= ANY``) was planned as a scan of the whole table while it had no statistics yet (a new run's), which
    cost the server more at each look as the run went on."""
    t = order_table
    columns = f"{t.c.order_id.name}, {t.c.status.name}, {t.c.placed_at.name}, {t.c.decided_at.name}"
    if view.engine.dialect.paramstyle == "qmark":
        marks = ", ".join(["?"] * len(order_ids))
        sql = f"SELECT {columns} FROM {t.name} WHERE {t.c.status.name} != ? AND {t.c.order_id.name} IN ({marks})"
        parameters: tuple[Any, ...] = (PENDING, *order_ids)
    else:
        sql = (
            f"SELECT o.* FROM unnest(%s::varchar[]) AS k(id) CROSS JOIN LATERAL "
            f"(SELECT {columns} FROM {t.name} WHERE {t.c.order_id.name} = k.id LIMIT 1) AS o "
            f"WHERE o.{t.c.status.name} != %s"
        )
        parameters = (order_ids, PENDING)
    with reading(view.engine) as conn:
        rows: list[Any] = list(conn.exec_driver_sql(sql, parameters).all())
    return [(str(r[0]), str(r[1]), float(r[2]), float(r[3])) for r in rows]
