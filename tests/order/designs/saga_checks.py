"""What every design must leave behind, read from the services' own data, and the mixed workload the
end-to-end tests run."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from stepdance.order import Faults, FileChannel, Message, Order, Undeliverable, workload
from stepdance.order.audit import all_notified, audit
from stepdance.order.designs.base import Services
from stepdance.order.run import RunResult, run_orders

__all__ = ["all_notified", "audit"]

ORDERS = 240
DEADLINE = 60.0


def mixed_batch(count: int = ORDERS, prefix: str = "order") -> list[Order]:
    """Declines and stock-outs, about one in ten each."""
    return workload.orders(count, decline_rate=0.1, out_of_stock_rate=0.1, seed=11, prefix=prefix)


class Refusing:
    """A mail server that refuses every message for good."""

    name = "refusing"

    def deliver(self, message: Message) -> None:
        raise Undeliverable(f"550 no such mailbox: {message.to}")


def transient_faults() -> Faults:
    """About one order in ten fails once at each service before it succeeds."""
    return Faults({"payment": 0.1, "inventory": 0.1, "notification": 0.1}, seed=5)


def channel(data_dir: Path) -> FileChannel:
    return FileChannel(data_dir / "outbox" / "messages.jsonl")


def stock(services: Services, batch: Sequence[Order]) -> dict[str, int]:
    levels = workload.stock_for(batch)
    services.inventory.set_stock(levels)
    return levels


async def eventually(check: Callable[[], object], seconds: float = DEADLINE) -> Any:
    """``check()``'s first truthy answer (a plain check runs in a thread: it reads databases; an ``async``
    one is awaited); AssertionError after ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        answer = await check() if inspect.iscoroutinefunction(check) else await asyncio.to_thread(check)
        if answer:
            return answer
        if loop.time() > deadline:
            raise AssertionError(f"still {answer!r} after {seconds}s")
        await asyncio.sleep(0.02)


async def run_mixed_workload(
    deployment: Any,
    opened: Callable[[Any, Services], AbstractAsyncContextManager[Any]],
    *,
    seconds: float = 60,
) -> tuple[Services, list[Order]]:
    """The mixed batch, with transient faults, through the design ``opened(deployment, services)`` runs:
    every order decided as the workload says, every one notified, and the services' data agreeing. The
    services and the batch, for what a test checks beyond that."""
    services = deployment.services(transient_faults(), channel(deployment.data_dir))
    batch = mixed_batch()
    levels = stock(services, batch)
    async with opened(deployment, services) as design:
        result = await run_orders(design, batch, concurrency=64, timeout=seconds)
        await eventually(lambda: all_notified(services, batch))  # notified after the decision, maybe later
        problems = audit(services, batch, levels, channel(deployment.data_dir))
    assert_as_the_workload_says(result, batch, levels)
    assert problems == []
    return services, batch


def assert_as_the_workload_says(result: RunResult, batch: Sequence[Order], levels: dict[str, int]) -> None:
    """The run decided every order, and as many completed and cancelled as the workload must give."""
    expected = workload.expected(batch, levels)
    assert (result.completed, result.cancelled, result.undecided) == (
        expected["completed"],
        expected["cancelled"],
        0,
    )
