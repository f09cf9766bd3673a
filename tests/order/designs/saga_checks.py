"""What every design must leave behind, read from the services' own data, and the mixed workload the
end-to-end tests run."""

from __future__ import annotations

import asyncio
import inspect
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from stepdance.order import Faults, FileChannel, Message, Order, Undeliverable, workload
from stepdance.order.designs.base import Services

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


def all_notified(services: Services, batch: Sequence[Order]) -> bool:
    return len(services.notification.sent()) >= len(batch)


def audit(services: Services, batch: Sequence[Order], levels: dict[str, int], sent: FileChannel) -> list[str]:
    """Every broken promise: an order not decided; a completed one not charged, reserved and confirmed; a
    cancelled one keeping money or stock, or reserved after a decline; anything done twice; stock that
    does not add up."""
    problems: list[str] = []
    charges, balances = services.payment.charges(), services.payment.balances()
    reservations = services.inventory.reservations()
    kinds: dict[str, set[str]] = {}
    for record in services.notification.sent():
        kinds.setdefault(record["orderId"], set()).add(record["kind"])
    delivered = Counter((m["orderId"], m["kind"]) for m in sent.messages())
    problems += [f"{key} delivered {n} times" for key, n in delivered.items() if n > 1]
    for order in batch:
        oid = order.order_id
        view = services.orders.get(oid)
        status = view["status"] if view else "never placed"
        charge, held = charges.get(oid), reservations.get(oid)
        paid, notified = balances.get(oid, 0), kinds.get(oid, set())
        if status == "completed":
            if (charge or {}).get("status") != "charged" or paid != order.amount_cents:
                problems.append(f"{oid} completed but paid {paid} of {order.amount_cents} ({charge})")
            if (held or {}).get("status") != "reserved":
                problems.append(f"{oid} completed without stock: {held}")
            if notified != {"confirmed"}:
                problems.append(f"{oid} completed, notified {sorted(notified)}")
        elif status == "cancelled":
            declined = (view or {}).get("reason", "").startswith("PaymentDeclined")
            if paid != 0:
                problems.append(f"{oid} cancelled but keeps {paid} cents")
            if held is not None and held["status"] == "reserved":
                problems.append(f"{oid} cancelled but holds stock")
            if declined and held is not None:
                problems.append(f"{oid} declined but reserved: {held}")
            if notified != {"payment_failed" if declined else "cancelled"}:
                problems.append(f"{oid} cancelled ({view and view['reason']}), notified {sorted(notified)}")
        else:
            problems.append(f"{oid} is {status}")
    taken = Counter(r["sku"] for r in reservations.values() if r["status"] == "reserved")
    for sku, units in levels.items():
        left = services.inventory.stock(sku)
        if left != units - taken[sku]:
            problems.append(f"{sku}: {left} left, {units} stocked - {taken[sku]} reserved")
    return problems
