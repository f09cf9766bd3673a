"""The bus-level side of bus_vs_broker: events published through a service's transactional outbox and consumed
through another service's inbox, over ``stepdance.bus`` on the transport under test.

- The publishing service (its own SQLite file, WAL, ``synchronous=FULL``) writes an ``orders`` row and the
  event in one transaction per published batch (the plain side's batch of 100 awaited until durable);
- an :class:`~stepdance.bus.outbox.OutboxRelay` moves the committed events onto a
  :class:`~stepdance.bus.runtime.Bus` over the transport at ``url``;
- a rule matches them and targets a Python handler;
- the consuming service (its own SQLite file) records a whole fetched batch in one transaction
  (``bus.register_batch`` and ``inbox.each()``): the events not handled before (``batch.unhandled``, one
  statement) and their effect (``shipments`` rows, one ``executemany``). An event counts as done when that
  transaction committed.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Engine, MetaData, String, Table, create_engine, event, insert

from _bus_sides import FETCH_WAIT, Advance, Side, Stalled
from stepdance.aio import wait_event
from stepdance.bus import (
    Bus,
    Client,
    DeliveryContext,
    Inbox,
    Outbox,
    OutboxRelay,
    handler_arn,
    names,
    open_catalog,
)
from stepdance.bus.transports import Message, open_transport
from stepdance.settings import Settings

SOURCE = "bench.orders"
RULE, TARGET, HANDLER = "record-placed", "shipping", "record"


def _service_db(path: Path) -> Engine:
    """A service's own database, as a service would open it: SQLite in WAL mode, fsynced at every commit."""
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _durable(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA synchronous=FULL")

    return engine


def _table(name: str, engine: Engine) -> Table:
    table = Table(name, MetaData(), Column("id", String(128), primary_key=True), Column("body", String))
    table.metadata.create_all(engine)
    return table


async def bus_side(url: str, topic: str, group: str, used: list[tuple[str, str]]) -> Side:
    """A :class:`Side` for fresh names: ``topic`` names the event bus, ``group`` is only a tag here (the
    target's consumer group is the bus's own). ``used`` gets the transport names to remove afterwards."""
    scratch = tempfile.TemporaryDirectory(prefix="sdbus-")
    root = Path(scratch.name)
    publisher, consumer = _service_db(root / "payment.db"), _service_db(root / "shipping.db")
    orders, shipments = _table("orders", publisher), _table("shipments", consumer)
    outbox, inbox = Outbox(publisher), Inbox(consumer, consumer="shipping")
    settings = Settings.from_env()
    bus = Bus(open_catalog(f"sqlite:///{root / 'catalog.db'}"), open_transport(url), settings)
    bus_name = f"b-{group}"
    used.append((names.topic(bus_name), names.target_group(RULE, TARGET)))
    loop = asyncio.get_running_loop()
    done = 0
    progressed = asyncio.Event()

    def committed(count: int) -> None:
        nonlocal done
        done += count
        progressed.set()

    ship = insert(shipments)  # built once, as a service would: only its parameters change per event

    def record(items: list[tuple[dict[str, Any], DeliveryContext]]) -> None:
        with inbox.each() as batch:
            fresh = batch.unhandled(items)  # a redelivered event is not in it: handled already
            if fresh:
                rows = [{"id": e["detail"]["order"], "body": e["detail"]["body"]} for e, _ in fresh]
                batch.connection.execute(ship, rows)
        loop.call_soon_threadsafe(committed, len(fresh))

    bus.register_batch(HANDLER, record)
    await bus.start()
    events = Client(bus)
    await events.create_event_bus(Name=bus_name)
    await events.put_rule(Name=RULE, EventBusName=bus_name, EventPattern=json.dumps({"source": [SOURCE]}))
    await events.put_targets(
        Rule=RULE, EventBusName=bus_name, Targets=[{"Id": TARGET, "Arn": handler_arn(settings, HANDLER)}]
    )
    relay = OutboxRelay(outbox, bus)
    await relay.start()

    def place(batch: Sequence[Message]) -> None:
        with outbox.transaction() as tx:
            tx.execute(insert(orders), [{"id": m.id, "body": m.body.decode()} for m in batch])
            for m in batch:
                detail = {"order": m.id, "body": m.body.decode()}
                tx.publish(
                    {
                        "Source": SOURCE,
                        "DetailType": "OrderPlaced",
                        "Detail": json.dumps(detail),
                        "EventBusName": bus_name,
                    }
                )

    async def publish(batch: Sequence[Message]) -> None:
        await asyncio.to_thread(place, batch)

    async def consume(count: int, advance: Advance) -> None:
        reported = 0
        while reported < count:
            progressed.clear()
            if done == reported and not await wait_event(progressed, FETCH_WAIT):
                raise Stalled(f"stepdance bus {url}: no inbox commit for {FETCH_WAIT}s after {done}")
            advance(done - reported)
            reported = done

    async def close() -> None:
        await relay.stop()
        await bus.stop()
        await bus.transport.close()
        publisher.dispose()
        consumer.dispose()
        scratch.cleanup()

    return Side(publish, consume, close)
