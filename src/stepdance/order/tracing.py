"""The order's spans: the root of an order's trace, made where it is placed (every design), and one span per
service operation (a task in the orchestration, a reaction in the choreography), a child of the task or
delivery that ran it. ``order.id`` on each is how ``stepdance trace ORDER_ID`` finds an order's trace.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from opentelemetry.trace import SpanKind

from stepdance import telemetry

ORDER_ID = "order.id"


@contextmanager
def placing(order_id: str, design: str) -> Iterator[str | None]:
    """The order's root span, current while it is placed; its traceparent (None: tracing is off)."""
    with telemetry.span(
        f"order {order_id}",
        kind=SpanKind.PRODUCER,
        attributes={ORDER_ID: order_id, "stepdance.design": design, "stepdance.component": "orders"},
        correlation=order_id,
    ):
        yield telemetry.current_traceparent()


def operation(
    service: str, name: str, order_id: str, parent: str | None = None
) -> AbstractContextManager[telemetry.Live]:
    """A service's operation on an order, a child of the current span (or of ``parent``)."""
    return telemetry.span(
        f"{service}.{name}",
        parent=parent,
        kind=SpanKind.SERVER,
        attributes={ORDER_ID: order_id, "stepdance.component": service},
    )


def order_id_of(payload: Any) -> str:
    """The order id a task's input or an event's detail carries (``orderId``, or ``order.orderId``)."""
    if isinstance(payload, Mapping):
        found = payload.get("orderId")
        if found is None and isinstance(payload.get("order"), Mapping):
            found = payload["order"].get("orderId")
        if found is not None:
            return str(found)
    return ""
