"""The Cloud Workflows design end to end: the shipped YAML on the engine, calling the real services over
HTTP, compensating with try/except."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

import pytest

from stepdance.engine import Client
from stepdance.gcw.syntax import validate
from stepdance.order.designs.base import Services
from stepdance.order.designs.services_http import SERVICES_HOST
from stepdance.order.designs.workflows_saga import WorkflowsSaga
from stepdance.order.run import run_orders
from tests.order.designs.conftest import SETTINGS, Deployment
from tests.order.designs.saga_checks import (
    Refusing,
    channel,
    eventually,
    run_mixed_workload,
)
from tests.order.helpers import order

pytestmark = pytest.mark.timeout(120)


@asynccontextmanager
async def workflows(deployment: Deployment, services: Services) -> AsyncIterator[WorkflowsSaga]:
    store = deployment.store()
    running = WorkflowsSaga(services, store, SETTINGS)
    await running.start()
    try:
        yield running
        await eventually(lambda: running.engine.running == 0)
    finally:
        await running.stop()
        store.close()
        services.dispose()


@pytest.fixture
async def design(sqlite: Deployment) -> AsyncIterator[WorkflowsSaga]:
    async with workflows(sqlite, sqlite.services()) as running:
        yield running


def test_the_definition_ships_in_the_package_and_is_valid() -> None:
    text = resources.files("stepdance.order").joinpath("saga.workflows.yaml").read_text(encoding="utf-8")
    assert validate(text) == []


async def test_a_mixed_workload_ends_as_expected_and_the_services_agree(deployment: Deployment) -> None:
    services, batch = await run_mixed_workload(deployment, workflows, seconds=90)
    retried = [o for o in batch if services.payment.faults.attempts("payment", o.order_id) > 1]
    assert retried, "the workload should make some charges fail once (a 503) and be retried"


async def test_executions_end_as_their_orders_with_the_steps_over_http(design: WorkflowsSaga) -> None:
    batch = [order("ok"), order("declined", card="tok_declined"), order("short", sku="sku-none")]
    design.services.inventory.set_stock({"sku-a": 1})

    await run_orders(design, batch, timeout=30)

    ended = {o.order_id: await _describe(design, o.order_id) for o in batch}
    assert ended["ok"]["status"] == "SUCCEEDED"
    assert json.loads(ended["ok"]["output"])["status"] == "completed"
    assert (ended["declined"]["status"], ended["declined"]["error"]) == ("FAILED", "PaymentDeclined")
    assert (ended["short"]["status"], ended["short"]["error"]) == ("FAILED", "OutOfStock")
    assert json.loads(ended["short"]["cause"])["message"].startswith("sku-none: 0 left")
    assert design.services.payment.get("short")["status"] == "refunded"  # type: ignore[index]
    assert design.services.inventory.get("declined") is None
    assert design.services.orders.get("short")["reason"].startswith("OutOfStock: sku-none")  # type: ignore[index]

    history = await _history(design, "ok")
    urls = [
        json.loads(e["taskScheduledEventDetails"]["parameters"])["url"]
        for e in history
        if e["type"] == "TaskScheduled"
    ]
    assert urls == [
        f"http://{SERVICES_HOST}/services/{path}"
        for path in ("payment/charge", "inventory/reserve", "orders/complete", "notification/send")
    ]


async def test_an_order_started_from_outside_is_accepted_first(design: WorkflowsSaga) -> None:
    design.services.inventory.set_stock({"sku-plenty": 5})
    started = await design.client.start_execution(
        stateMachineArn=design.machine_arn, name="outside-1", input=json.dumps({"orderId": "outside-1"})
    )
    await design.engine.wait(started["executionArn"], 30)
    assert design.services.orders.get("outside-1")["design"] == "workflows"  # type: ignore[index]


async def test_a_notification_that_keeps_failing_never_undoes_the_order_and_a_redrive_sends_it(
    sqlite: Deployment,
) -> None:
    services = sqlite.services(channel=Refusing())
    services.inventory.set_stock({"sku-a": 1})
    async with workflows(sqlite, services) as design:
        result = await run_orders(design, [order("o-1")], timeout=30)
        described = await _describe(design, "o-1")
        assert result.completed == 1
        assert (described["status"], described["error"]) == ("FAILED", "HttpError")
        assert json.loads(described["cause"])["code"] == 422
        assert services.notification.sent("o-1") == []
        services.notification.channel = channel(sqlite.data_dir)  # the address is fixed
        await design.client.redrive_execution(executionArn=described["executionArn"])
        redriven = await _describe(design, "o-1")
        assert redriven["status"] == "SUCCEEDED"
        assert [r["kind"] for r in services.notification.sent("o-1")] == ["confirmed"]


async def _describe(design: WorkflowsSaga, name: str) -> dict[str, Any]:
    arn = design.machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
    await design.engine.wait(arn, seconds=30)
    return await design.client.describe_execution(executionArn=arn)


async def _history(design: WorkflowsSaga, name: str) -> list[dict[str, Any]]:
    arn = design.machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
    page = await Client(design.engine).get_execution_history(executionArn=arn, maxResults=1000)
    return list(page["events"])
