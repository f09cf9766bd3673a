"""The stepdance side of the benchmarks: the saga, its handlers, and an Engine with its boto3-shaped client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from _common import fsync_setting
from stepdance.engine import Client, Engine
from stepdance.store import Store, open_store

ROLE = "arn:aws:iam::123456789012:role/bench"

# The three-step saga with three trivial tasks: what DBOS runs as a workflow of three steps.
SAGA: dict[str, Any] = {
    "Comment": "order saga: charge, reserve, notify",
    "StartAt": "Charge",
    "States": {
        "Charge": {"Type": "Task", "Resource": "charge", "ResultPath": "$.payment", "Next": "Reserve"},
        "Reserve": {"Type": "Task", "Resource": "reserve", "ResultPath": "$.stock", "Next": "Notify"},
        "Notify": {"Type": "Task", "Resource": "notify", "ResultPath": "$.notice", "End": True},
    },
}


async def charge(order: dict[str, Any]) -> dict[str, Any]:
    return {"charged": order["amount"]}


async def reserve(order: dict[str, Any]) -> dict[str, Any]:
    return {"reserved": order["sku"]}


async def notify(order: dict[str, Any]) -> dict[str, Any]:
    return {"notified": order["customer"]}


def order(i: int) -> str:
    return json.dumps({"amount": i, "sku": "sku-1", "customer": "c"})


class Stepdance:
    """An :class:`Engine` on a store, the saga's handlers registered, and its :class:`Client`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.client = Client(engine)

    @property
    def store(self) -> Store:
        return self.engine.store

    async def create(self, name: str, definition: dict[str, Any]) -> str:
        reply = await self.client.create_state_machine(
            name=name, definition=json.dumps(definition), roleArn=ROLE
        )
        return str(reply["stateMachineArn"])

    async def run(self, arn: str, input_text: str, name: str | None = None) -> str:
        """StartExecution, then wait for the end; the output (the execution must succeed)."""
        kwargs = {"name": name} if name else {}
        started = await self.client.start_execution(stateMachineArn=arn, input=input_text, **kwargs)
        record = await self.engine.wait(started["executionArn"])
        if record.status != "SUCCEEDED":
            raise RuntimeError(f"{record.arn} ended {record.status}: {record.error} {record.cause}")
        return record.output or "null"


@asynccontextmanager
async def stepdance(url: str) -> AsyncIterator[Stepdance]:
    """A running engine on the store at ``url`` (``memory://``, ``sqlite:///...``, ``postgresql://...``)."""
    store = open_store(url)
    try:
        async with Engine(store) as engine:
            for resource, handler in (("charge", charge), ("reserve", reserve), ("notify", notify)):
                engine.register(resource, handler)
            yield Stepdance(engine)
    finally:
        store.close()


def durability(store: Store) -> str:
    """What the store's own write connection says about fsync."""
    writer = getattr(store, "_writer", None)
    return "none (memory store)" if writer is None else fsync_setting(writer)
