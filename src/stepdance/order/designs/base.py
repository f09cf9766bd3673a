"""What every design offers, and the services it coordinates.

A design is started, given orders, and stopped; it never returns an order's outcome: the orders view
(``services.orders``) says when each order was decided, as it would for a user of the real system.
:class:`Services` bundles the four services, each over its own database, built from one configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine

from stepdance.order.channels import Channel, open_channel
from stepdance.order.db import open_service_db
from stepdance.order.faults import Faults
from stepdance.order.inventory import Inventory
from stepdance.order.model import DEFAULT_LIMIT_CENTS, Order
from stepdance.order.notification import Notification
from stepdance.order.orders import Orders
from stepdance.order.payment import Payment

SERVICE_NAMES = ("payment", "inventory", "notification", "orders")


class Design(Protocol):
    """One way of running the saga. ``name`` is ``orchestrated``, ``choreographed`` or ``hybrid``."""

    name: str

    async def start(self) -> None:
        """Be ready to take orders (subscriptions made, workers and relays running)."""

    async def place(self, order: Order) -> None:
        """Take one order: it is ``pending`` in the orders view when this returns, and the design carries
        it on to ``completed`` or ``cancelled`` in the background."""

    async def stop(self) -> None:
        """Stop taking and carrying orders; what is committed stays, and a restart carries it on."""


@dataclass
class Services:
    """The four services of one deployment, each over its own database."""

    payment: Payment
    inventory: Inventory
    notification: Notification
    orders: Orders
    engines: dict[str, Engine] = field(default_factory=dict)  # by service name, to dispose of

    def dispose(self) -> None:
        for engine in self.engines.values():
            engine.dispose()


Service = Payment | Inventory | Notification | Orders


def open_service(
    service: str,
    url: str | None,
    data_dir: Path,
    *,
    faults: Faults | None = None,
    channel: Channel | None = None,
    limit_cents: int = DEFAULT_LIMIT_CENTS,
) -> Service:
    """``service``'s object over its own database (see :func:`~stepdance.order.db.open_service_db`), its
    tables created."""
    if service not in SERVICE_NAMES:
        raise ValueError(f"unknown service {service!r} (one of {', '.join(SERVICE_NAMES)})")
    engine = open_service_db(service, url, data_dir)
    try:
        if service == "payment":
            return Payment(engine, limit_cents=limit_cents, faults=faults).create()
        if service == "inventory":
            return Inventory(engine, faults).create()
        if service == "notification":
            return Notification(engine, channel or open_channel(None, data_dir), faults).create()
        return Orders(engine).create()
    except BaseException:
        engine.dispose()
        raise


def open_services(
    url: str | None,
    data_dir: Path,
    *,
    faults: Faults | None = None,
    channel: Channel | None = None,
    limit_cents: int = DEFAULT_LIMIT_CENTS,
) -> Services:
    """Every service's database under ``url`` (None: SQLite files in ``data_dir``; ``postgresql://...``: a
    schema per service), tables created. Raises :class:`~stepdance.order.db.ServiceDbError` naming the
    address when a database cannot be opened."""
    opened: dict[str, Service] = {}
    try:
        for name in SERVICE_NAMES:
            opened[name] = open_service(
                name, url, data_dir, faults=faults, channel=channel, limit_cents=limit_cents
            )
    except BaseException:
        for service in opened.values():
            service.engine.dispose()
        raise
    payment, inventory, notification, orders = (opened[name] for name in SERVICE_NAMES)
    assert isinstance(payment, Payment) and isinstance(inventory, Inventory)
    assert isinstance(notification, Notification) and isinstance(orders, Orders)
    engines = {name: service.engine for name, service in opened.items()}
    return Services(payment, inventory, notification, orders, engines)
