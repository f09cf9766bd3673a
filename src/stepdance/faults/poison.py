"""Poison: malformed orders slipped in among the good ones, the way each design takes an order. The
choreography gets an ``OrderPlaced`` event whose detail is not an order; the engine designs get an
execution started with an input that is not one. A design must put each aside (a dead letter, a failed
execution) with its reason and go on with the good orders.
"""

from __future__ import annotations

import json
from typing import Any

from stepdance.bus import Client as EventsClient
from stepdance.order.designs import choreography_subscriptions as s

PREFIX = "poison"


def poison_id(tag: str, index: int) -> str:
    return f"{PREFIX}-{tag}-{index:03d}"


async def inject(design: Any, order_id: str) -> None:
    """One malformed order named ``order_id`` into the running ``design``."""
    garbage: dict[str, Any] = {"orderId": order_id, "amountCents": "a lot", "sku": None}
    machine_arn = getattr(design, "machine_arn", "")
    if machine_arn:  # the engine takes orders: an execution with an input that is not one
        await design.client.start_execution(
            stateMachineArn=machine_arn, name=order_id, input=json.dumps(garbage)
        )
        return
    entry = s.entry("orders", s.ORDER_PLACED, {"order": garbage}, design.event_bus)
    answer = await EventsClient(design.bus).put_events(Entries=[entry])
    if answer["FailedEntryCount"]:
        raise RuntimeError(f"the poison event was refused: {answer['Entries']}")
