"""The order services over HTTP under ``stepdance serve`` (what a Cloud Workflows definition calls): each
operation's answer, its domain outcomes as HTTP statuses, idempotency by order id."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from stepdance.order.model import DECLINED_CARD
from tests.api.served import Served, serving


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(
        tmp_path_factory.mktemp("services"), "--stock", "sku-one=1", "--stock", "sku-plenty=100"
    ) as served:
        yield served


@pytest.fixture(scope="module")
def web(server: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{server.url}/services", timeout=30) as client:
        yield client


def an_order(**fields: object) -> dict[str, object]:
    order_id = f"http-{uuid.uuid4().hex[:8]}"
    return {
        "orderId": order_id,
        "customer": "ann",
        "email": "ann@example.com",
        "card": "tok_visa",
        "amountCents": 1250,
        "sku": "sku-plenty",
        "quantity": 1,
        **fields,
    }


def test_an_order_goes_through_the_services_over_http(server: Served, web: httpx.Client) -> None:
    order = an_order()
    accepted = web.post("/orders/accept", json={"order": order, "design": "orchestrated"})
    assert accepted.status_code == 200 and accepted.json()["placedAt"] > 0
    charged = web.post("/payment/charge", json=order)
    assert charged.status_code == 200 and charged.json()["status"] == "charged"
    assert web.post("/payment/charge", json=order).json() == charged.json()  # a retry charges once
    assert web.post("/inventory/reserve", json=order).json()["status"] == "reserved"
    assert web.post("/orders/complete", json={"orderId": order["orderId"]}).json()["status"] == "completed"
    sent = web.post(
        "/notification/send", json={"orderId": order["orderId"], "kind": "confirmed", "to": "ann@example.com"}
    )
    assert sent.status_code == 200 and sent.json()["messageId"]
    record = server.orders_record(str(order["orderId"]))
    assert record is not None and record["status"] == "completed"


def test_domain_outcomes_are_statuses_a_retry_policy_can_tell_apart(web: httpx.Client) -> None:
    declined = web.post("/payment/charge", json=an_order(card=DECLINED_CARD))
    assert declined.status_code == 402 and declined.json()["error"] == "PaymentDeclined"
    first, second = an_order(sku="sku-one"), an_order(sku="sku-one")
    for order in (first, second):
        web.post("/payment/charge", json=order)
    assert web.post("/inventory/reserve", json=first).status_code == 200
    short = web.post("/inventory/reserve", json=second)
    assert short.status_code == 409 and short.json() == {
        "error": "OutOfStock",
        "cause": "sku-one: 0 left, 1 wanted",
    }
    refunded = web.post("/payment/refund", json={"orderId": second["orderId"]})
    assert refunded.status_code == 200 and refunded.json()["status"] == "refunded"
    assert web.post("/inventory/release", json={"orderId": "never-reserved"}).json() is None


def test_bad_requests_name_what_is_wrong(web: httpx.Client) -> None:
    assert web.post("/payment/charge", content=b"{not json").status_code == 400
    missing = web.post("/payment/charge", json={"orderId": "x"})
    assert missing.status_code == 400 and missing.json()["error"] == "InvalidInput"
    unknown = web.post("/payment/launder", json={})
    assert unknown.status_code == 404 and "payment/charge" in unknown.json()["cause"]
    assert web.post("/orders/complete", json={"orderId": "nobody"}).status_code == 404
