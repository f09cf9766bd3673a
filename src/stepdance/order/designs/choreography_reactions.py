"""What each service does when an event it subscribed to arrives: call the service in the consumer's
transaction (the one its inbox record commits in) and say which facts to publish.

A reaction is ``action(service, tx, detail) -> [(detail_type, detail), ...]``. A declined charge or a
stock-out is the order's answer, not a failure: the domain error is caught inside the transaction, so its
record commits with the inbox row, and it goes out as an event (``PaymentDeclined``, ``OutOfStock``). Any
other error leaves the reaction and rolls its savepoint back; :func:`failure` says whether the bus retries it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection

from stepdance.bus import TargetFailure
from stepdance.order.designs import choreography_subscriptions as s
from stepdance.order.inventory import Inventory
from stepdance.order.model import InvalidOrder, Order, OrderError, OutOfStock, PaymentDeclined, UnknownOrder
from stepdance.order.notification import Notification
from stepdance.order.orders import Orders
from stepdance.order.payment import Payment

Fact = tuple[str, dict[str, Any]]  # (detail-type, detail) to publish
Action = Callable[[Any, Connection, Mapping[str, Any]], list[Fact]]


def charge(payment: Payment, tx: Connection, detail: Mapping[str, Any]) -> list[Fact]:
    """OrderPlaced: charge the order; PaymentCharged, or PaymentDeclined."""
    order = _order(detail)
    try:
        charged = payment.charge(tx, order)
    except PaymentDeclined as declined:
        return [(s.PAYMENT_DECLINED, {"order": detail["order"], "error": declined.to_json()})]
    return [(s.PAYMENT_CHARGED, {"order": detail["order"], "charge": charged})]


def refund(payment: Payment, tx: Connection, detail: Mapping[str, Any]) -> list[Fact]:
    """OutOfStock: give the money back; PaymentRefunded, carrying the stock-out that caused it."""
    order = _order(detail)
    refunded = payment.refund(tx, order.order_id)
    return [(s.PAYMENT_REFUNDED, {"order": detail["order"], "refund": refunded, "error": detail["error"]})]


def reserve(inventory: Inventory, tx: Connection, detail: Mapping[str, Any]) -> list[Fact]:
    """PaymentCharged: hold the stock; StockReserved, or OutOfStock."""
    order = _order(detail)
    try:
        held = inventory.reserve(tx, order)
    except OutOfStock as short:
        return [(s.OUT_OF_STOCK, {"order": detail["order"], "error": short.to_json()})]
    return [(s.STOCK_RESERVED, {"order": detail["order"], "reservation": held})]


def complete(orders: Orders, tx: Connection, detail: Mapping[str, Any]) -> list[Fact]:
    """StockReserved: the order is completed."""
    orders.complete(tx, _order(detail).order_id)
    return []


def cancel(orders: Orders, tx: Connection, detail: Mapping[str, Any]) -> list[Fact]:
    """PaymentDeclined or PaymentRefunded: the order is cancelled, for the error that ended it."""
    error = detail["error"]
    orders.cancel(tx, _order(detail).order_id, f"{error['error']}: {error['cause']}")
    return []


def _notify(kind: str) -> Action:
    def notify(notification: Notification, tx: Connection, detail: Mapping[str, Any]) -> list[Fact]:
        order = _order(detail)
        notification.send(tx, order.order_id, kind, order.email)
        return []

    notify.__doc__ = f"Tell the customer the order is {kind}, once."
    return notify


ACTIONS: dict[str, Action] = {
    "charge": charge,
    "refund": refund,
    "reserve": reserve,
    "complete": complete,
    "cancel": cancel,
    "confirmed": _notify("confirmed"),
    "payment_failed": _notify("payment_failed"),
    "cancelled": _notify("cancelled"),
}


def failure(error: Exception) -> Exception:
    """What the bus is told about a reaction that raised: a :class:`TargetFailure` whose ``retryable`` says
    whether a redelivery can help (a transient failure, an order the view has not seen yet: yes; a detail
    that is not an order, an undeliverable message: no, to the dead-letter queue)."""
    if isinstance(error, TargetFailure):
        return error
    if isinstance(error, OrderError):
        return TargetFailure(
            error.code, error.cause, retryable=error.retriable or isinstance(error, UnknownOrder)
        )
    if isinstance(error, InvalidOrder | KeyError):
        return TargetFailure("MalformedDetail", f"{type(error).__name__}: {error}", retryable=False)
    return error  # anything else: the bus retries it, as a Lambda function's failure would be


def _order(detail: Mapping[str, Any]) -> Order:
    """The detail's order, checked (InvalidOrder if it is not one); a fact passes the detail's own JSON on
    rather than the order made again from it."""
    return Order.from_json(detail["order"])
