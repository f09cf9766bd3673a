"""The order process's services: payment, inventory, notification and the orders view, each in its own
database. The same code serves the three designs (orchestrated, choreographed, hybrid); only the caller
differs.

::

    from stepdance.order import (
        Inventory, Notification, Order, Orders, Payment, open_channel, open_service_db, workload,
    )

    def db(service):                   # <data_dir>/<service>.db, or schema stepdance_<service> on PostgreSQL
        return open_service_db(service, url, data_dir)

    payment = Payment(db("payment"), limit_cents=500_000, faults=faults).create()
    inventory = Inventory(db("inventory"), faults).create()
    notification = Notification(db("notification"), open_channel(None, data_dir), faults).create()
    orders = Orders(db("orders")).create()

    batch = workload.orders(200, decline_rate=0.05, out_of_stock_rate=0.1, seed=7)
    inventory.set_stock(workload.stock_for(batch))

Every mutating method takes a ``Connection`` whose transaction the caller owns (an inbox's
``inbox.once(context)``, so that ``outbox.publish(tx, ...)`` commits with the change), or None to run in a
transaction of its own::

    payment.charge(conn, order) -> dict            # idempotent per order; PaymentDeclined, TransientFailure
    payment.refund(conn, order_id) -> dict | None  # once; None when nothing was charged
    inventory.reserve(conn, order) -> dict         # idempotent per order; OutOfStock, TransientFailure
    inventory.release(conn, order_id) -> dict | None
    notification.send(conn, order_id, kind, to) -> dict   # once per (order, kind); kind in KINDS
    orders.place(conn, order, design) / complete(conn, order_id) / cancel(conn, order_id, reason)

Reads open their own connection: ``payment.get(order_id)``, ``charges()``, ``ledger(order_id)``,
``balance(order_id)``, ``balances()``; ``inventory.stock(sku)``, ``stock_levels()``, ``get(order_id)``,
``reservations()``; ``notification.get(order_id, kind)``, ``sent()``; ``orders.get(order_id)``,
``counts(design=None)``, ``latencies(design=None)`` (with :func:`percentile`). Results are JSON-friendly
dicts with camelCase keys (``orderId``, ``amountCents``, ``status``, ...), ready to be a task's output or
an event's detail; records keep their status (a charge ``charged``/``declined``/``refunded``, a
reservation ``reserved``/``released``/``rejected``, an order ``pending``/``completed``/``cancelled``).
Every service also takes ``clock=`` (seconds since the epoch) for the times it records.

A domain error carries ``.code``, its ASL error name (``PaymentDeclined``, ``OutOfStock``,
``ServiceUnavailable`` for a :class:`TransientFailure`, ...), ``.cause`` and ``.retriable``; an engine task
handler raises ``TaskFailure(error.code, error.cause)``, an event carries ``error.to_json()``. A decline or
stock-out is recorded before it is raised and stays the order's answer: inside a transaction of the
caller's, catch it there to keep the record. :mod:`.workload` makes the orders and stock of a run and
``workload.expected(orders, stock)`` how many must end completed and cancelled, whatever the design.
"""

from stepdance.order import workload
from stepdance.order.channels import (
    KINDS,
    Channel,
    ChannelError,
    FileChannel,
    Message,
    SmtpChannel,
    compose,
    open_channel,
)
from stepdance.order.db import ServiceDbError, open_service_db
from stepdance.order.faults import Faults, Rule
from stepdance.order.inventory import Inventory
from stepdance.order.model import (
    DEFAULT_LIMIT_CENTS,
    InvalidOrder,
    Order,
    OrderError,
    OutOfStock,
    PaymentDeclined,
    ServiceFailure,
    TransientFailure,
    Undeliverable,
    UnknownOrder,
    decline_reason,
)
from stepdance.order.notification import Notification
from stepdance.order.orders import DESIGNS, Orders, percentile
from stepdance.order.payment import Payment

__all__ = [
    "DEFAULT_LIMIT_CENTS",
    "DESIGNS",
    "KINDS",
    "Channel",
    "ChannelError",
    "Faults",
    "FileChannel",
    "InvalidOrder",
    "Inventory",
    "Message",
    "Notification",
    "Order",
    "OrderError",
    "Orders",
    "OutOfStock",
    "Payment",
    "PaymentDeclined",
    "Rule",
    "ServiceDbError",
    "ServiceFailure",
    "SmtpChannel",
    "TransientFailure",
    "Undeliverable",
    "UnknownOrder",
    "compose",
    "decline_reason",
    "open_channel",
    "open_service_db",
    "percentile",
    "workload",
]
