from __future__ import annotations

import pytest

from stepdance.order.workload import PLENTY_SKU, SCARCE_SKU, expected, orders, stock_for
from tests.order.helpers import order


def test_the_same_arguments_give_the_same_orders() -> None:
    assert orders(50, seed=1) == orders(50, seed=1)
    assert orders(50, seed=1) != orders(50, seed=2)
    assert [o.order_id for o in orders(3, prefix="run1")] == ["run1-00000", "run1-00001", "run1-00002"]


def test_the_mix_follows_the_rates() -> None:
    batch = orders(2000, decline_rate=0.1, out_of_stock_rate=0.1, seed=5)
    outcome = expected(batch, stock_for(batch))
    assert 150 < outcome["declined"] < 250
    assert 120 < outcome["out_of_stock"] < 220
    assert outcome["completed"] + outcome["cancelled"] == 2000
    assert outcome["cancelled"] == outcome["declined"] + outcome["out_of_stock"]


def test_stock_meets_every_paying_order_of_the_plenty_sku_and_half_of_the_scarce() -> None:
    batch = [order(f"o-{i}", sku=SCARCE_SKU) for i in range(5)] + [
        order("o-p", sku=PLENTY_SKU),
        order("o-d", sku=PLENTY_SKU, card="tok_declined"),
    ]
    assert stock_for(batch) == {PLENTY_SKU: 1, SCARCE_SKU: 2}
    assert expected(batch, stock_for(batch)) == {
        "completed": 3,
        "cancelled": 4,
        "declined": 1,
        "out_of_stock": 3,
    }


def test_no_failures_asked_for_none_expected() -> None:
    batch = orders(300, decline_rate=0.0, out_of_stock_rate=0.0)
    assert expected(batch, stock_for(batch))["cancelled"] == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"count": -1}, "negative"), ({"count": 1, "decline_rate": 2.0}, "decline_rate")],
)
def test_bad_arguments_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        orders(**kwargs)  # type: ignore[arg-type]


def test_expected_counts_single_units_only() -> None:
    with pytest.raises(ValueError, match="o-2 wants 2"):
        expected([order("o-2", quantity=2)], {})
