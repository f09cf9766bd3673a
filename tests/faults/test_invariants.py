"""The invariants, pure: a consistent snapshot passes, and each broken promise is named with its orders."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from stepdance.faults import RULES, Snapshot, check
from stepdance.order import Order

A = Order("o-a", "c", "c@example.com", "tok_visa", 1000, "sku-1", 1)
B = Order("o-b", "c", "c@example.com", "tok_declined", 2000, "sku-1", 1)
C = Order("o-c", "c", "c@example.com", "tok_visa", 3000, "sku-1", 1)


def consistent() -> Snapshot:
    """A completed, B declined, C out of stock and refunded: all as it should be."""
    return Snapshot(
        orders=[A, B, C],
        view={
            "o-a": {"status": "completed", "reason": None, "placedAt": 1.0, "decidedAt": 1.4},
            "o-b": {
                "status": "cancelled",
                "reason": "PaymentDeclined: card declined",
                "placedAt": 1.0,
                "decidedAt": 1.3,
            },
            "o-c": {"status": "cancelled", "reason": "OutOfStock: sku-1", "placedAt": 1.0, "decidedAt": 1.6},
        },
        charges={
            "o-a": {"status": "charged", "chargedAt": 1.1},
            "o-b": {"status": "declined", "chargedAt": 1.1},
            "o-c": {"status": "refunded", "chargedAt": 1.1, "refundedAt": 1.5},
        },
        ledger={
            "o-a": [{"kind": "charge", "amountCents": 1000}],
            "o-c": [{"kind": "charge", "amountCents": 3000}, {"kind": "refund", "amountCents": -3000}],
        },
        reservations={
            "o-a": {"sku": "sku-1", "quantity": 1, "status": "reserved", "reservedAt": 1.2},
            "o-c": {"sku": "sku-1", "quantity": 1, "status": "rejected", "reservedAt": 1.2},
        },
        notified=[("o-a", "confirmed"), ("o-b", "payment_failed"), ("o-c", "cancelled")],
        delivered=[
            ("o-a", "confirmed", "<a>"),
            ("o-b", "payment_failed", "<b>"),
            ("o-c", "cancelled", "<c>"),
        ],
        stocked={"sku-1": 1},
        left={"sku-1": 0},
    )


def test_a_consistent_run_breaks_nothing() -> None:
    assert check(consistent()) == []


def _with(**changes: Any) -> Snapshot:
    return replace(consistent(), **changes)


@pytest.mark.parametrize(
    ("snapshot", "rule", "orders"),
    [
        (_with(view={**consistent().view, "o-a": {"status": "pending"}}), "decided", ("o-a",)),
        (_with(view={k: v for k, v in consistent().view.items() if k != "o-a"}), "lost", ("o-a",)),
        (
            _with(ledger={**consistent().ledger, "o-c": [{"kind": "charge", "amountCents": 3000}]}),
            "money_without_stock",
            ("o-c",),
        ),
        (_with(ledger={"o-c": consistent().ledger["o-c"]}), "stock_without_money", ("o-a",)),
        (
            _with(ledger={**consistent().ledger, "o-a": [{"kind": "charge", "amountCents": 900}]}),
            "paid_in_full",
            ("o-a",),
        ),
        (
            _with(
                reservations={
                    **consistent().reservations,
                    "o-b": {"sku": "sku-1", "quantity": 1, "status": "released"},
                }
            ),
            "declined_never_reserved",
            ("o-b",),
        ),
        (
            _with(ledger={**consistent().ledger, "o-a": [{"kind": "charge", "amountCents": 1000}] * 2}),
            "charged_twice",
            ("o-a",),
        ),
        (
            _with(
                ledger={
                    **consistent().ledger,
                    "o-c": [*consistent().ledger["o-c"], {"kind": "refund", "amountCents": -3000}],
                }
            ),
            "refunded_twice",
            ("o-c",),
        ),
        (
            _with(delivered=[*consistent().delivered, ("o-b", "payment_failed", "<b2>")]),
            "notified_twice",
            ("o-b",),
        ),
        (_with(notified=[("o-a", "confirmed"), ("o-b", "payment_failed")]), "notified", ("o-c",)),
        (_with(notified=[*consistent().notified, ("o-a", "cancelled")]), "notified", ("o-a",)),
        (_with(left={"sku-1": 1}), "stock_adds_up", ("sku-1",)),
        (_with(charges={k: v for k, v in consistent().charges.items() if k != "o-b"}), "path", ("o-b",)),
        (
            _with(
                reservations={
                    **consistent().reservations,
                    "o-a": {**consistent().reservations["o-a"], "reservedAt": 1.05},
                }
            ),
            "path",
            ("o-a",),
        ),
        (
            _with(
                charges={**consistent().charges, "o-c": {**consistent().charges["o-c"], "refundedAt": 1.9}}
            ),
            "path",
            ("o-c",),
        ),
        (
            _with(view={**consistent().view, "o-b": {**consistent().view["o-b"], "reason": ""}}),
            "path",
            ("o-b",),
        ),
    ],
)
def test_each_broken_promise_is_named_with_its_orders(
    snapshot: Snapshot, rule: str, orders: tuple[str, ...]
) -> None:
    found = {v.rule: v for v in check(snapshot)}
    assert rule in RULES and rule in found, found
    assert found[rule].orders == orders
    assert rule in str(found[rule]) and orders[0] in str(found[rule])


def test_an_order_listed_for_a_person_is_not_silently_inconsistent() -> None:
    """A refund that failed for good: the order keeps money without stock and is undecided; listed with its
    reason it breaks nothing, unlisted it breaks both rules."""
    stuck = _with(
        view={**consistent().view, "o-c": {"status": "pending"}},
        charges={**consistent().charges, "o-c": {"status": "charged"}},
        ledger={**consistent().ledger, "o-c": [{"kind": "charge", "amountCents": 3000}]},
        notified=[("o-a", "confirmed"), ("o-b", "payment_failed")],
        delivered=[("o-a", "confirmed", "<a>"), ("o-b", "payment_failed", "<b>")],
    )
    assert {v.rule for v in check(stuck)} == {"decided", "money_without_stock"}
    assert check(replace(stuck, interventions={"o-c": "execution FAILED: ServiceFailed"})) == []


def test_the_same_message_handed_over_again_is_counted_not_a_second_message() -> None:
    again = _with(delivered=[*consistent().delivered, ("o-b", "payment_failed", "<b>")])
    assert check(again) == []
    assert (again.messages, again.resent) == (3, 1)
    assert (consistent().messages, consistent().resent) == (3, 0)


def test_a_path_names_the_step_that_is_missing_or_out_of_order() -> None:
    no_charge = _with(charges={k: v for k, v in consistent().charges.items() if k != "o-b"})
    (found,) = [v for v in check(no_charge) if v.rule == "path"]
    assert found.detail == "cancelled (PaymentDeclined: card declined), but no record of it being declined"
    late = _with(charges={**consistent().charges, "o-c": {**consistent().charges["o-c"], "refundedAt": 1.9}})
    (found,) = [v for v in check(late) if v.rule == "path"]
    assert found.detail == "cancelled at 1.600, before it was refunded at 1.900"


def test_many_orders_breaking_one_rule_make_one_violation_naming_them_all() -> None:
    found = check(_with(view={}))
    assert [(v.rule, v.orders) for v in found] == [("lost", ("o-a", "o-b", "o-c"))]
    assert "3 orders" in found[0].detail
