"""The promises every design must keep, checked from the services' own data after a run. Pure: a
:class:`Snapshot` (read by :func:`stepdance.faults.evidence.snapshot`) in, the :class:`Violation` list out,
each naming its rule and the orders that break it.

The rules:

- ``decided``: every accepted order ends completed or cancelled, or is listed as needing intervention with
  the reason (a dead-lettered event, a failed execution);
- ``lost``: every accepted order is in the orders view;
- ``money_without_stock`` / ``stock_without_money``: an order keeps money only with its stock reserved and
  holds stock only when paid, unless it is listed for intervention (a refund that failed for good leaves
  money to give back by hand; it must be listed, never silent);
- ``paid_in_full``: a completed order paid exactly its amount; a cancelled one keeps nothing;
- ``declined_never_reserved``: a declined payment took no stock;
- ``charged_twice`` / ``refunded_twice``: at most one charge and one refund in the ledger per order;
- ``notified_twice``: the customer got at most one message per order and kind: two different messages
  (Message-IDs) for one order and kind break it. The same message handed to the channel again is not a
  second message to its reader (mail systems keep one per Message-ID) but it is counted
  (:attr:`Snapshot.resent`) and shown: it happens when the database fails between the channel taking the
  message and the record of it committing, a window a database and a mail server cannot share a
  transaction over (see :mod:`stepdance.order.notification`);
- ``notified``: a decided order was told its outcome (confirmed, cancelled or payment_failed), unless listed;
- ``stock_adds_up``: per SKU, units stocked = units left + units held by reservations;
- ``path``: a decided order's path can be followed end to end from the services' records, each step after
  the one that caused it: completed = placed, charged, reserved, decided; cancelled for a decline = placed,
  declined, decided; cancelled for a stock-out = placed, charged, rejected, refunded, decided; any other
  cancellation names its reason. (When the message went out is not part of it: in the choreography the
  notification reacts to the same event as the decision, in parallel.)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from stepdance.order.model import Order

COMPLETED, CANCELLED = "completed", "cancelled"
RULES = (
    "decided",
    "lost",
    "money_without_stock",
    "stock_without_money",
    "paid_in_full",
    "declined_never_reserved",
    "charged_twice",
    "refunded_twice",
    "notified_twice",
    "notified",
    "stock_adds_up",
    "path",
)
CLOCK_SLACK = 0.002  # seconds: the services' clocks are one machine's, read in different processes


@dataclass(frozen=True)
class Snapshot:
    """What the services' databases (and the notification channel) hold after a run."""

    orders: Sequence[Order]  # the orders the run placed (accepted)
    view: Mapping[str, Mapping[str, Any]]  # the orders view: order id -> {status, reason, ...}
    charges: Mapping[str, Mapping[str, Any]]  # payment: order id -> {status, amountCents, ...}
    ledger: Mapping[str, Sequence[Mapping[str, Any]]]  # payment: order id -> [{kind, amountCents}, ...]
    reservations: Mapping[str, Mapping[str, Any]]  # inventory: order id -> {sku, quantity, status}
    notified: Sequence[tuple[str, str]]  # notification records: (order id, kind)
    delivered: Sequence[tuple[str, str, str]]  # what left through the channel: (order id, kind, Message-ID)
    stocked: Mapping[str, int]  # units per SKU before the run
    left: Mapping[str, int]  # units per SKU after it
    interventions: Mapping[str, str] = field(default_factory=dict)  # order id -> why a person must act
    sent_at: Mapping[str, float] = field(default_factory=dict)  # order id -> when its last message went out

    @property
    def messages(self) -> int:
        """Different messages that left through the channel."""
        return len(set(self.delivered))

    @property
    def resent(self) -> int:
        """Messages handed to the channel again (the same Message-ID once more)."""
        return len(self.delivered) - self.messages


@dataclass(frozen=True)
class Violation:
    rule: str
    orders: tuple[str, ...]
    detail: str

    def __str__(self) -> str:
        shown = ", ".join(self.orders[:5]) + (
            f" and {len(self.orders) - 5} more" if len(self.orders) > 5 else ""
        )
        return f"{self.rule}: {self.detail}" + (f" ({shown})" if shown else "")


def check(snapshot: Snapshot) -> list[Violation]:
    """Every rule ``snapshot`` breaks, one Violation per rule (naming all the orders that break it)."""
    broken: dict[str, dict[str, str]] = {rule: {} for rule in RULES}  # rule -> order -> what

    def flag(rule: str, order_id: str, what: str) -> None:
        broken[rule].setdefault(order_id, what)

    listed = snapshot.interventions
    balances = {oid: sum(int(e["amountCents"]) for e in entries) for oid, entries in snapshot.ledger.items()}
    kinds: dict[str, set[str]] = {}
    for order_id, kind in snapshot.notified:
        kinds.setdefault(order_id, set()).add(kind)
    for order in snapshot.orders:
        oid = order.order_id
        view = snapshot.view.get(oid)
        if view is None:
            flag("lost", oid, "accepted but not in the orders view")
            continue
        status = str(view.get("status"))
        paid = balances.get(oid, 0)
        held = (snapshot.reservations.get(oid) or {}).get("status") == "reserved"
        charge = snapshot.charges.get(oid) or {}
        if status not in (COMPLETED, CANCELLED) and oid not in listed:
            flag("decided", oid, f"{status}, and not listed for intervention")
        if oid not in listed:
            if paid > 0 and not held:
                flag("money_without_stock", oid, f"keeps {paid} cents without stock")
            if held and paid <= 0:
                flag("stock_without_money", oid, "holds stock, paid nothing")
        if status == COMPLETED and (paid != order.amount_cents or not held):
            flag("paid_in_full", oid, f"completed, paid {paid} of {order.amount_cents}, stock held: {held}")
        if status == CANCELLED and oid not in listed and (paid != 0 or held):
            flag("paid_in_full", oid, f"cancelled, keeps {paid} cents, stock held: {held}")
        if charge.get("status") == "declined" and oid in snapshot.reservations:
            flag("declined_never_reserved", oid, "declined, yet reserved")
        entries = Counter(str(e["kind"]) for e in snapshot.ledger.get(oid, ()))
        if entries["charge"] > 1:
            flag("charged_twice", oid, f"{entries['charge']} charges")
        if entries["refund"] > 1:
            flag("refunded_twice", oid, f"{entries['refund']} refunds")
        if status in (COMPLETED, CANCELLED) and oid not in listed:
            gap = _gap_in_path(view, charge, snapshot.reservations.get(oid) or {})
            if gap is not None:
                flag("path", oid, gap)
        wanted = _message_for(status, str(view.get("reason") or ""))
        if wanted is not None and oid not in listed and kinds.get(oid, set()) != {wanted}:
            flag("notified", oid, f"{status}, told {sorted(kinds.get(oid, set()))}, not [{wanted!r}]")
    different: dict[tuple[str, str], set[str]] = {}
    for oid, kind, message_id in snapshot.delivered:
        different.setdefault((oid, kind), set()).add(message_id)
    for (oid, kind), ids in different.items():
        if len(ids) > 1:
            flag("notified_twice", oid, f"{kind!r} sent as {len(ids)} different messages")
    held_units: Counter[str] = Counter()
    for record in snapshot.reservations.values():
        if record.get("status") == "reserved":
            held_units[str(record["sku"])] += int(record["quantity"])
    for sku, units in snapshot.stocked.items():
        left = snapshot.left.get(sku, 0)
        if units != left + held_units[sku]:
            flag("stock_adds_up", sku, f"{sku}: {units} stocked != {left} left + {held_units[sku]} held")
    return [Violation(rule, tuple(sorted(found)), _summary(found)) for rule, found in broken.items() if found]


def _gap_in_path(
    view: Mapping[str, Any], charge: Mapping[str, Any], reservation: Mapping[str, Any]
) -> str | None:
    """Where a decided order's path cannot be followed (a step missing, or recorded before its cause);
    None when it can."""
    status, reason = str(view["status"]), str(view.get("reason") or "")
    steps: list[tuple[str, Any]] = [("placed", view.get("placedAt"))]
    if status == COMPLETED:
        steps += [("charged", _when(charge, "chargedAt", ("charged",)))]
        steps += [("reserved", _when(reservation, "reservedAt", ("reserved",)))]
    elif reason.startswith("PaymentDeclined"):
        steps += [("declined", _when(charge, "chargedAt", ("declined",)))]
    elif reason.startswith("OutOfStock"):
        steps += [("charged", _when(charge, "chargedAt", ("refunded",)))]
        steps += [("rejected", _when(reservation, "reservedAt", ("rejected",)))]
        steps += [("refunded", _when(charge, "refundedAt", ("refunded",)))]
    elif not reason:
        return "cancelled without a reason"
    steps.append((status, view.get("decidedAt")))
    for (name, at), (before, then) in zip(steps[1:], steps, strict=False):
        if at is None:
            return f"{status} ({reason or 'no reason'}), but no record of it being {name}"
        if then is not None and float(at) < float(then) - CLOCK_SLACK:
            return f"{name} at {float(at):.3f}, before it was {before} at {float(then):.3f}"
    return None


def _when(record: Mapping[str, Any], key: str, statuses: tuple[str, ...]) -> Any:
    """``record[key]`` if the record is in one of ``statuses``; None (the step is missing) otherwise."""
    return record.get(key) if record.get("status") in statuses else None


def _message_for(status: str, reason: str) -> str | None:
    if status == COMPLETED:
        return "confirmed"
    if status == CANCELLED:
        return "payment_failed" if reason.startswith("PaymentDeclined") else "cancelled"
    return None


def _summary(found: Mapping[str, str]) -> str:
    first = next(iter(found.values()))
    return first if len(found) == 1 else f"{len(found)} orders, e.g. {first}"
