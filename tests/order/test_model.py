from __future__ import annotations

import pytest

from stepdance.order.model import (
    DEFAULT_LIMIT_CENTS,
    InvalidOrder,
    Order,
    OutOfStock,
    PaymentDeclined,
    TransientFailure,
    Undeliverable,
    UnknownOrder,
    decline_reason,
    money,
)
from tests.order.helpers import order


def test_an_order_round_trips_through_json_with_camel_case_keys() -> None:
    placed = order("o-7", amount_cents=999, quantity=3)
    data = placed.to_json()
    assert data == {
        "orderId": "o-7",
        "customer": "ann",
        "email": "ann@example.com",
        "card": "tok_visa",
        "amountCents": 999,
        "sku": "sku-a",
        "quantity": 3,
    }
    assert Order.from_json({**data, "extra": "ignored"}) == placed


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"orderId": "o-1"}, "'customer'"),
        ("not an object", "JSON object"),
        ({**order().to_json(), "amountCents": "12"}, "'amountCents' must be int"),
        ({**order().to_json(), "quantity": True}, "'quantity' must be int"),
        ({**order().to_json(), "quantity": 0}, "'quantity' must be positive"),
        ({**order().to_json(), "amountCents": -5}, "'amountCents' must be positive"),
        ({**order().to_json(), "orderId": ""}, "'orderId' must not be empty"),
    ],
)
def test_a_bad_order_is_refused_naming_the_field(data: object, named: str) -> None:
    with pytest.raises(InvalidOrder, match=named):
        Order.from_json(data)


def test_decline_rules_card_tokens_then_the_limit() -> None:
    assert decline_reason("tok_visa", 100) is None
    assert decline_reason("tok_declined", 100) == "card tok_declined declined"
    assert decline_reason("tok_chargeDeclinedInsufficientFunds", 100) is not None
    assert decline_reason("tok_visa", DEFAULT_LIMIT_CENTS) is None
    assert decline_reason("tok_visa", DEFAULT_LIMIT_CENTS + 1) == "amount 5,000.01 over the limit 5,000.00"
    assert decline_reason("tok_visa", 2_000, limit=1_000) == "amount 20.00 over the limit 10.00"


def test_errors_carry_stable_codes_and_causes() -> None:
    assert PaymentDeclined("card tok_declined declined").to_json() == {
        "error": "PaymentDeclined",
        "cause": "card tok_declined declined",
    }
    stock_out = OutOfStock("sku-a", 2, 5)
    assert (stock_out.code, stock_out.cause) == ("OutOfStock", "sku-a: 2 left, 5 wanted")
    transient = TransientFailure("payment", "gateway timed out")
    assert (transient.code, transient.retriable, str(transient)) == (
        "ServiceUnavailable",
        True,
        "payment: gateway timed out",
    )
    assert not PaymentDeclined("x").retriable
    assert Undeliverable("x").code == "NotificationUndeliverable"
    assert UnknownOrder("o-9").code == "UnknownOrder"


def test_money_formats_cents() -> None:
    assert [money(0), money(5), money(123_456_78), money(-250)] == ["0.00", "0.05", "123,456.78", "-2.50"]
