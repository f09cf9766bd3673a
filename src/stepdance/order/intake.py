"""Orders that arrive from outside knowing only some of their fields: an ``OrderCreated`` event put on the
``default`` bus (``source: orders``), or an execution of the order state machine started with
``{"orderId": ...}``. Pure: what an order becomes, no I/O.

A field the caller gives is kept and checked; a missing one takes the value of :data:`DEFAULTS` (one unit of
the plentiful SKU, 10.00 on a good card, an address made from the order id), so the smallest request AWS users
write, ``{"orderId": "o-1"}``, is a whole order::

    order_from({"orderId": "o-1"})                      # Order("o-1", "guest", "o-1@example.com", ...)
    order_from({"orderId": "o-1", "amountCents": 999_999})   # declined later: over the limit

Only ``orderId`` is required; it must also be a valid execution name (the orchestrated design names the
execution after it), which :func:`order_from` does not check: the design that runs the order does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stepdance.order.model import GOOD_CARD, InvalidOrder, Order
from stepdance.order.workload import PLENTY_SKU

INTAKE_SOURCE = "orders"
ORDER_CREATED = "OrderCreated"
INTAKE_PATTERN: dict[str, Any] = {"source": [INTAKE_SOURCE], "detail-type": [ORDER_CREATED]}

DEFAULTS: dict[str, Any] = {
    "customer": "guest",
    "card": GOOD_CARD,
    "amountCents": 1_000,
    "sku": PLENTY_SKU,
    "quantity": 1,
}


def order_from(data: Any) -> Order:
    """The order ``data`` describes, missing fields defaulted; :class:`InvalidOrder` naming the field when
    ``orderId`` is missing or a field has a wrong value."""
    if not isinstance(data, Mapping):
        raise InvalidOrder(f"an order must be a JSON object, not {type(data).__name__}")
    order_id = data.get("orderId")
    if not isinstance(order_id, str) or not order_id:
        raise InvalidOrder(f"order field 'orderId' must be a non-empty string: {order_id!r}")
    filled = {**DEFAULTS, "email": f"{order_id}@example.com", **data}
    return Order.from_json(filled)


def accepted(data: Any) -> dict[str, Any]:
    """``data`` with the order's fields filled in (its other keys kept): the saga's input after intake."""
    order = order_from(data)
    return {**data, **order.to_json()}
