"""The choreographed design end to end: a mixed workload (declines, stock-outs, transient failures at
payment and notification) on SQLite services over the embedded bus, and on PostgreSQL services over NATS,
Redis and RabbitMQ (skipped, naming the server, when one is not reachable); then what the services' own data
says: every order decided as the workload expects, nothing charged, reserved or notified twice, no money
kept without stock. Also: every event of an order carries the order's correlation id, and an event
delivered again has no second effect."""

from __future__ import annotations

import asyncio
import itertools
import json
import multiprocessing
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from stepdance.bus import Backoff, Bus, Client, ConsumerSettings, DeliveryContext, handler_arn, open_catalog
from stepdance.bus.outbox import Outbox
from stepdance.bus.transports import open_transport
from stepdance.order import Faults, FileChannel, Order, workload
from stepdance.order.designs import choreography_subscriptions as s
from stepdance.order.designs.base import Services, open_services
from stepdance.order.designs.choreographed import Choreographed
from stepdance.order.designs.choreography_participant import place
from stepdance.order.designs.choreography_service import serve
from stepdance.settings import Settings
from tests.bus.transports.backends import clean_shared_servers, url_for
from tests.order.conftest import drop_schemas
from tests.order.designs.saga_checks import audit, eventually
from tests.store.backends import POSTGRES, postgres_reachable

__all__ = ["clean_shared_servers"]  # removes this session's streams, keys and queues from the servers

SETTINGS = Settings()
DEADLINE = 30.0
TRANSPORTS = [
    "sqlite",
    pytest.param("nats", marks=pytest.mark.postgres),
    pytest.param("redis", marks=pytest.mark.postgres),
    pytest.param("rabbitmq", marks=pytest.mark.postgres),
    "pubsub",  # the events through Google Pub/Sub's API: stepdance's own endpoint, on SQLite
]


@dataclass
class Where:
    """One test's deployment: services on SQLite (with the SQLite bus) or on PostgreSQL (with a broker)."""

    transport: str
    data_dir: Path
    schema: str = ""
    engines: list[Any] = field(default_factory=list)

    @property
    def services_url(self) -> str | None:
        return f"{POSTGRES}?schema={self.schema}" if self.schema else None

    def services(self, faults: Faults | None = None) -> Services:
        return open_services(self.services_url, self.data_dir, faults=faults, channel=self.channel())

    def channel(self) -> FileChannel:
        return FileChannel(self.data_dir / "sent.jsonl")

    def design(self, services: Services, here: Sequence[str] = s.PARTICIPANTS) -> Choreographed:
        bus = Bus(
            open_catalog(f"sqlite:///{self.data_dir / 'catalog.db'}"),
            open_transport(url_for(self.transport, self.data_dir)),
            SETTINGS,
            backoff=Backoff(base=0.01, cap=0.05),
            consumer_settings=ConsumerSettings(fetch_wait=0.1, ack_wait=10.0, reconnect_seconds=0.05),
            refresh_seconds=0.1,
        )
        event_bus = f"orders-{uuid.uuid4().hex[:10]}"
        return Choreographed(services, bus, event_bus=event_bus, owns_bus=True, here=here)


@pytest.fixture(params=TRANSPORTS)
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Where]:
    if request.param == "sqlite":
        yield Where("sqlite", tmp_path)
        return
    url_for(request.param, tmp_path)  # skips, naming the broker, when it is not reachable
    if not postgres_reachable():
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432")
    schema = f"sd_choreo_{uuid.uuid4().hex[:10]}"
    yield Where(request.param, tmp_path, schema)
    drop_schemas(f"{schema}_")


@pytest.fixture
def sqlite(tmp_path: Path) -> Where:
    return Where("sqlite", tmp_path)


def decided(services: Services, count: int) -> bool:
    counts = services.orders.counts("choreographed")
    return counts["pending"] == 0 and counts["completed"] + counts["cancelled"] == count


async def run(design: Choreographed, services: Services, batch: Sequence[Order]) -> None:
    """Place every order at once, then wait until the view decided them all and every customer was told."""
    await asyncio.gather(*(design.place(o) for o in batch))
    await eventually(lambda: decided(services, len(batch)))
    await eventually(lambda: len(services.notification.sent()) == len(batch))


def audit_all(services: Services, batch: Sequence[Order], stocked: dict[str, int], where: Where) -> None:
    """Every promise the designs share (:func:`~tests.order.designs.saga_checks.audit`), and what an
    event bus must add: each customer told once through the channel, each ledger entry made once."""
    assert audit(services, batch, stocked, where.channel()) == []
    assert len(where.channel().messages()) == len(batch)
    for order in batch:
        ledger = [e["kind"] for e in services.payment.ledger(order.order_id)]
        assert len(ledger) == len(set(ledger)), (order.order_id, ledger)  # one charge, at most one refund


async def test_a_mixed_workload_ends_as_expected_with_nothing_done_twice(where: Where) -> None:
    count = 200 if where.transport == "sqlite" else 120
    batch = workload.orders(count, decline_rate=0.1, out_of_stock_rate=0.1, seed=11)
    services = where.services(Faults({"payment": 0.15, "notification": 0.15}, seed=3, failures=2))
    stocked = workload.stock_for(batch)
    services.inventory.set_stock(stocked)
    design = where.design(services)
    try:
        await design.start()
        await design.start()  # idempotent: the same bus, rules and targets
        await run(design, services, batch)
        letters = await Client(design.bus).list_dead_letters(EventBusName=design.event_bus)
        assert letters["DeadLetters"] == []
        retried = {name: p.counters.failed for name, p in design.participants.items()}
    finally:
        await design.stop()
    expected = workload.expected(batch, stocked)
    counts = services.orders.counts("choreographed")
    assert (counts["completed"], counts["cancelled"]) == (expected["completed"], expected["cancelled"])
    audit_all(services, batch, stocked, where)
    services.dispose()
    assert retried["payment"] > 0 and retried["notification"] > 0  # the injected failures, redelivered


@dataclass
class Spy:
    """A subscriber of every event on the bus: what was delivered, with its headers."""

    seen: list[tuple[dict[str, Any], dict[str, str]]] = field(default_factory=list)

    def __call__(self, event: dict[str, Any], context: DeliveryContext) -> None:
        self.seen.append((event, dict(context.headers)))

    def of(self, order_id: str) -> list[tuple[dict[str, Any], dict[str, str]]]:
        return [(e, h) for e, h in self.seen if e["detail"]["order"]["orderId"] == order_id]

    def one(self, order_id: str, detail_type: str) -> tuple[dict[str, Any], dict[str, str]]:
        [found] = {e["id"]: (e, h) for e, h in self.of(order_id) if e["detail-type"] == detail_type}.values()
        return found


@pytest.fixture
async def spied(sqlite: Where) -> AsyncIterator[tuple[Choreographed, Services, Spy]]:
    services = sqlite.services()
    services.inventory.set_stock({workload.PLENTY_SKU: 10, workload.SCARCE_SKU: 0})
    design = sqlite.design(services)
    spy = Spy()
    await design.start()
    design.bus.register("spy", spy)
    events = Client(design.bus)
    await events.put_rule(
        Name="spy", EventBusName=design.event_bus, EventPattern='{"source": [{"prefix": "stepdance."}]}'
    )
    target = {"Id": "spy", "Arn": handler_arn(SETTINGS, "spy")}
    await events.put_targets(Rule="spy", EventBusName=design.event_bus, Targets=[target])
    yield design, services, spy
    await design.stop()
    services.dispose()


def orders_of(*cards_and_skus: tuple[str, str]) -> list[Order]:
    made = workload.orders(len(cards_and_skus), prefix=f"o{uuid.uuid4().hex[:6]}")
    return [
        Order(o.order_id, o.customer, o.email, card, o.amount_cents, sku, 1)
        for o, (card, sku) in zip(made, cards_and_skus, strict=True)
    ]


async def test_every_event_of_an_order_carries_its_id_as_correlation_and_its_trace(
    spied: tuple[Choreographed, Services, Spy],
) -> None:
    design, services, spy = spied
    done, declined, short = orders_of(
        ("tok_visa", workload.PLENTY_SKU),
        ("tok_declined", workload.PLENTY_SKU),
        ("tok_visa", workload.SCARCE_SKU),
    )
    await run(design, services, [done, declined, short])
    flows = {
        done.order_id: [s.ORDER_PLACED, s.PAYMENT_CHARGED, s.STOCK_RESERVED],
        declined.order_id: [s.ORDER_PLACED, s.PAYMENT_DECLINED],
        short.order_id: [s.ORDER_PLACED, s.PAYMENT_CHARGED, s.OUT_OF_STOCK, s.PAYMENT_REFUNDED],
    }
    await eventually(lambda: all(len(spy.of(oid)) == len(kinds) for oid, kinds in flows.items()))
    for order_id, kinds in flows.items():
        chain = [spy.one(order_id, kind) for kind in kinds]
        assert all(headers["correlation-id"] == order_id for _, headers in chain)  # the orders service's
        for (cause, _), (_, headers) in itertools.pairwise(chain):
            assert headers["causation-id"] == cause["id"]  # each fact names the one it reacted to
        traces = {headers["traceparent"].split("-")[1] for _, headers in chain}
        assert len(traces) == 1  # one trace per order


async def test_an_event_delivered_again_has_no_second_effect(
    spied: tuple[Choreographed, Services, Spy],
) -> None:
    design, services, spy = spied
    [order] = orders_of(("tok_visa", workload.PLENTY_SKU))
    await run(design, services, [order])
    flow = [s.ORDER_PLACED, s.PAYMENT_CHARGED, s.STOCK_RESERVED]
    await eventually(lambda: len(spy.of(order.order_id)) == len(flow))
    handled = {name: p.counters.handled for name, p in design.participants.items()}
    events = [spy.one(order.order_id, kind)[0] for kind in flow]
    entries = [
        {
            "Source": e["source"],
            "DetailType": e["detail-type"],
            "Detail": json.dumps(e["detail"]),
            "EventBusName": design.event_bus,
        }
        for e in events
    ]
    ids = [e["id"] for e in events]
    answer = await design.bus.put_events(entries * 2, ids=ids * 2)  # each event twice more, same ids
    assert answer["FailedEntryCount"] == 0

    # payment sees OrderPlaced, inventory PaymentCharged, the view and notification StockReserved: twice each
    participants = design.participants
    await eventually(lambda: all(p.counters.duplicates == 2 for p in participants.values()))
    assert {name: p.counters.handled for name, p in participants.items()} == handled
    assert [e["kind"] for e in services.payment.ledger(order.order_id)] == ["charge"]
    assert services.inventory.stock(workload.PLENTY_SKU) == 9
    assert [m["kind"] for m in services.notification.sent(order.order_id)] == ["confirmed"]
    for participant in participants.values():  # a duplicate publishes nothing
        assert participant.outbox is None or participant.outbox.pending(10) == []
    assert {e["id"] for e, _ in spy.of(order.order_id)} == set(ids)


def serve_here(service: str, data_dir: str, transport_url: str, event_bus: str, ready: Any) -> None:
    """A service process (multiprocessing's target): the service alone, over the shared catalog and log."""
    where = Path(data_dir)
    asyncio.run(
        serve(
            service,
            services_url=None,
            data_dir=where,
            transport_url=transport_url,
            catalog_url=f"sqlite:///{where / 'catalog.db'}",
            event_bus=event_bus,
            faults=Faults({"payment": 0.2, "notification": 0.2}, seed=3),
            channel=Where("sqlite", where).channel(),
            backoff=Backoff(base=0.01, cap=0.05),
            consumer_settings=ConsumerSettings(fetch_wait=0.1, ack_wait=10.0, reconnect_seconds=0.05),
            ready=ready.set,
        )
    )


@pytest.mark.slow
async def test_services_in_processes_of_their_own(sqlite: Where) -> None:
    """Payment, inventory and notification each in a process of its own with only its database, the
    catalog and the SQLite log; this process runs the orders service and places the orders."""
    batch = workload.orders(40, decline_rate=0.1, out_of_stock_rate=0.2, seed=5, prefix="p")
    services = sqlite.services()
    stocked = workload.stock_for(batch)
    services.inventory.set_stock(stocked)
    design = sqlite.design(services, here=["orders"])
    spawn = multiprocessing.get_context("spawn")
    processes = []
    try:
        for service in ("payment", "inventory", "notification"):
            ready = spawn.Event()
            transport_url = url_for("sqlite", sqlite.data_dir)
            args = (service, str(sqlite.data_dir), transport_url, design.event_bus, ready)
            process = spawn.Process(target=serve_here, args=args, daemon=True)
            process.start()
            processes.append((process, ready))
        for process, ready in processes:
            assert await asyncio.to_thread(ready.wait, DEADLINE), f"{process} did not start"
        await design.start()
        assert list(design.participants) == ["orders"]
        await run(design, services, batch)
    finally:
        for process, _ in processes:
            process.terminate()
            process.join(10)
        await design.stop()
    audit_all(services, batch, stocked, sqlite)
    services.dispose()


async def test_orders_are_placed_where_the_orders_service_runs(sqlite: Where) -> None:
    services = sqlite.services()
    design = sqlite.design(services, here=["payment"])
    await design.start()
    try:
        with pytest.raises(RuntimeError, match="with the orders service"):
            await design.place(workload.orders(1)[0])
    finally:
        await design.stop()
        services.dispose()
    with pytest.raises(ValueError, match="unknown services"):
        Choreographed(services, design.bus, here=["shipping"])


async def test_open_puts_the_bus_in_the_data_directory(tmp_path: Path) -> None:
    services = open_services(None, tmp_path)
    batch = workload.orders(3, decline_rate=0.0, out_of_stock_rate=0.0)
    services.inventory.set_stock(workload.stock_for(batch))
    design = Choreographed.open(services, tmp_path, backoff=Backoff(base=0.01, cap=0.05))
    try:
        await design.start()
        await run(design, services, batch)
    finally:
        await design.stop()
        services.dispose()
    assert design.event_bus == s.DEFAULT_EVENT_BUS
    assert (tmp_path / "bus.db").exists() and (tmp_path / "catalog.db").exists()


async def test_an_event_that_is_not_an_order_is_dead_lettered_at_once(sqlite: Where) -> None:
    """Retrying cannot mend it: the dead-letter queue gets it on the first attempt, saying why."""
    services = sqlite.services()
    design = sqlite.design(services)
    await design.start()
    try:
        entry = s.entry("orders", s.ORDER_PLACED, {"order": {"orderId": "o-x"}}, design.event_bus)
        await design.bus.put_events([entry])
        events = Client(design.bus)

        async def letters() -> list[dict[str, Any]]:
            return list((await events.list_dead_letters(EventBusName=design.event_bus))["DeadLetters"])

        found = await eventually(letters)
    finally:
        await design.stop()
        services.dispose()
    [letter] = found
    assert (letter["Rule"], letter["ErrorCode"], letter["Attempts"]) == (
        "choreographed-payment",
        "MalformedDetail",
        1,
    )
    assert services.payment.get("o-x") is None


def test_an_order_placed_again_publishes_nothing_again(tmp_path: Path) -> None:
    """A client unsure whether its placement went through (the database dropped the connection) places
    again: the order is recorded once and its OrderPlaced is in the outbox once."""
    services = open_services(None, tmp_path)
    try:
        outbox = Outbox(services.orders.engine)
        first, second = workload.orders(2)
        place(services.orders, outbox, [(first, None)])
        place(services.orders, outbox, [(first, None), (second, None)])
        rows = outbox.pending(10)
        assert [row.entry["DetailType"] for row in rows] == [s.ORDER_PLACED, s.ORDER_PLACED]
        assert [json.loads(row.entry["Detail"])["order"]["orderId"] for row in rows] == [
            first.order_id,
            second.order_id,
        ]
        assert [services.orders.get(o.order_id)["status"] for o in (first, second)] == ["pending"] * 2
    finally:
        services.dispose()
