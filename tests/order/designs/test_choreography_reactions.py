"""Each reaction against the real services on SQLite, in a transaction the test owns (as the inbox's), and
what the bus is told when a reaction fails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stepdance.bus import TargetFailure
from stepdance.order import (
    InvalidOrder,
    OutOfStock,
    TransientFailure,
    Undeliverable,
    UnknownOrder,
)
from stepdance.order.designs import choreography_subscriptions as s
from stepdance.order.designs.base import Services, open_services
from stepdance.order.designs.choreography_reactions import ACTIONS, failure
from tests.order.helpers import order

ORDER = order("o-1", sku="sku-a", amount_cents=1_000)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    opened = open_services(None, tmp_path)
    opened.inventory.set_stock({"sku-a": 1})
    yield opened
    opened.dispose()


def react(services: Services, action: str, service: str, detail: dict[str, Any]) -> list[tuple[str, Any]]:
    engine = getattr(services, service).engine
    with engine.begin() as tx:
        return ACTIONS[action](getattr(services, service), tx, detail)


def test_a_decline_is_published_and_its_record_kept(services: Services) -> None:
    declined = order("o-2", card="tok_declined")
    [(kind, detail)] = react(services, "charge", "payment", {"order": declined.to_json()})
    assert kind == s.PAYMENT_DECLINED
    assert detail["error"]["error"] == "PaymentDeclined"
    assert services.payment.get("o-2")["status"] == "declined"  # committed with the transaction


def test_charge_reserve_and_a_stock_out_refunded(services: Services) -> None:
    placed = {"order": ORDER.to_json()}
    [(kind, charged)] = react(services, "charge", "payment", placed)
    assert kind == s.PAYMENT_CHARGED and charged["charge"]["status"] == "charged"
    [(kind, held)] = react(services, "reserve", "inventory", charged)
    assert kind == s.STOCK_RESERVED and held["reservation"]["status"] == "reserved"

    second = order("o-3", sku="sku-a")
    react(services, "charge", "payment", {"order": second.to_json()})
    [(kind, short)] = react(services, "reserve", "inventory", {"order": second.to_json()})
    assert kind == s.OUT_OF_STOCK and short["error"]["error"] == "OutOfStock"
    [(kind, refunded)] = react(services, "refund", "payment", short)
    assert kind == s.PAYMENT_REFUNDED
    assert refunded["refund"]["status"] == "refunded"
    assert refunded["error"] == short["error"]  # why it was refunded travels on
    assert services.payment.balance("o-3") == 0


def test_the_view_and_notification_follow_the_end_of_an_order(services: Services, tmp_path: Path) -> None:
    services.orders.place(None, ORDER, "choreographed")
    error = {"error": "PaymentDeclined", "cause": "card tok_declined declined"}
    assert react(services, "cancel", "orders", {"order": ORDER.to_json(), "error": error}) == []
    assert services.orders.get("o-1")["reason"] == "PaymentDeclined: card tok_declined declined"
    assert react(services, "payment_failed", "notification", {"order": ORDER.to_json()}) == []
    assert [m["kind"] for m in services.notification.sent("o-1")] == ["payment_failed"]


@pytest.mark.parametrize(
    ("error", "code", "retryable"),
    [
        (TransientFailure("payment", "gateway timeout"), "ServiceUnavailable", True),
        (UnknownOrder("o-9"), "UnknownOrder", True),  # the view has not seen it placed yet
        (Undeliverable("550 no such mailbox"), "NotificationUndeliverable", False),
        (OutOfStock("sku-a", 0, 1), "OutOfStock", False),
        (InvalidOrder("order field 'quantity' must be positive: 0"), "MalformedDetail", False),
        (KeyError("order"), "MalformedDetail", False),
    ],
)
def test_what_the_bus_is_told_of_a_failed_reaction(error: Exception, code: str, retryable: bool) -> None:
    told = failure(error)
    assert isinstance(told, TargetFailure)
    assert (told.code, told.retryable) == (code, retryable)


def test_an_unexpected_error_is_left_for_the_bus_to_retry() -> None:
    error = RuntimeError("the database went away")
    assert failure(error) is error
