"""What one call of an order service's write costs on SQLite: charge, reserve, notify (file channel), and the
orders view's place and complete.

Each is timed two ways on the services' own databases (WAL, ``synchronous=FULL``, ``BEGIN IMMEDIATE``):

- **batched**: many calls in one transaction (``--batch`` per transaction), as the designs' writer threads
  and inbox batches make them; this is the statements' own cost, the commit's fsync shared by the batch;
- **single**: one call per transaction of its own (``conn=None``), commit and fsync included.

The peer runs the same statements through plain SQLAlchemy Core at its best: each statement built once
(``insert(...).on_conflict_do_nothing().returning(...)``, ``update(...).returning(...)``) and executed with
its parameters, so that Core's compiled cache finds it compiled; same tables, same kind of database.
Figures are microseconds per call, of wall time and of this process's CPU (which other work on a busy
machine does not inflate); ``*_ratio`` is the peer's batched CPU time over ours (higher is better). Target:
``batched_ratio`` (the five calls together) at least 2.

Before the services ran precompiled statements on the driver (:mod:`stepdance.order.statements`) they built
each statement per call, as most Core code does: batched, 260-700 µs of CPU a call on the 2-core test
machine, against 32-74 µs since (charge 523-644 -> 48-50, reserve 556-704 -> 42-43, notify 255-423 -> 72-74,
place 276-419 -> 32-33, complete 390-468 -> 36-38; two runs each, this bench, the same hour).

    .venv/bin/python bench/services.py [--calls N] [--single N] [--batch N] [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, update
from sqlalchemy.dialects import sqlite

from _common import Stopwatch, console, figures_table, finish
from stepdance.order import (
    FileChannel,
    Inventory,
    Notification,
    Order,
    Orders,
    Payment,
    compose,
    open_service_db,
)
from stepdance.order.db import begun
from stepdance.order.inventory import reservation_table, stock_table
from stepdance.order.notification import sent_table
from stepdance.order.orders import order_table
from stepdance.order.payment import charge_id, charge_table, ledger_table

TARGET = 2.0
OPERATIONS = ("charge", "reserve", "notify", "place", "complete")
SKU = "sku-bench"
SERVICES = ("payment", "inventory", "notification", "orders")
BASE = Order("o", "customer-0001", "customer-0001@example.com", "tok_visa", 12_345, SKU, 1)

Call = Callable[[Connection | None, Order], object]


def _claim(table: Table) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING key, its values given at execution."""
    key = next(iter(table.primary_key.columns))
    return sqlite.insert(table).on_conflict_do_nothing().returning(key)


class CoreServices:
    """The peer: the services' write statements through SQLAlchemy Core, each built once and executed with
    its parameters (Core's compiled cache then finds it compiled), the transactions begun as the services
    begin theirs."""

    charge_once = _claim(charge_table)
    enter_once = _claim(ledger_table)
    reserve_once = _claim(reservation_table)
    send_once = _claim(sent_table)
    place_once = _claim(order_table)
    take = (
        update(stock_table)
        .where(stock_table.c.sku == bindparam("the_sku"), stock_table.c.available >= bindparam("wanted"))
        .values(available=stock_table.c.available - bindparam("wanted"))
        .returning(stock_table.c.available)
    )
    decide = (
        update(order_table)
        .where(order_table.c.order_id == bindparam("id"), order_table.c.status == "pending")
        .values(status=bindparam("decision"), reason=bindparam("why"), decided_at=bindparam("at"))
        .returning(*order_table.c)
    )

    def __init__(self, engines: dict[str, Engine], channel: FileChannel) -> None:
        self.engines = engines
        self.channel = channel

    def calls(self) -> dict[str, Call]:
        return {
            "charge": self.charge,
            "reserve": self.reserve,
            "notify": self.notify,
            "place": self.place,
            "complete": self.complete,
        }

    def charge(self, conn: Connection | None, order: Order) -> object:
        with begun(self.engines["payment"], conn) as tx:
            now = time.time()
            row = dict(
                order_id=order.order_id,
                charge_id=charge_id(order.order_id),
                status="charged",
                amount_cents=order.amount_cents,
                card=order.card,
                reason=None,
                charged_at=now,
            )
            if tx.execute(self.charge_once, row).first() is not None:
                entry = dict(order_id=order.order_id, kind="charge", amount_cents=order.amount_cents, at=now)
                tx.execute(self.enter_once, entry).first()
        return row

    def reserve(self, conn: Connection | None, order: Order) -> object:
        with begun(self.engines["inventory"], conn) as tx:
            row = dict(
                order_id=order.order_id,
                sku=order.sku,
                quantity=order.quantity,
                status="reserved",
                reserved_at=time.time(),
            )
            if tx.execute(self.reserve_once, row).first() is not None:
                tx.execute(self.take, {"the_sku": order.sku, "wanted": order.quantity}).first()
        return row

    def notify(self, conn: Connection | None, order: Order) -> object:
        message = compose(order.order_id, "confirmed", order.email)
        with begun(self.engines["notification"], conn) as tx:
            row = dict(
                order_id=order.order_id,
                kind="confirmed",
                recipient=order.email,
                message_id=message.message_id,
                channel="file",
                sent_at=time.time(),
            )
            if tx.execute(self.send_once, row).first() is not None:
                self.channel.deliver(message)
        return row

    def place(self, conn: Connection | None, order: Order) -> object:
        row = dict(
            order_id=order.order_id,
            design="orchestrated",
            customer=order.customer,
            email=order.email,
            amount_cents=order.amount_cents,
            sku=order.sku,
            quantity=order.quantity,
            status="pending",
            placed_at=time.time(),
        )
        with begun(self.engines["orders"], conn) as tx:
            tx.execute(self.place_once, row).first()
        return row

    def complete(self, conn: Connection | None, order: Order) -> object:
        with begun(self.engines["orders"], conn) as tx:
            params = {"id": order.order_id, "decision": "completed", "why": None, "at": time.time()}
            return tx.execute(self.decide, params).first()


@dataclass
class Side:
    """One implementation over databases of its own."""

    name: str
    engines: dict[str, Engine]
    calls: dict[str, Call]

    def engine_of(self, operation: str) -> Engine:
        service = {"charge": "payment", "reserve": "inventory", "notify": "notification"}
        return self.engines[service.get(operation, "orders")]


def stepdance_side(directory: Path) -> Side:
    engines = {name: open_service_db(name, None, directory) for name in SERVICES}
    payment = Payment(engines["payment"]).create()
    inventory = Inventory(engines["inventory"]).create()
    notification = Notification(engines["notification"], FileChannel(directory / "sent.jsonl")).create()
    orders = Orders(engines["orders"]).create()
    inventory.set_stock({SKU: 10**9})
    calls: dict[str, Call] = {
        "charge": payment.charge,
        "reserve": inventory.reserve,
        "notify": lambda conn, order: notification.send(conn, order.order_id, "confirmed", order.email),
        "place": lambda conn, order: orders.place(conn, order, "orchestrated"),
        "complete": lambda conn, order: orders.complete(conn, order.order_id),
    }
    return Side("stepdance", engines, calls)


def core_side(directory: Path) -> Side:
    side = stepdance_side(directory)  # the same tables and stock, created by the services
    peer = CoreServices(side.engines, FileChannel(directory / "sent.jsonl"))
    return Side("core", side.engines, peer.calls())


def orders_named(prefix: str, count: int) -> list[Order]:
    return [replace(BASE, order_id=f"{prefix}-{i:06d}") for i in range(count)]


@contextmanager
def one_transaction(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection, connection.begin():
        yield connection


def batched(side: Side, operation: str, batch: list[Order], size: int) -> Stopwatch:
    call = side.calls[operation]
    engine = side.engine_of(operation)
    with Stopwatch() as watch:
        for start in range(0, len(batch), size):
            with one_transaction(engine) as tx:
                for order in batch[start : start + size]:
                    call(tx, order)
    return watch


def single(side: Side, operation: str, batch: list[Order]) -> Stopwatch:
    call = side.calls[operation]
    with Stopwatch() as watch:
        for order in batch:
            call(None, order)
    return watch


def measure(
    sides: list[Side], calls: int, singles: int, size: int, rounds: int
) -> dict[str, dict[str, dict[str, float]]]:
    """Per side and operation: median µs per call (wall and CPU), batched and single, over ``rounds``
    rounds after a warm-up one; the sides take turns going first, so neither always runs on a cooler or
    quieter machine."""
    samples: dict[str, dict[str, dict[str, list[float]]]] = {
        side.name: {op: {} for op in OPERATIONS} for side in sides
    }
    for r in range(rounds + 1):
        for side in sides if r % 2 else reversed(sides):
            for mode, count in (("batched", calls), ("single", singles)):
                batch = orders_named(f"{mode}-{r}", count if r else max(1, count // 4))
                for operation in OPERATIONS:  # place before complete: complete finds the orders pending
                    if mode == "batched":
                        watch = batched(side, operation, batch, size)
                    else:
                        watch = single(side, operation, batch)
                    if r == 0:
                        continue  # warm-up: SQLAlchemy's caches, the files' first pages
                    found = samples[side.name][operation]
                    found.setdefault(f"{mode}_us", []).append(watch.seconds / len(batch) * 1e6)
                    found.setdefault(f"{mode}_cpu_us", []).append(watch.cpu_seconds / len(batch) * 1e6)
    return {
        name: {
            op: {key: round(statistics.median(values), 1) for key, values in figures.items()}
            for op, figures in by_op.items()
        }
        for name, by_op in samples.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000, help="calls per operation, batched")
    parser.add_argument("--single", type=int, default=200, help="calls per operation, one per transaction")
    parser.add_argument("--batch", type=int, default=256, help="calls per transaction, batched")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="stepdance-bench-services-") as scratch:
        sides = [stepdance_side(Path(scratch) / "stepdance"), core_side(Path(scratch) / "core")]
        console.print(f"{args.rounds} rounds of {', '.join(OPERATIONS)}, stepdance and Core taking turns ...")
        results = measure(sides, args.calls, args.single, args.batch, args.rounds)
        for side in sides:
            for engine in side.engines.values():
                engine.dispose()

    ours, peer = results["stepdance"], results["core"]
    rows = []
    figures: dict[str, Any] = {}
    for op in OPERATIONS:
        for key in ("batched_us", "batched_cpu_us", "single_us", "single_cpu_us"):
            rows.append((f"{op} {key}", f"{ours[op][key]:.1f}", f"{peer[op][key]:.1f}"))
            figures[f"{op}_{key}"] = ours[op][key]
            figures[f"core_{op}_{key}"] = peer[op][key]
    console.print(figures_table("µs per call on SQLite (median of rounds)", rows, ("", "stepdance", "Core")))
    for op in OPERATIONS:
        figures[f"{op}_ratio"] = round(peer[op]["batched_cpu_us"] / ours[op]["batched_cpu_us"], 2)
    total_ours = sum(ours[op]["batched_cpu_us"] for op in OPERATIONS)
    total_peer = sum(peer[op]["batched_cpu_us"] for op in OPERATIONS)
    figures["batched_ratio"] = round(total_peer / total_ours, 2)
    finish(figures, {"batched_ratio": TARGET})


if __name__ == "__main__":
    main()
