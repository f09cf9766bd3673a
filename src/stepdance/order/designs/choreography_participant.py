"""One service's part in the choreography, wired on a bus: its inbox, its outbox and relay, its rule, its
target and its batch handler. It knows its own reactions and nothing of the other services, so a service
running in a process of its own attaches itself alone, with only its database, the catalog and the
transport::

    bus = Bus(open_catalog(catalog_url), open_transport(transport_url), settings)
    await bus.start()
    payment = Payment(open_service_db("payment", url, data_dir)).create()
    participant = await attach(bus, "payment", payment)      # rule, target, handler, relay
    ...
    await participant.detach()

Each fetched batch of events is handled in ONE transaction of the service's database (``inbox.each()``):
the batch's events are recorded in the inbox, and the service's changes and the outbox rows of the facts it
publishes written, under one savepoint, so an event handled before (a redelivery) changes nothing. When a
reaction fails, that savepoint is taken back and the batch is done again event by event, each in a
savepoint of its own holding its inbox record, change and outbox rows: the failing reaction rolls back
alone and is redelivered by the bus after a back-off (or dead-lettered, see
:func:`~stepdance.order.designs.choreography_reactions.failure`). Notification's events always go one by
one: its sends leave the process, and a batch taken back would send them again.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection

from stepdance import telemetry
from stepdance.bus import (
    Bus,
    Client,
    DeliveryContext,
    Inbox,
    Outbox,
    OutboxRelay,
    RetryPolicy,
    TargetFailure,
    handler_arn,
)
from stepdance.bus import headers as h
from stepdance.bus.errors import ResourceAlreadyExistsException
from stepdance.order import crashpoints, tracing
from stepdance.order.designs import choreography_subscriptions as s
from stepdance.order.designs.base import Service
from stepdance.order.designs.choreography_reactions import ACTIONS, Action, failure
from stepdance.order.model import Order
from stepdance.order.orders import Orders

DESIGN = "choreographed"
CRASH_POINTS = {"payment": "after_charge_before_ack", "inventory": "after_reserve_before_ack"}


@dataclass
class Counters:
    """What a participant's handler has seen, for tests and progress."""

    handled: int = 0  # events whose reaction committed
    duplicates: int = 0  # deliveries of events the inbox had recorded already: no effect
    failed: int = 0  # deliveries whose reaction raised: retried or dead-lettered by the bus
    batches: int = 0  # handler calls (transactions): deliveries / batches is the mean batch


class Participant:
    """``service``'s subscription and handler on ``bus``; see the module docstring."""

    def __init__(
        self,
        bus: Bus,
        service: str,
        target: Service,
        *,
        event_bus: str = s.DEFAULT_EVENT_BUS,
        retry: RetryPolicy | None = None,
    ) -> None:
        if service not in s.PARTICIPANTS:
            raise ValueError(f"unknown service {service!r} (one of {', '.join(s.PARTICIPANTS)})")
        self.bus = bus
        self.service = service
        self.target = target
        self.event_bus = event_bus
        self.retry = retry or RetryPolicy(maximum_retry_attempts=s.RETRY_ATTEMPTS[service])
        self.inbox = Inbox(target.engine, consumer=s.rule_name(service))
        self.outbox = Outbox(target.engine) if s.PUBLISHES[service] else None
        self.relay = OutboxRelay(self.outbox, bus) if self.outbox is not None else None
        self.counters = Counters()
        self._actions: dict[tuple[str, str], Action] = {
            (r.source, r.detail_type): ACTIONS[r.action] for r in s.reactions(service)
        }
        self._lock = threading.Lock()

    async def subscribe(self, events: Client) -> None:
        """Create or update the service's rule and target (idempotent, as PutRule and PutTargets are)."""
        rule = s.rule_name(self.service)
        await events.put_rule(
            Name=rule,
            EventBusName=self.event_bus,
            EventPattern=s.pattern_text(self.service),
            Description=f"what the {self.service} service reacts to",
        )
        target = {
            "Id": self.service,
            "Arn": handler_arn(self.bus.settings, s.handler_name(self.service)),
            "RetryPolicy": self.retry.shape(),
        }
        await events.put_targets(Rule=rule, EventBusName=self.event_bus, Targets=[target])

    async def start(self) -> None:
        """Serve the target in this process and relay the outbox."""
        self.bus.register_batch(s.handler_name(self.service), self.handle)
        if self.relay is not None:
            await self.relay.start()

    async def detach(self) -> None:
        """Stop relaying (the bus stops delivering when it stops)."""
        if self.relay is not None:
            await self.relay.stop()

    def handle(self, items: list[tuple[Any, DeliveryContext]]) -> list[Exception | None]:
        """The batch handler: every event of ``items`` in one transaction; one outcome per event."""
        order = sorted(range(len(items)), key=lambda i: _lock_key(items[i][0]))
        outcomes = self._handle([items[i] for i in order])
        point = CRASH_POINTS.get(self.service)
        if point is not None:  # committed, not acked yet: where a crash tests the inbox
            crashpoints.reach(point, sum(o is None for o in outcomes))
        answer: list[Exception | None] = [None] * len(items)
        for position, index in enumerate(order):
            answer[index] = outcomes[position]
        return answer

    def _handle(self, items: list[tuple[Any, DeliveryContext]]) -> list[Exception | None]:
        # Notification's sends leave the process: a batch taken back whole would send its messages again,
        # so its events always go one by one.
        if self.service != "notification":
            together = self._handle_together(items)
            if together is not None:
                return together
        return self._handle_each(items)

    def _handle_together(self, items: list[tuple[Any, DeliveryContext]]) -> list[Exception | None] | None:
        """The usual batch, where every reaction succeeds: the whole batch in ONE savepoint, its events
        claimed in one statement, none in a savepoint of its own (on PostgreSQL, two fewer round trips per
        event). None when a reaction failed: all of it was taken back, for :meth:`_handle_each`."""
        with self.inbox.each() as batch:
            try:
                with batch.connection.begin_nested():
                    fresh = batch.unhandled(items)
                    rows: list[dict[str, Any]] = []
                    for event, context in fresh:
                        rows += self._react(batch.connection, event, context)
                    if rows:
                        assert self.outbox is not None  # _react made rows: the service publishes
                        self.outbox.write(batch.connection, rows)
            except Exception:
                return None
        with self._lock:
            self.counters.handled += len(fresh)
            self.counters.duplicates += len(items) - len(fresh)
            self.counters.batches += 1
        return [None] * len(items)

    def _handle_each(self, items: list[tuple[Any, DeliveryContext]]) -> list[Exception | None]:
        """Each event in a savepoint of its own: a failing reaction rolls back alone."""
        rows: list[dict[str, Any]] = []
        handled = duplicates = 0
        with self.inbox.each() as batch:
            for event, context in items:
                with batch.once(context) as tx:
                    if tx is None:
                        duplicates += 1
                    else:
                        rows += self._react(tx, event, context)
                        handled += 1
            if rows:
                assert self.outbox is not None  # _react made rows: the service publishes
                self.outbox.write(batch.connection, rows)
        outcomes = [None if o is None else failure(o) for o in batch.outcomes]
        with self._lock:
            self.counters.handled += handled
            self.counters.duplicates += duplicates
            self.counters.failed += len(items) - handled - duplicates
            self.counters.batches += 1
        return outcomes

    def _react(
        self, tx: Connection, event: Mapping[str, Any], context: DeliveryContext
    ) -> list[dict[str, Any]]:
        """Run the event's reaction in ``tx``; the outbox rows of the facts it publishes."""
        action = self._actions.get((event.get("source", ""), event.get("detail-type", "")))
        if action is None:  # the rule matched what this version does not react to: a newer rule
            raise TargetFailure(
                "UnexpectedEvent",
                f"the {self.service} service has no reaction to {event.get('detail-type')!r}",
                retryable=False,
            )
        order_id = tracing.order_id_of(event["detail"])
        with tracing.operation(self.service, action.__name__, order_id, context.span):
            facts = action(self.target, tx, event["detail"])
            # what it publishes is the operation's doing: its span is their parent (None: tracing is off)
            return self._publish(facts, replace(context, span=telemetry.current_traceparent()))

    def _publish(self, facts: list[tuple[str, Any]], context: DeliveryContext) -> list[dict[str, Any]]:
        """The outbox rows of ``facts``, caused by the delivery ``context``."""
        outbox = self.outbox
        if outbox is None:
            if facts:
                raise RuntimeError(f"the {self.service} service publishes nothing, yet it made {facts[0][0]}")
            return []
        return [
            outbox.row(s.entry(self.service, kind, detail, self.event_bus), caused_by=context)[1]
            for kind, detail in facts
        ]


def _lock_key(event: Any) -> str:
    """Where a batch's event goes in the batch: by the order's SKU. The only rows that reactions to
    different orders share are a SKU's stock; two transactions that take them in one order cannot
    deadlock (PostgreSQL found two inventory batches taking ``sku-plenty`` and ``sku-limited`` each in the
    other's order, and killed one of them every few seconds)."""
    try:
        return str(event["detail"]["order"]["sku"])
    except (KeyError, TypeError):
        return ""  # not an order: the reaction says what is wrong with it


async def attach(
    bus: Bus,
    service: str,
    target: Service,
    *,
    event_bus: str = s.DEFAULT_EVENT_BUS,
    retry: RetryPolicy | None = None,
) -> Participant:
    """``service`` (``target`` is its service object) subscribed on ``bus``, its handler registered and its
    outbox relayed. The event bus must exist (:func:`ensure_event_bus`)."""
    participant = Participant(bus, service, target, event_bus=event_bus, retry=retry)
    await participant.subscribe(Client(bus))
    await participant.start()
    return participant


async def ensure_event_bus(events: Client, name: str) -> None:
    """Create the event bus ``name`` unless it exists."""
    with contextlib.suppress(ResourceAlreadyExistsException):
        await events.create_event_bus(Name=name, Description="the order saga, choreographed")


Placement = tuple[Order, str | None]  # an order and the traceparent of its root span


def place(
    orders: Orders, outbox: Outbox, batch: Sequence[Placement], event_bus: str = s.DEFAULT_EVENT_BUS
) -> None:
    """The orders service takes the orders of ``batch``: each pending in the view and its ``OrderPlaced``
    in the outbox, all in one transaction of its database. That event starts the order's flow; it carries
    the order's id as its correlation id and the order's trace. An order placed before (a client placing
    again after an error that left it unsure) publishes nothing again."""
    with outbox.transaction() as tx:
        for order, trace in batch:
            if orders.place_once(tx.connection, order, DESIGN)[1]:
                headers = {h.CORRELATION: order.order_id, **({h.TRACEPARENT: trace} if trace else {})}
                entry = s.entry("orders", s.ORDER_PLACED, {"order": order.to_json()}, event_bus)
                tx.publish(entry, headers=headers)
