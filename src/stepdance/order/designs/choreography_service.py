"""One service of the choreography in a process of its own: its database, the bus's catalog and transport,
nothing of the other services. What ``stepdance service <name>`` runs for the choreographed design::

    await serve("payment", services_url=None, data_dir=Path(".stepdance"),
                transport_url="nats://127.0.0.1:4222", catalog_url="sqlite:///.stepdance/catalog.db")

The event bus is created if missing and the service's rule and target are put (both idempotent), so the
services may start in any order; a target's consumer group keeps the events published before its consumer
runs. Several processes may serve one service: its target's consumers share the events.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from stepdance.bus import Bus, Client, ConsumerSettings, open_catalog
from stepdance.bus.retry import Backoff
from stepdance.bus.transports import open_transport
from stepdance.order.channels import Channel
from stepdance.order.designs import choreography_subscriptions as s
from stepdance.order.designs.base import open_service
from stepdance.order.designs.choreography_participant import attach, ensure_event_bus
from stepdance.order.faults import Faults
from stepdance.settings import Settings


async def serve(
    service: str,
    *,
    services_url: str | None,
    data_dir: Path,
    transport_url: str,
    catalog_url: str,
    event_bus: str = s.DEFAULT_EVENT_BUS,
    settings: Settings | None = None,
    faults: Faults | None = None,
    channel: Channel | None = None,
    backoff: Backoff | None = None,
    consumer_settings: ConsumerSettings | None = None,
    ready: Callable[[], None] | None = None,
) -> None:
    """Serve ``service`` until cancelled; ``ready()`` is called once it is subscribed and consuming."""
    target = open_service(service, services_url, data_dir, faults=faults, channel=channel)
    catalog = open_catalog(catalog_url)
    bus = Bus(
        catalog,
        open_transport(transport_url),
        settings,
        backoff=backoff,
        consumer_settings=consumer_settings,
    )
    try:
        await bus.start()
        await ensure_event_bus(Client(bus), event_bus)
        participant = await attach(bus, service, target, event_bus=event_bus)
        if ready is not None:
            ready()
        try:
            await asyncio.Event().wait()  # until cancelled
        finally:
            await participant.detach()
    finally:
        await bus.stop()
        await bus.transport.close()
        catalog.close()
        target.engine.dispose()
