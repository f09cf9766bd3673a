"""The orchestrated design end to end: the shipped definition on the engine over the real services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

import pytest

from stepdance.asl.validate import is_valid, validate_text
from stepdance.order.designs.base import Services
from stepdance.order.designs.orchestrated import Orchestrated
from stepdance.order.run import run_orders
from tests.order.designs.conftest import SETTINGS, Deployment
from tests.order.designs.saga_checks import (
    Refusing,
    eventually,
    run_mixed_workload,
)
from tests.order.helpers import order


@asynccontextmanager
async def orchestrated(deployment: Deployment, services: Services) -> AsyncIterator[Orchestrated]:
    store = deployment.store()
    running = Orchestrated(services, store, SETTINGS)
    await running.start()
    try:
        yield running
        await eventually(lambda: running.engine.running == 0)  # let the executions end before stopping
    finally:
        await running.stop()
        store.close()
        services.dispose()


@pytest.fixture
async def design(sqlite: Deployment) -> AsyncIterator[Orchestrated]:
    async with orchestrated(sqlite, sqlite.services()) as running:
        yield running


def test_the_definition_ships_in_the_package_and_is_valid() -> None:
    text = resources.files("stepdance.order").joinpath("saga.asl.json").read_text(encoding="utf-8")
    problems = validate_text(text)
    assert is_valid(problems), problems
    # plain names are stepdance handlers; AWS would want ARNs, which is a warning, not an error
    assert {p.code for p in problems} <= {"INVALID_RESOURCE"}


async def test_a_mixed_workload_ends_as_expected_and_the_services_agree(deployment: Deployment) -> None:
    services, batch = await run_mixed_workload(deployment, orchestrated)
    retried = [o for o in batch if services.payment.faults.attempts("payment", o.order_id) > 1]
    assert retried, "the workload should make some charges fail once and be retried"


async def test_executions_end_as_their_orders_and_a_stock_out_is_refunded(design: Orchestrated) -> None:
    batch = [order("ok"), order("declined", card="tok_declined"), order("short", sku="sku-none")]
    design.services.inventory.set_stock({"sku-a": 1})

    await run_orders(design, batch, timeout=30)

    ended = {o.order_id: await _describe(design, o.order_id) for o in batch}
    assert ended["ok"]["status"] == "SUCCEEDED"
    assert (ended["declined"]["status"], ended["declined"]["error"]) == ("FAILED", "PaymentDeclined")
    assert (ended["short"]["status"], ended["short"]["error"]) == ("FAILED", "OutOfStock")
    assert ended["short"]["cause"].startswith("OutOfStock: sku-none: 0 left")
    assert design.services.payment.get("short")["status"] == "refunded"  # type: ignore[index]
    assert design.services.inventory.get("declined") is None


async def test_placing_an_order_again_starts_no_second_execution(design: Orchestrated) -> None:
    design.services.inventory.set_stock({"sku-a": 5})
    await run_orders(design, [order("twice")], timeout=30)
    await design.place(order("twice"))

    listed = await design.client.list_executions(stateMachineArn=design.machine_arn)
    assert [e["name"] for e in listed["executions"]] == ["twice"]
    assert len(design.services.payment.ledger("twice")) == 1


async def test_a_notification_that_keeps_failing_never_undoes_the_order_and_a_redrive_sends_it(
    sqlite: Deployment,
) -> None:
    """The mail server refuses the message for good: the order stays completed (charged, stock held), the
    execution fails at the notification, visible as such; once the cause is fixed, a redrive sends it."""
    services = sqlite.services(channel=Refusing())
    services.inventory.set_stock({"sku-a": 1})
    async with orchestrated(sqlite, services) as design:
        result = await run_orders(design, [order("o-1")], timeout=30)
        described = await _describe(design, "o-1")
        assert result.completed == 1
        assert services.payment.balance("o-1") == order().amount_cents
        assert services.inventory.get("o-1")["status"] == "reserved"  # type: ignore[index]
        assert (described["status"], described["error"]) == ("FAILED", "NotificationUndeliverable")
        assert services.notification.sent("o-1") == []
        services.notification.channel = Recording()  # the address is fixed
        await design.client.redrive_execution(executionArn=described["executionArn"])
        redriven = await _describe(design, "o-1")
        assert redriven["status"] == "SUCCEEDED"
        assert [r["kind"] for r in services.notification.sent("o-1")] == ["confirmed"]
        assert services.orders.get("o-1")["status"] == "completed"  # type: ignore[index]


class Recording:
    """A channel that takes every message."""

    name = "recording"

    def __init__(self) -> None:
        self.messages: list[Any] = []

    def deliver(self, message: Any) -> None:
        self.messages.append(message)


async def _describe(design: Orchestrated, name: str) -> dict[str, Any]:
    """How the order's execution ended."""
    arn = design.machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
    await design.engine.wait(arn, seconds=30)
    return await design.client.describe_execution(executionArn=arn)
