"""The choreographed design: the services react to each other's events on the bus; no component holds the
whole flow.

::

    design = Choreographed.open(services, data_dir, transport_url="nats://127.0.0.1:4222")
    await design.start()            # event bus, one rule + target per service, handlers, outbox relays
    await design.place(order)       # pending + OrderPlaced, one transaction of the orders database
    ...                             # the orders view says when each order is decided
    await design.stop()

Each service is a :class:`~.choreography_participant.Participant`: it subscribes with an event pattern to
the facts it cares about (:mod:`.choreography_subscriptions`), reacts in one transaction of its own
database holding its inbox record, its change and the facts it publishes through its own outbox
(:mod:`.choreography_reactions`). This class only puts the four participants in one process; with
services in processes of their own, each calls ``attach`` for itself.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

from stepdance.bus import Backoff, Bus, Client, ConsumerSettings, RetryPolicy, open_catalog
from stepdance.bus.transports import open_transport
from stepdance.order import tracing
from stepdance.order.designs import choreography_subscriptions as s
from stepdance.order.designs.base import Services
from stepdance.order.designs.batching import Batcher
from stepdance.order.designs.choreography_participant import (
    Participant,
    Placement,
    attach,
    ensure_event_bus,
    place,
)
from stepdance.order.model import Order
from stepdance.settings import Settings


class Choreographed:
    """The saga as a choreography over ``bus`` (see the module docstring). ``owns_bus``: start the bus with
    the design and stop it, its transport and its catalog with it. ``here``: the services this process
    serves (all of them by default; the others run elsewhere, see :mod:`.choreography_service`); placing
    orders needs ``orders`` among them."""

    name = "choreographed"

    def __init__(
        self,
        services: Services,
        bus: Bus,
        *,
        event_bus: str = s.DEFAULT_EVENT_BUS,
        retry: RetryPolicy | None = None,
        owns_bus: bool = False,
        here: Sequence[str] = s.PARTICIPANTS,
    ) -> None:
        unknown = sorted(set(here) - set(s.PARTICIPANTS))
        if unknown:
            raise ValueError(f"unknown services {unknown} (known: {', '.join(s.PARTICIPANTS)})")
        self.services = services
        self.bus = bus
        self.event_bus = event_bus
        self.retry = retry
        self.owns_bus = owns_bus
        self.here = tuple(here)
        self.participants: dict[str, Participant] = {}
        self._started = False
        self._placer: Batcher[Placement] | None = None

    @classmethod
    def open(
        cls,
        services: Services,
        data_dir: Path,
        *,
        transport_url: str | None = None,
        catalog_url: str | None = None,
        settings: Settings | None = None,
        event_bus: str = s.DEFAULT_EVENT_BUS,
        retry: RetryPolicy | None = None,
        backoff: Backoff | None = None,
        consumer_settings: ConsumerSettings | None = None,
    ) -> Choreographed:
        """The design on a bus of its own: the transport at ``transport_url`` (default: the SQLite log
        ``<data_dir>/bus.db``) and the catalog at ``catalog_url`` (default ``<data_dir>/catalog.db``)."""
        where = data_dir.resolve()
        where.mkdir(parents=True, exist_ok=True)
        catalog = open_catalog(catalog_url or f"sqlite:///{where / 'catalog.db'}")
        try:
            transport = open_transport(transport_url or f"sqlite:///{where / 'bus.db'}")
        except BaseException:
            catalog.close()
            raise
        bus = Bus(catalog, transport, settings, backoff=backoff, consumer_settings=consumer_settings)
        return cls(services, bus, event_bus=event_bus, retry=retry, owns_bus=True)

    async def start(self) -> None:
        """Make the event bus, the rules and the targets (idempotent), serve every service's target here
        and relay the publishing services' outboxes."""
        if self._started:
            return
        self._started = True
        if self.owns_bus:
            await self.bus.start()
        await ensure_event_bus(Client(self.bus), self.event_bus)
        for service in self.here:
            target = getattr(self.services, service)
            self.participants[service] = await attach(
                self.bus, service, target, event_bus=self.event_bus, retry=self.retry
            )
        outbox = self.participants["orders"].outbox if "orders" in self.participants else None
        if outbox is not None:
            self._placer = Batcher(
                functools.partial(place, self.services.orders, outbox, event_bus=self.event_bus)
            )

    async def place(self, order: Order) -> None:
        """The order is pending, and its OrderPlaced event in the orders outbox, when this returns. Orders
        placed at the same time share one transaction (group commit)."""
        if self._placer is None:
            raise RuntimeError("the choreographed design is not started here with the orders service")
        with tracing.placing(order.order_id, self.name) as trace:
            await self._placer.submit((order, trace))

    async def stop(self) -> None:
        """Stop relaying and delivering; what is committed stays (outbox rows are relayed after a restart,
        undelivered events stay in the transport)."""
        if self._placer is not None:
            await self._placer.flush()
            self._placer = None
        for participant in self.participants.values():
            await participant.detach()
        self.participants.clear()
        self._started = False
        if self.owns_bus:
            await self.bus.stop()
            await self.bus.transport.close()
            self.bus.catalog.close()
