"""The choreography runtime: an EventBridge-style event bus.

::

    catalog = open_catalog("sqlite:///.stepdance/bus.db")          # buses, rules, targets, archives, DLQ
    transport = open_transport("sqlite:///.stepdance/events.db")   # or nats://, redis://, amqp://
    async with Bus(catalog, transport) as bus:
        bus.register("reserve", reserve)                           # a Python handler target
        events = Client(bus)                                       # boto3's ``events`` client
        await events.put_rule(Name="paid", EventPattern='{"detail-type": ["PaymentCharged"]}')
        await events.put_targets(Rule="paid", Targets=[{"Id": "1", "Arn": handler_arn(settings, "reserve")}])
        await events.put_events(Entries=[{"Source": "payment", "DetailType": "PaymentCharged", "Detail": "{}"}])

``stepdance.bus.patterns`` is the pure event-pattern language; ``stepdance.bus.transports`` the message
transports; :class:`Outbox` and :class:`Inbox` give services exactly-once effects over at-least-once
delivery. See ``docs/bus.md``.
"""

from stepdance.bus.catalog import Catalog, open_catalog
from stepdance.bus.client import Client
from stepdance.bus.consumer import ConsumerSettings
from stepdance.bus.errors import EventsError
from stepdance.bus.inbox import GroupRolledBack, Inbox
from stepdance.bus.names import handler_arn
from stepdance.bus.outbox import Outbox, OutboxEntryError, OutboxRelay
from stepdance.bus.retry import Backoff, RetryPolicy
from stepdance.bus.runtime import Bus
from stepdance.bus.targets import DeliveryContext, TargetFailure

__all__ = [
    "Backoff",
    "Bus",
    "Catalog",
    "Client",
    "ConsumerSettings",
    "DeliveryContext",
    "EventsError",
    "GroupRolledBack",
    "Inbox",
    "Outbox",
    "OutboxEntryError",
    "OutboxRelay",
    "RetryPolicy",
    "TargetFailure",
    "handler_arn",
    "open_catalog",
]
