"""The hybrid design end to end: money and stock on the engine, the outcome published with the putEvents
integration, notification reacting on the bus through an inbox."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

import pytest

from stepdance.asl.validate import is_valid, validate_text
from stepdance.bus import Client as EventsClient
from stepdance.bus import handler_arn
from stepdance.order.designs.base import Services
from stepdance.order.designs.hybrid import BUS, CONSUMER, RULE, Hybrid, notice_kind
from stepdance.order.run import run_orders
from tests.bus.transports.backends import skip_unless_up
from tests.order.designs.conftest import SETTINGS, Deployment, close_bus, running_bus
from tests.order.designs.saga_checks import (
    Refusing,
    all_notified,
    channel,
    eventually,
    run_mixed_workload,
)
from tests.order.helpers import order


@pytest.fixture
def bus_deployment(deployment: Deployment) -> Deployment:
    """The deployment, its bus over NATS on the servers (skipped, naming NATS, when it is not reachable)."""
    if deployment.kind == "postgres":
        skip_unless_up("nats")
    return deployment


@asynccontextmanager
async def hybrid(deployment: Deployment, services: Services) -> AsyncIterator[Hybrid]:
    store = deployment.store()
    bus, catalog, transport = await running_bus(deployment)
    running = Hybrid(services, store, bus, SETTINGS)
    await running.start()
    try:
        yield running
        await eventually(lambda: running.engine.running == 0)  # let the executions end before stopping
    finally:
        await running.stop()
        await close_bus(bus, catalog, transport)
        store.close()
        services.dispose()


def test_the_definition_ships_in_the_package_publishes_on_the_design_bus_and_is_valid() -> None:
    text = resources.files("stepdance.order").joinpath("saga_hybrid.asl.json").read_text(encoding="utf-8")
    problems = validate_text(text)
    assert is_valid(problems), problems
    publishing = [
        s for s in json.loads(text)["States"].values() if "events:putEvents" in s.get("Resource", "")
    ]
    entries = [e for s in publishing for e in s["Parameters"]["Entries"]]
    assert {(e["EventBusName"], e["DetailType"]) for e in entries} == {
        (BUS, "OrderCompleted"),
        (BUS, "OrderCancelled"),
    }


def test_an_outcome_asks_for_the_message_that_tells_it() -> None:
    def event(detail_type: str, **detail: Any) -> dict[str, Any]:
        return {"detail-type": detail_type, "detail": detail}

    assert notice_kind(event("OrderCompleted")) == "confirmed"
    assert notice_kind(event("OrderCancelled", error="PaymentDeclined")) == "payment_failed"
    assert notice_kind(event("OrderCancelled", error="OutOfStock")) == "cancelled"


async def test_a_mixed_workload_ends_as_expected_and_the_services_agree(
    bus_deployment: Deployment,
) -> None:
    services, batch = await run_mixed_workload(bus_deployment, hybrid)
    retried = [o for o in batch if services.notification.faults.attempts("notification", o.order_id) > 1]
    assert retried, "the workload should make some notifications fail once and be redelivered"


async def test_each_outcome_is_one_event_whose_detail_the_definition_wrote(sqlite: Deployment) -> None:
    services = sqlite.services(channel=channel(sqlite.data_dir))
    services.inventory.set_stock({"sku-a": 1})
    batch = [order("ok"), order("declined", card="tok_declined"), order("short", sku="sku-none")]
    async with hybrid(sqlite, services) as design:
        seen: list[dict[str, Any]] = []
        design.bus.register("spy", seen.append)
        events = EventsClient(design.bus)
        await events.put_rule(Name="spy", EventBusName=BUS, EventPattern='{"source": ["stepdance.orders"]}')
        target = {"Id": "spy", "Arn": handler_arn(design.bus.settings, "spy")}
        await events.put_targets(Rule="spy", EventBusName=BUS, Targets=[target])

        await run_orders(design, batch, timeout=30)
        await eventually(lambda: len(seen) == 3 and all_notified(services, batch))

    by_order = {e["detail"]["orderId"]: e for e in seen}
    assert by_order["ok"]["detail-type"] == "OrderCompleted"
    assert by_order["ok"]["detail"]["chargeId"] == services.payment.get("ok")["chargeId"]  # type: ignore[index]
    assert by_order["declined"]["detail"]["error"] == "PaymentDeclined"
    assert by_order["short"]["detail"]["reason"].startswith("OutOfStock: sku-none")
    assert all(e["resources"][0].endswith(f":{e['detail']['orderId']}") for e in seen)
    assert {(m["orderId"], m["kind"]) for m in services.notification.sent()} == {
        ("ok", "confirmed"),
        ("declined", "payment_failed"),
        ("short", "cancelled"),
    }


async def test_an_undeliverable_notification_is_dead_lettered_and_the_order_stays_completed(
    sqlite: Deployment,
) -> None:
    services = sqlite.services(channel=Refusing())
    services.inventory.set_stock({"sku-a": 1})
    async with hybrid(sqlite, services) as design:
        result = await run_orders(design, [order("o-1")], timeout=30)
        events = EventsClient(design.bus)

        async def dead_letters() -> list[dict[str, Any]]:
            found = await events.list_dead_letters(EventBusName=BUS, Rule=RULE)
            return list(found["DeadLetters"])

        letters = await eventually(dead_letters)  # at once: the failure is not retriable
        view = services.orders.get("o-1")
        assert not design.inbox.handled(letters[0]["EventId"], consumer=CONSUMER)

    assert result.completed == 1
    assert view is not None and view["status"] == "completed"
    assert services.payment.balance("o-1") == order().amount_cents
    assert letters[0]["ErrorCode"] == "NotificationUndeliverable"
    assert services.notification.sent() == []
