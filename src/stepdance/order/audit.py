"""What every design must leave behind, read from the services' own data: every order decided; a completed
order charged its amount, holding its stock and told once that it is confirmed; a cancelled one keeping no
money and no stock (and, when declined, never reserved), told once why; no message delivered twice; stock
that adds up. Later issues grow these into scenario invariants; this is what the demo and the end-to-end
tests check today.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from stepdance.order.channels import FileChannel
from stepdance.order.designs.base import Services
from stepdance.order.model import Order


def all_notified(services: Services, batch: Sequence[Order]) -> bool:
    """Whether every order of ``batch`` has had its message (it goes out after the decision)."""
    return len(services.notification.sent()) >= len(batch)


def audit(
    services: Services, batch: Sequence[Order], levels: dict[str, int], sent: FileChannel | None = None
) -> list[str]:
    """Every broken promise: an order not decided; a completed one not charged, reserved and confirmed; a
    cancelled one keeping money or stock, or reserved after a decline; anything done twice; stock that
    does not add up."""
    problems: list[str] = []
    charges, balances = services.payment.charges(), services.payment.balances()
    reservations = services.inventory.reservations()
    kinds: dict[str, set[str]] = {}
    for record in services.notification.sent():
        kinds.setdefault(record["orderId"], set()).add(record["kind"])
    if sent is not None:
        delivered = Counter((m["orderId"], m["kind"]) for m in sent.messages())
        problems += [f"{key} delivered {n} times" for key, n in delivered.items() if n > 1]
    for order in batch:
        oid = order.order_id
        view = services.orders.get(oid)
        status = view["status"] if view else "never placed"
        charge, held = charges.get(oid), reservations.get(oid)
        paid, notified = balances.get(oid, 0), kinds.get(oid, set())
        if status == "completed":
            if (charge or {}).get("status") != "charged" or paid != order.amount_cents:
                problems.append(f"{oid} completed but paid {paid} of {order.amount_cents} ({charge})")
            if (held or {}).get("status") != "reserved":
                problems.append(f"{oid} completed without stock: {held}")
            if notified != {"confirmed"}:
                problems.append(f"{oid} completed, notified {sorted(notified)}")
        elif status == "cancelled":
            declined = (view or {}).get("reason", "").startswith("PaymentDeclined")
            if paid != 0:
                problems.append(f"{oid} cancelled but keeps {paid} cents")
            if held is not None and held["status"] == "reserved":
                problems.append(f"{oid} cancelled but holds stock")
            if declined and held is not None:
                problems.append(f"{oid} declined but reserved: {held}")
            if notified != {"payment_failed" if declined else "cancelled"}:
                problems.append(f"{oid} cancelled ({view and view['reason']}), notified {sorted(notified)}")
        else:
            problems.append(f"{oid} is {status}")
    taken = Counter(r["sku"] for r in reservations.values() if r["status"] == "reserved")
    for sku, units in levels.items():
        left = services.inventory.stock(sku)
        if left != units - taken[sku]:
            problems.append(f"{sku}: {left} left, {units} stocked - {taken[sku]} reserved")
    return problems
