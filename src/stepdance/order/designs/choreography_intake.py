"""The way into the choreography from outside: an ``OrderCreated`` event on the ``default`` bus, as a user
puts it with boto3 (``put_events(Entries=[{"Source": "orders", "DetailType": "OrderCreated", "Detail":
json.dumps({"orderId": ...})}])``), becomes an order placed by the orders service, whose ``OrderPlaced``
starts the saga.

The rule and its target are added by :func:`subscribe_intake` where the HTTP API serves the choreography
(``stepdance serve``), not by the design itself: a run that places its own orders has no use for it. Placing
is idempotent (the orders view keeps the first placement and publishes nothing again), so a redelivered
``OrderCreated`` starts nothing twice; a detail that is not an order goes to the dead-letter queue at once.
"""

from __future__ import annotations

import json
from typing import Any

from stepdance.bus import Client, RetryPolicy, TargetFailure, handler_arn
from stepdance.bus.targets import DeliveryContext
from stepdance.order import intake
from stepdance.order.designs.choreographed import Choreographed
from stepdance.order.model import InvalidOrder

RULE = "choreographed-intake"
HANDLER = "choreographed-intake"
RETRY_ATTEMPTS = 10  # as the orders service's own target: its database may be away for a while


async def subscribe_intake(design: Choreographed, *, event_bus: str = "default") -> None:
    """Route ``OrderCreated`` events of ``event_bus`` to ``design``'s orders service (idempotent)."""

    async def accept(detail: Any, context: DeliveryContext) -> None:
        try:
            order = intake.order_from(detail)
        except InvalidOrder as error:
            raise TargetFailure("MalformedDetail", str(error), retryable=False) from None
        await design.place(order)

    design.bus.register(HANDLER, accept)
    events = Client(design.bus)
    await events.put_rule(
        Name=RULE,
        EventBusName=event_bus,
        EventPattern=json.dumps(intake.INTAKE_PATTERN),
        Description="orders created outside start the choreographed saga",
    )
    target = {
        "Id": "orders",
        "Arn": handler_arn(design.bus.settings, HANDLER),
        "InputPath": "$.detail",
        "RetryPolicy": RetryPolicy(maximum_retry_attempts=RETRY_ATTEMPTS).shape(),
    }
    await events.put_targets(Rule=RULE, EventBusName=event_bus, Targets=[target])
