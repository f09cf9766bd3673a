"""The saga's task handlers: each ASL task resource (``stepdance:payment.charge``, ...) calls one service.

::

    register_tasks(engine, services)     # every resource below, on one engine

==============================  ==============================================  =========================
resource                        input                                           result
==============================  ==============================================  =========================
``stepdance:orders.accept``      ``{"order", "design"}``: as much of the order   the order, its missing
                                 as the caller knows (:mod:`..intake`)           fields defaulted, and
                                                                                 ``placedAt``
``stepdance:payment.charge``     the order (``Order.to_json()``; other keys       the charge
                                 are ignored)
``stepdance:payment.refund``     ``{"orderId"}``                                 the refund, or null when
                                                                                 nothing was charged
``stepdance:inventory.reserve``  the order                                       the reservation
``stepdance:inventory.release``  ``{"orderId"}``                                 the release, or null
``stepdance:notification.send``  ``{"orderId", "kind", "to"}``                   the message's record
``stepdance:orders.complete``    ``{"orderId"}``                                 the order's record
``stepdance:orders.cancel``      ``{"orderId", "error": {"Error", "Cause"}}``    the order's record
                                 (a Catch's output) or ``{"orderId", "reason"}``
==============================  ==============================================  =========================

The handlers are ``async``: they run on the engine's loop and hand the service call to the service's
writer (:mod:`.commits`), and return once its changes are committed: the calls waiting for one service
are written together in one transaction, a task's changes in a savepoint of their own. A domain error fails the task with
its ASL name (``TaskFailure(error.code, error.cause)``: ``PaymentDeclined``, ``OutOfStock``,
``ServiceUnavailable``, ...), which the definition's Retry and Catch match; a bad input fails it with
``InvalidInput``; a database that cannot be reached or is busy with ``ServiceUnavailable``, as a
transient fault of the service.

The engine may invoke a task again after a crash. The handlers need not use the task's idempotency key:
every service keys its effects by the order id (one charge, one reservation, one message per kind, one
decision per order), which holds across re-invocations and also across two executions of one order.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import exc

from stepdance.engine import Engine, TaskFailure
from stepdance.order import crashpoints, intake, tracing
from stepdance.order.designs.base import Services
from stepdance.order.designs.commits import GroupCommit
from stepdance.order.model import (
    InvalidOrder,
    Order,
    OrderError,
    OutOfStock,
    PaymentDeclined,
    TransientFailure,
)

ACCEPT = "stepdance:orders.accept"
CHARGE = "stepdance:payment.charge"
REFUND = "stepdance:payment.refund"
RESERVE = "stepdance:inventory.reserve"
RELEASE = "stepdance:inventory.release"
NOTIFY = "stepdance:notification.send"
COMPLETE = "stepdance:orders.complete"
CANCEL = "stepdance:orders.cancel"

R = TypeVar("R")
Handler = Callable[[Any], Awaitable[Any]]


def task(fn: Callable[[Any], Awaitable[R]], service: str) -> Callable[[Any], Awaitable[R]]:
    """``fn`` (an operation of ``service``) with its errors as task failures named for Retry and Catch,
    traced as the service's span under the task's."""

    @functools.wraps(fn)
    async def run(payload: Any) -> R:
        try:
            with tracing.operation(service, fn.__name__, tracing.order_id_of(payload)):
                return await fn(payload)
        except OrderError as error:
            raise TaskFailure(error.code, error.cause) from None
        except (InvalidOrder, ValueError, KeyError, TypeError) as error:
            raise TaskFailure("InvalidInput", f"{type(error).__name__}: {error}") from None
        except exc.OperationalError as error:
            # the database is away or locked: nothing was committed, so it is a transient fault to retry
            cause = str(error.orig or error).splitlines()[0]
            raise TaskFailure(TransientFailure.code, f"database: {cause}") from None

    return run


@dataclass(frozen=True)
class ServiceCalls:
    """How calls reach each service's database: batched into shared transactions."""

    payment: GroupCommit
    inventory: GroupCommit
    notification: GroupCommit
    orders: GroupCommit

    @classmethod
    def over(cls, services: Services) -> ServiceCalls:
        # a decline and a stock-out are recorded, then raised: their records are the order's answer
        return cls(
            payment=GroupCommit(services.payment.engine, keep=(PaymentDeclined,)),
            inventory=GroupCommit(services.inventory.engine, keep=(OutOfStock,)),
            notification=GroupCommit(services.notification.engine),
            orders=GroupCommit(services.orders.engine),
        )


class SagaTasks:
    """The handlers, over one deployment's services."""

    def __init__(self, services: Services, calls: ServiceCalls | None = None) -> None:
        self.services = services
        self.calls = calls or ServiceCalls.over(services)

    def resources(self) -> dict[str, Handler]:
        """Each task resource and its handler."""
        return {
            ACCEPT: task(self.accept, "orders"),
            CHARGE: task(self.charge, "payment"),
            REFUND: task(self.refund, "payment"),
            RESERVE: task(self.reserve, "inventory"),
            RELEASE: task(self.release, "inventory"),
            NOTIFY: task(self.notify, "notification"),
            COMPLETE: task(self.complete, "orders"),
            CANCEL: task(self.cancel, "orders"),
        }

    async def accept(self, payload: Any) -> dict[str, Any]:
        """The order the execution was started with, its missing fields defaulted, recorded pending in the
        orders view unless it is there already (an earlier attempt placed it), with the time it was placed."""
        order_in = intake.accepted(payload["order"])
        order, design = Order.from_json(order_in), str(payload["design"])
        record = await self.calls.orders.run(lambda tx: self.services.orders.place(tx, order, design))
        return {**order_in, "placedAt": record["placedAt"]}

    async def charge(self, payload: Any) -> dict[str, Any]:
        order = Order.from_json(payload)
        charged = await self.calls.payment.run(lambda tx: self.services.payment.charge(tx, order))
        crashpoints.reach("after_charge_before_ack")  # committed; the engine has not recorded it yet
        return charged

    async def refund(self, payload: Any) -> dict[str, Any] | None:
        order_id = _order_id(payload)
        return await self.calls.payment.run(lambda tx: self.services.payment.refund(tx, order_id))

    async def reserve(self, payload: Any) -> dict[str, Any]:
        order = Order.from_json(payload)
        held = await self.calls.inventory.run(lambda tx: self.services.inventory.reserve(tx, order))
        crashpoints.reach("after_reserve_before_ack")
        return held

    async def release(self, payload: Any) -> dict[str, Any] | None:
        order_id = _order_id(payload)
        return await self.calls.inventory.run(lambda tx: self.services.inventory.release(tx, order_id))

    async def notify(self, payload: Any) -> dict[str, Any]:
        order_id, kind, to = _order_id(payload), str(payload["kind"]), str(payload["to"])
        return await self.calls.notification.run(
            lambda tx: self.services.notification.send(tx, order_id, kind, to)
        )

    async def complete(self, payload: Any) -> dict[str, Any]:
        order_id = _order_id(payload)
        return await self.calls.orders.run(lambda tx: self.services.orders.complete(tx, order_id))

    async def cancel(self, payload: Any) -> dict[str, Any]:
        order_id, reason = _order_id(payload), cancel_reason(payload)
        return await self.calls.orders.run(lambda tx: self.services.orders.cancel(tx, order_id, reason))

    async def place(self, order: Order, design: str) -> dict[str, Any]:
        """Record ``order`` pending in the orders view (through the same calls as the tasks' updates)."""
        return await self.calls.orders.run(lambda tx: self.services.orders.place(tx, order, design))

    def register(self, engine: Engine) -> None:
        """Serve every saga task resource on ``engine``."""
        for resource, handler in self.resources().items():
            engine.register(resource, handler)

    def close(self) -> None:
        """Let the services' writer threads go."""
        for calls in (self.calls.payment, self.calls.inventory, self.calls.notification, self.calls.orders):
            calls.close()


def register_tasks(engine: Engine, services: Services) -> SagaTasks:
    """Register every saga task resource on ``engine``, served by ``services``."""
    tasks = SagaTasks(services)
    tasks.register(engine)
    return tasks


def cancel_reason(payload: dict[str, Any]) -> str:
    """``"OutOfStock: sku-1: 0 left, 1 wanted"`` from a Catch's ``error``, or the ``reason`` given."""
    if "reason" in payload:
        return str(payload["reason"])
    error = payload["error"]
    name, cause = error.get("Error") or "Cancelled", error.get("Cause")
    return f"{name}: {cause}" if cause else str(name)


def _order_id(payload: Any) -> str:
    order_id = payload["orderId"]
    if not isinstance(order_id, str) or not order_id:
        raise InvalidOrder(f"orderId must be a non-empty string, not {order_id!r}")
    return order_id
