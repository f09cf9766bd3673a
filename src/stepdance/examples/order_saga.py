"""The demo's order saga: three toy services behind task handlers, and the ASL definition that drives them.

The services keep their state in memory for one run and are idempotent by order, so a task re-invoked after
a crash does not charge or reserve twice. Declines, stock-outs and a flaky payment gateway are decided by
the order itself (its card, amount and SKU), so a run is reproducible.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from stepdance.engine import Engine, TaskContext, TaskFailure

DEFINITION = resources.files(__package__).joinpath("order_saga.asl.json").read_text(encoding="utf-8")
DECLINED_CARD = "tok_declined"
AMOUNT_LIMIT = 5_000


@dataclass
class Services:
    """Payment, inventory and notification, with the data an auditor would read."""

    stock: dict[str, int]
    charges: dict[str, int] = field(default_factory=dict)
    refunds: set[str] = field(default_factory=set)
    reservations: dict[str, tuple[str, int]] = field(default_factory=dict)
    sent: set[str] = field(default_factory=set)
    attempts: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def charge(self, payload: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
        order = payload["orderId"]
        with self.lock:
            self.attempts[order] = self.attempts.get(order, 0) + 1
            if payload["card"] == DECLINED_CARD or payload["amount"] > AMOUNT_LIMIT:
                raise TaskFailure(
                    "PaymentDeclined", f"card {payload['card']} declined for {payload['amount']}"
                )
            # Every tenth order meets a gateway hiccup on its first attempt; the Retry absorbs it.
            if order.endswith("7") and self.attempts[order] == 1:
                raise TaskFailure("PaymentUnavailable", "the payment gateway timed out")
            self.charges.setdefault(order, payload["amount"])
        return {"chargeId": f"ch_{ctx.idempotency_key[:8]}", "amount": payload["amount"]}

    def refund(self, payload: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.refunds.add(payload["orderId"])
        return {"refunded": payload["chargeId"]}

    def reserve(self, payload: dict[str, Any]) -> dict[str, Any]:
        order, sku, quantity = payload["orderId"], payload["sku"], payload["quantity"]
        with self.lock:
            if order not in self.reservations:
                if self.stock.get(sku, 0) < quantity:
                    raise TaskFailure(
                        "OutOfStock", f"{sku}: {self.stock.get(sku, 0)} left, {quantity} wanted"
                    )
                self.stock[sku] -= quantity
                self.reservations[order] = (sku, quantity)
        return {"sku": sku, "quantity": quantity}

    def send(self, payload: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.sent.add(f"{payload['orderId']}:{payload['kind']}")
        return {"sent": True}

    def register(self, engine: Engine) -> None:
        engine.register("demo:payment.charge", self.charge)
        engine.register("demo:payment.refund", self.refund)
        engine.register("demo:inventory.reserve", self.reserve)
        engine.register("demo:notification.send", self.send)


def orders(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """A reproducible mix: mostly good orders, some declined cards, more demand than stock for one SKU."""
    rng = random.Random(seed)
    result = []
    for i in range(count):
        card = DECLINED_CARD if rng.random() < 0.08 else "tok_visa"
        sku = "sku-limited" if rng.random() < 0.2 else "sku-plenty"
        result.append(
            {
                "orderId": f"order-{i:05d}",
                "amount": rng.randint(5, 400),
                "card": card,
                "sku": sku,
                "quantity": 1,
            }
        )
    return result


def stock_for(count: int) -> dict[str, int]:
    """Enough of one SKU for everyone, and of the other for about half of those who want it."""
    return {"sku-plenty": count, "sku-limited": max(1, count // 10)}
