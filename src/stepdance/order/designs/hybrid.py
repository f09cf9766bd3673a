"""The hybrid design: the engine runs the money and stock steps and publishes the outcome; notification
reacts to it on the bus.

::

    async with Bus(catalog, transport, settings) as bus:
        design = Hybrid(services, open_store(settings.store), bus, settings)
        await design.start()               # the event bus, its rule and target; the state machine
        await design.place(order)
        await design.stop()                # the engine it owns; the bus is the caller's

The definition (``saga_hybrid.asl.json``) charges and reserves as the orchestrated one does (a decline
cancels without reserving, a stock-out refunds), records the decision in the orders view, then publishes
``OrderCompleted`` or ``OrderCancelled`` on the event bus ``stepdance-hybrid`` with Step Functions'
EventBridge integration (``arn:aws:states:::events:putEvents``), retried; if it still cannot publish, the
order stays decided (as an undeliverable notification never undoes it in the orchestrated design).

The orders view is updated by the engine's tasks, not from the events: the orchestrator holds the decision,
so the view says completed or cancelled as soon as money and stock agree, without waiting for the bus, and
the notification is the only step that is choreographed.

Notification subscribes with one rule, ``{"source": ["stepdance.orders"], "detail-type": ["OrderCompleted",
"OrderCancelled"]}``, targeting a handler that sends through an :class:`~stepdance.bus.Inbox` in the
notification service's own database: the message's record and the event's inbox row commit together, so
an event delivered twice is handled once. Which message an event asks for is :func:`notice_kind`'s call.
A transient failure (``ServiceUnavailable``) is retried by the bus with back-off; a message the channel
refuses for good goes to the dead-letter queue at once.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from stepdance.bus import Bus, DeliveryContext, Inbox, TargetFailure, handler_arn
from stepdance.bus import Client as EventsClient
from stepdance.bus.errors import ResourceAlreadyExistsException
from stepdance.engine import Engine
from stepdance.order import tracing
from stepdance.order.designs.base import Services
from stepdance.order.designs.orchestrated import Orchestrated
from stepdance.order.model import OrderError
from stepdance.settings import Settings
from stepdance.store import Store

BUS = "stepdance-hybrid"
SOURCE = "stepdance.orders"
COMPLETED, CANCELLED = "OrderCompleted", "OrderCancelled"
RULE = "notify-customer"
HANDLER = "stepdance-hybrid-notification"
PATTERN = {"source": [SOURCE], "detail-type": [COMPLETED, CANCELLED]}
CONSUMER = "notification"  # the inbox's consumer name


def notice_kind(event: dict[str, Any]) -> str:
    """The message an outcome event asks for: confirmed, payment_failed (a declined payment) or
    cancelled (anything else that cancelled the order)."""
    if event["detail-type"] == COMPLETED:
        return "confirmed"
    return "payment_failed" if event["detail"].get("error") == "PaymentDeclined" else "cancelled"


NOTIFY_RETRY_ATTEMPTS = 6


class Hybrid(Orchestrated):
    """Money and stock orchestrated by the engine, notification choreographed on the bus."""

    name = "hybrid"
    definition_file = "saga_hybrid.asl.json"
    machine_name = "stepdance-order-saga-hybrid"

    def __init__(
        self, services: Services, engine: Engine | Store, bus: Bus, settings: Settings | None = None
    ) -> None:
        super().__init__(services, engine, settings)
        self.bus = bus
        self.events = EventsClient(bus)
        self.inbox = Inbox(services.notification.engine, consumer=CONSUMER)

    async def start(self) -> None:
        self.engine.register_put_events(self.events)
        await self._subscribe()  # before any execution can publish: the target keeps events from now on
        await super().start()

    async def _subscribe(self) -> None:
        with contextlib.suppress(ResourceAlreadyExistsException):
            await self.events.create_event_bus(Name=BUS)
        self.bus.register(HANDLER, self.notify)
        await self.events.put_rule(Name=RULE, EventBusName=BUS, EventPattern=json.dumps(PATTERN))
        target = {
            "Id": "notification",
            "Arn": handler_arn(self.bus.settings, HANDLER),
            # as the orchestrated saga's notification Retry: past it, dead-lettered for a person
            "RetryPolicy": {"MaximumRetryAttempts": NOTIFY_RETRY_ATTEMPTS},
        }
        await self.events.put_targets(Rule=RULE, EventBusName=BUS, Targets=[target])

    def notify(self, event: dict[str, Any], context: DeliveryContext) -> None:
        """Send the message an outcome event asks for, once per event (and once per order and kind)."""
        detail = event["detail"]
        with tracing.operation("notification", "notify", tracing.order_id_of(detail), context.span):
            self._notify(event, detail, context)

    def _notify(self, event: dict[str, Any], detail: Any, context: DeliveryContext) -> None:
        try:
            with self.inbox.once(context) as tx:
                if tx is not None:
                    self.services.notification.send(
                        tx, detail["orderId"], notice_kind(event), detail["email"]
                    )
        except OrderError as error:
            raise TargetFailure(error.code, error.cause, retryable=error.retriable) from None
        except (KeyError, ValueError) as error:
            raise TargetFailure(
                "MalformedOutcome", f"{type(error).__name__}: {error}", retryable=False
            ) from None
