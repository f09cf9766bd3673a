"""The choreography as data: which events each service publishes, which it reacts to, and the event pattern
of its rule. Pure: no service is called here (:mod:`.choreography_reactions` holds what each reaction does),
so the flow can be drawn, checked and tested without a bus.

=======================  ===================  ============  ==============================================
source                   detail-type          published by  reacted to by
=======================  ===================  ============  ==============================================
``stepdance.orders``     ``OrderPlaced``      orders        payment (charge)
``stepdance.payment``    ``PaymentCharged``   payment       inventory (reserve)
``stepdance.payment``    ``PaymentDeclined``  payment       orders (cancel), notification (payment_failed)
``stepdance.inventory``  ``StockReserved``    inventory     orders (complete), notification (confirmed)
``stepdance.inventory``  ``OutOfStock``       inventory     payment (refund)
``stepdance.payment``    ``PaymentRefunded``  payment       orders (cancel), notification (cancelled)
=======================  ===================  ============  ==============================================

Every detail carries the order (``Order.to_json()``) under ``order`` and the outcome beside it: ``charge``,
``reservation`` or ``refund`` (the service's record), or ``error`` (``{"error": code, "cause": ...}``, the
domain error's ``to_json()``; a refund carries the stock-out that caused it).

Notification reacts to the three facts that end an order, as the orders view does, not to events the view
would publish after deciding (``OrderCompleted``/``OrderCancelled``):

- the view stays a read model: it records what happened and takes no part in the flow;
- one hop less per order, hence lower latency, and one event less (every event on a bus is fetched by
  every target's consumer group, so an event costs a delivery per subscribing service);
- the two cannot disagree: an order meets exactly one of the three facts (a charge is decided once, a
  reservation is decided once, and a refund follows only a stock-out), and each is final.

Each service has ONE rule and one target (its consumer group): every event on the bus is fetched by each
group, so a rule per reaction would multiply the deliveries for nothing. The rule's pattern is the ``$or``
of the service's reactions, one branch per source.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import orjson

ORDERS_SOURCE = "stepdance.orders"
PAYMENT_SOURCE = "stepdance.payment"
INVENTORY_SOURCE = "stepdance.inventory"

ORDER_PLACED = "OrderPlaced"
PAYMENT_CHARGED = "PaymentCharged"
PAYMENT_DECLINED = "PaymentDeclined"
PAYMENT_REFUNDED = "PaymentRefunded"
STOCK_RESERVED = "StockReserved"
OUT_OF_STOCK = "OutOfStock"

DEFAULT_EVENT_BUS = "stepdance-choreographed"
NAME_PREFIX = "choreographed"  # rules, targets and handlers: apart from other designs' on a shared catalog


@dataclass(frozen=True, slots=True)
class Reaction:
    """``service`` reacts to ``detail_type`` events from ``source`` by ``action`` (a name in
    :data:`~stepdance.order.designs.choreography_reactions.ACTIONS`)."""

    service: str
    source: str
    detail_type: str
    action: str


REACTIONS: tuple[Reaction, ...] = (
    Reaction("payment", ORDERS_SOURCE, ORDER_PLACED, "charge"),
    Reaction("payment", INVENTORY_SOURCE, OUT_OF_STOCK, "refund"),
    Reaction("inventory", PAYMENT_SOURCE, PAYMENT_CHARGED, "reserve"),
    Reaction("orders", INVENTORY_SOURCE, STOCK_RESERVED, "complete"),
    Reaction("orders", PAYMENT_SOURCE, PAYMENT_DECLINED, "cancel"),
    Reaction("orders", PAYMENT_SOURCE, PAYMENT_REFUNDED, "cancel"),
    Reaction("notification", INVENTORY_SOURCE, STOCK_RESERVED, "confirmed"),
    Reaction("notification", PAYMENT_SOURCE, PAYMENT_DECLINED, "payment_failed"),
    Reaction("notification", PAYMENT_SOURCE, PAYMENT_REFUNDED, "cancelled"),
)

# What each service publishes, through its own outbox (notification publishes nothing).
PUBLISHES: dict[str, tuple[str, ...]] = {
    "orders": (ORDER_PLACED,),
    "payment": (PAYMENT_CHARGED, PAYMENT_DECLINED, PAYMENT_REFUNDED),
    "inventory": (STOCK_RESERVED, OUT_OF_STOCK),
    "notification": (),
}
PARTICIPANTS = ("orders", "payment", "inventory", "notification")
# Each target's redelivery budget (PutTargets' MaximumRetryAttempts), the same as the orchestrated saga's
# Retry gives the same step (MaxAttempts counts retries there too): past it, the event is dead-lettered for
# a person, where the state machine would fail the execution.
RETRY_ATTEMPTS = {"payment": 4, "inventory": 4, "notification": 6, "orders": 10}


def source(service: str) -> str:
    """The source of the events ``service`` publishes: ``stepdance.<service>``."""
    return f"stepdance.{service}"


def reactions(service: str) -> tuple[Reaction, ...]:
    """What ``service`` reacts to, in table order."""
    return tuple(r for r in REACTIONS if r.service == service)


def pattern(service: str) -> dict[str, Any]:
    """The event pattern of ``service``'s rule: its reactions, one ``$or`` branch per source."""
    by_source: dict[str, list[str]] = {}
    for reaction in reactions(service):
        by_source.setdefault(reaction.source, []).append(reaction.detail_type)
    branches = [{"source": [s], "detail-type": types} for s, types in by_source.items()]
    if not branches:
        raise ValueError(f"the {service} service reacts to nothing in the choreography")
    return branches[0] if len(branches) == 1 else {"$or": branches}


def pattern_text(service: str) -> str:
    return json.dumps(pattern(service), separators=(",", ":"))


def rule_name(service: str) -> str:
    """The name of ``service``'s rule (its target is named after the service)."""
    return f"{NAME_PREFIX}-{service}"


def handler_name(service: str) -> str:
    """The name ``service``'s batch handler is registered under (its target's Lambda-style ARN)."""
    return f"{NAME_PREFIX}-{service}"


def entry(service: str, detail_type: str, detail: dict[str, Any], event_bus: str) -> dict[str, Any]:
    """The PutEvents entry of a fact ``service`` publishes."""
    if detail_type not in PUBLISHES[service]:
        raise ValueError(f"the {service} service does not publish {detail_type}")
    return {
        "Source": source(service),
        "DetailType": detail_type,
        "Detail": orjson.dumps(detail).decode(),
        "EventBusName": event_bus,
    }
